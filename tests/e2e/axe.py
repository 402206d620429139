"""axe-core (the npm devDependency in package.json) run inside a page of the phone app."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# Every WCAG 2.0, 2.1 and 2.2 rule at levels A and AA that axe checks, and its best
# practices (heading order among them), which the app also keeps.
WCAG_2_2_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]
RUN = """(tags) => axe.run(document, {
  runOnly: {type: "tag", values: tags}, resultTypes: ["violations"],
})"""
# Enough nodes to find each in the page; the rest of a rule's nodes repeat them.
NODES_SHOWN = 3


@dataclass(frozen=True)
class AxeViolation:
    """One rule broken: its id, what it asks, and where (CSS selectors of the first nodes)."""

    rule: str
    help: str
    targets: tuple[str, ...]
    more: int

    def __str__(self) -> str:
        where = ", ".join(self.targets) + (f" and {self.more} more" if self.more else "")
        return f"{self.rule} ({self.help}) at {where}"


def run_axe(page: Page, tags: list[str] = WCAG_2_2_AA) -> list[AxeViolation]:
    """Run axe-core over the whole page as it is now and return what it finds broken.

    The page's context needs `bypass_csp=True`: the app's policy allows no inline script.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        if not AXE.exists():
            raise FileNotFoundError(f"{AXE} is missing: run `make node_modules/.installed`")
        page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(RUN, tags)
    return [violation(found) for found in result["violations"]]


def violation(found: dict[str, Any]) -> AxeViolation:
    targets = [json.dumps(node["target"]) for node in found["nodes"]]
    return AxeViolation(
        rule=found["id"],
        help=found["help"],
        targets=tuple(targets[:NODES_SHOWN]),
        more=max(0, len(targets) - NODES_SHOWN),
    )
