"""Pytest hooks: refuse a hazard marker the log does not know, and keep each proving test's
latest result in data/safety/ for `make safety`."""

import json
import os
import re
from collections.abc import Generator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.safety.hazard_log import ROOT, load_log

RESULTS_DIR = Path(os.environ.get("BLEEP_DATA_DIR", ROOT / "data")) / "safety"
PARAMETERS = re.compile(r"\[.*\]$")
# Each proving case's outcome: the worst of its phases (setup, call, teardown).
CASES = pytest.StashKey[dict[str, str]]()
PHASE_RANK = {"passed": 0, "skipped": 1, "failed": 2}


def backend() -> str:
    """Name the pass the suite runs in, as `make test` does."""
    return "postgresql" if os.environ.get("DATABASE_URL") else "sqlite"


def results_path(name: str) -> Path:
    """Return where the latest results of one pass are kept."""
    return RESULTS_DIR / f"results-{name}.json"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse to run a test whose hazard marker names no hazard in the log."""
    known = {hazard.id for hazard in load_log()}
    for item in items:
        for mark in item.iter_markers("hazard"):
            unknown = [hazard for hazard in mark.args if hazard not in known]
            if unknown or not mark.args:
                raise pytest.UsageError(
                    f"{item.nodeid}: @pytest.mark.hazard names {unknown or 'nothing'};"
                    " the log (docs/safety/hazards/) knows " + ", ".join(sorted(known))
                )
    config.stash[CASES] = {}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Note the outcome of each phase of a proving test."""
    report = yield
    if item.get_closest_marker("hazard") is not None:
        cases = item.config.stash.setdefault(CASES, {})
        outcome = "skipped" if report.skipped else report.outcome
        if PHASE_RANK[outcome] >= PHASE_RANK[cases.get(item.nodeid, "passed")]:
            cases[item.nodeid] = outcome
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Merge this run's results into the pass's latest results, a test per function."""
    cases = session.config.stash.get(CASES, {})
    if not cases:
        return
    tests: dict[str, str] = {}
    for nodeid, outcome in cases.items():
        test = PARAMETERS.sub("", nodeid)
        tests[test] = _combine(tests.get(test), outcome)
    path = results_path(backend())
    try:
        latest = json.loads(path.read_text())
    except (OSError, ValueError):
        latest = {"tests": {}}
    now = datetime.now(UTC).isoformat(timespec="seconds")
    latest["tests"].update({test: {"outcome": o, "at": now} for test, o in tests.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(latest, indent=1, sort_keys=True))


def _combine(earlier: str | None, outcome: str) -> str:
    """A test fails if any case failed, passes if any case passed, else it was skipped."""
    if earlier is None:
        return outcome
    for result in ("failed", "passed"):
        if result in (earlier, outcome):
            return result
    return "skipped"
