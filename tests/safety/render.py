"""The hazard log as Markdown (docs/safety/hazard-log.md) and as `make safety` prints it."""

import json
from pathlib import Path

from tests.safety.hazard_log import (
    RISK_MEANING,
    ROOT,
    Hazard,
    Risk,
    load_log,
)
from tests.safety.plugin import results_path

LOG_MARKDOWN = ROOT / "docs" / "safety" / "hazard-log.md"
PASSES = ("sqlite", "postgresql")
HEADER = """\
# Hazard log

<!-- Generated from docs/safety/hazards/*.toml by `make safety`; edit those files, not this. -->

Bleep's hazard log under DCB0129, kept as the
[clinical risk management plan](clinical-risk-management-plan.md) says. Each hazard is
rated on DCB0129's 5×5 matrix before and after its controls; every control that is not an
instruction names the tests that fail without it, and each of those tests carries
`@pytest.mark.hazard("<id>")`. `make safety` runs them on both backends and prints this
log with each test's latest result.

| id | hazard | initial | residual | status |
|---|---|---|---|---|
"""


def render_markdown(hazards: list[Hazard]) -> str:
    """Return the whole hazard log as Markdown."""
    rows = [
        f"| [{h.id}](#{h.id.lower()}) | {h.title} | {_risk(h.initial)} | {_risk(h.residual)} "
        f"| {h.status} |"
        for h in hazards
    ]
    sections = [_section(hazard) for hazard in hazards]
    return HEADER + "\n".join(rows) + "\n\n" + "\n".join(sections)


def _risk(risk: Risk) -> str:
    return f"{risk.rating} ({risk.severity} × {risk.likelihood.lower()})"


def _section(hazard: Hazard) -> str:
    lines = [f"## {hazard.id}", "", f"**{hazard.title}**", ""]
    if hazard.found:
        lines += [f"*Found:* {hazard.found}", ""]
    lines += ["*Causes:*", ""] + [f"- {cause}" for cause in hazard.causes] + [""]
    lines += [f"*Effect:* {hazard.effect}", "", f"*Possible harm:* {hazard.harm}", ""]
    lines += [
        f"*Initial risk:* {_risk(hazard.initial)}: {RISK_MEANING[hazard.initial.rating]}.",
        "",
        "*Controls:*",
        "",
    ]
    for control in hazard.controls:
        lines.append(f"- **{control.kind}**: {control.text}")
        if control.where:
            lines.append(f"  - instruction: {control.where}")
        lines += [f"  - test: `{test}`" for test in control.tests]
    lines += [
        "",
        f"*Residual risk:* {_risk(hazard.residual)}: {RISK_MEANING[hazard.residual.rating]}.",
        "",
        f"*Status:* {hazard.status}.",
        "",
    ]
    if hazard.notes:
        lines += [hazard.notes.strip(), ""]
    return "\n".join(lines)


def latest_results() -> dict[str, dict[str, str]]:
    """Return each pass's latest outcome of each proving test (passes never run are absent)."""
    results = {}
    for name in PASSES:
        try:
            tests = json.loads(results_path(name).read_text())["tests"]
        except (OSError, ValueError, KeyError):
            continue
        results[name] = {test: entry["outcome"] for test, entry in tests.items()}
    return results


def report(hazards: list[Hazard], results: dict[str, dict[str, str]]) -> tuple[str, bool]:
    """Return the log as `make safety` prints it, and whether every hazard is proven."""
    lines, unproven = [], []
    for hazard in hazards:
        lines.append(
            f"{hazard.id}  {hazard.title}\n"
            f"       risk {hazard.initial.rating} -> {hazard.residual.rating}, {hazard.status}"
        )
        for control in hazard.controls:
            lines.append(f"   {control.kind}: {_short(control.text)}")
            lines += [f"      {_outcomes(test, results)}  {test}" for test in control.tests]
            if control.where:
                lines.append(f"      instruction: {control.where}")
        if not _proven(hazard, results):
            unproven.append(hazard.id)
    verdict = (
        f"{len(hazards)} hazards; every one has a control with a passing test"
        if not unproven
        else f"{len(hazards)} hazards; NOT PROVEN: {', '.join(unproven)}"
    )
    passes = ", ".join(results) or "none: run `make safety`"
    return "\n".join([*lines, "", f"latest results from: {passes}", verdict]), not unproven


def _short(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _outcomes(test: str, results: dict[str, dict[str, str]]) -> str:
    return " ".join(f"{name}:{results[name].get(test, 'not run'):<7}" for name in results)


def _proven(hazard: Hazard, results: dict[str, dict[str, str]]) -> bool:
    """A hazard is proven when a test of its passed and none of them failed, in every pass."""
    outcomes = [results[name].get(test) for name in results for test in hazard.tests]
    return "passed" in outcomes and "failed" not in outcomes and hazard.status == "closed"


def write_markdown(path: Path = LOG_MARKDOWN) -> None:
    """Write the Markdown log from the hazard files."""
    path.write_text(render_markdown(load_log()))
