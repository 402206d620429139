"""`python -m tests.safety render|report`: write docs/safety/hazard-log.md, or print the log
with each proving test's latest result (exit 1 unless every hazard is proven)."""

import sys

from tests.safety.hazard_log import load_log
from tests.safety.render import latest_results, report, write_markdown


def main(argv: list[str]) -> int:
    """Run one verb."""
    if argv == ["render"]:
        write_markdown()
        return 0
    if argv == ["report"]:
        text, proven = report(load_log(), latest_results())
        print(text)
        return 0 if proven else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
