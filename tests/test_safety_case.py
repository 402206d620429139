"""The hazard log and the tests trace each other both ways, and the published log is current."""

from pathlib import Path

import pytest

from tests.safety.hazard_log import (
    Control,
    Hazard,
    LogError,
    Risk,
    defined_tests,
    load_log,
    marked_tests,
    trace_problems,
)
from tests.safety.render import LOG_MARKDOWN, render_markdown, report


def test_the_hazard_log_and_the_tests_name_each_other_both_ways() -> None:
    assert trace_problems(load_log(), marked_tests(), defined_tests()) == []


def test_every_hazard_is_closed_by_a_control_with_a_test() -> None:
    unproven = [h.id for h in load_log() if h.status != "closed" or not h.tests]
    assert unproven == []


def test_the_published_hazard_log_is_generated_from_the_hazard_files() -> None:
    # `python -m tests.safety render` (or `make safety`) writes it again.
    assert LOG_MARKDOWN.read_text() == render_markdown(load_log())


def _hazard(id: str, *tests: str, status: str = "closed") -> Hazard:
    return Hazard(
        id=id,
        title="t",
        status=status,
        causes=("c",),
        effect="e",
        harm="h",
        initial=Risk("Major", "Medium"),
        residual=Risk("Major", "Very low"),
        controls=(Control(kind="design", text="x", tests=tests),),
    )


def test_the_trace_finds_a_hazard_without_a_test_a_missing_test_and_a_stray_marker() -> None:
    hazards = [
        _hazard("HZ-01", "tests/a.py::test_gone", "tests/a.py::test_unmarked"),
        _hazard("HZ-02"),
    ]
    marked = {"tests/a.py::test_stray": {"HZ-99"}, "tests/a.py::test_unlisted": {"HZ-01"}}
    defined = {"tests/a.py::test_unmarked", "tests/a.py::test_stray", "tests/a.py::test_unlisted"}

    problems = trace_problems(hazards, marked, defined)

    assert problems == [
        "HZ-01 names tests/a.py::test_gone, which does not exist",
        "HZ-01 names tests/a.py::test_unmarked, which is not marked for it",
        "HZ-02 has no control proven by a test",
        "tests/a.py::test_stray is marked for HZ-99, which the log does not have",
        "tests/a.py::test_unlisted is marked for HZ-01 but the log does not name it",
    ]


def test_markers_are_read_from_decorators_and_a_modules_pytestmark(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_one.py").write_text(
        "import pytest\n"
        "@pytest.mark.hazard('HZ-01', 'HZ-02')\n"
        "def test_a(): pass\n"
        "def test_b(): pass\n"
        "class TestC:\n"
        "    @pytest.mark.hazard('HZ-03')\n"
        "    async def test_d(self): pass\n"
    )
    (tmp_path / "tests" / "test_two.py").write_text(
        "import pytest\npytestmark = [pytest.mark.django_db, pytest.mark.hazard('HZ-04')]\n"
        "def test_e(): pass\n"
    )

    assert marked_tests(tmp_path / "tests") == {
        "tests/test_one.py::test_a": {"HZ-01", "HZ-02"},
        "tests/test_one.py::TestC::test_d": {"HZ-03"},
        "tests/test_two.py::test_e": {"HZ-04"},
    }
    assert "tests/test_one.py::test_b" in defined_tests(tmp_path / "tests")


@pytest.mark.parametrize(
    ("severity", "likelihood", "rating"),
    [
        ("Minor", "Very low", 1),
        ("Catastrophic", "Very low", 3),
        ("Major", "Medium", 3),
        ("Major", "High", 4),
        ("Catastrophic", "Medium", 4),
        ("Minor", "Very high", 3),
        ("Catastrophic", "Very high", 5),
    ],
)
def test_risk_is_rated_on_dcb0129s_five_by_five_matrix(
    severity: str, likelihood: str, rating: int
) -> None:
    assert Risk(severity, likelihood).rating == rating


BROKEN = {
    "a residual risk above the initial one": 'initial = {severity = "Minor", likelihood = '
    '"Low"}\nresidual = {severity = "Major", likelihood = "High"}',
    "a severity the matrix does not have": 'initial = {severity = "Bad", likelihood = "Low"}\n'
    'residual = {severity = "Minor", likelihood = "Low"}',
}


@pytest.mark.parametrize("why", sorted(BROKEN))
def test_a_hazard_file_that_breaks_the_logs_rules_is_refused(tmp_path: Path, why: str) -> None:
    (tmp_path / "HZ-01.toml").write_text(
        'id = "HZ-01"\ntitle = "t"\nstatus = "closed"\ncauses = ["c"]\neffect = "e"\n'
        f'harm = "h"\n{BROKEN[why]}\n'
        '[[controls]]\nkind = "design"\ntext = "x"\ntests = ["tests/a.py::test_a"]\n'
    )
    with pytest.raises(LogError):
        load_log(tmp_path)


def test_a_design_control_without_a_test_is_refused(tmp_path: Path) -> None:
    (tmp_path / "HZ-01.toml").write_text(
        'id = "HZ-01"\ntitle = "t"\nstatus = "closed"\ncauses = ["c"]\neffect = "e"\n'
        'harm = "h"\ninitial = {severity = "Major", likelihood = "Low"}\n'
        'residual = {severity = "Major", likelihood = "Low"}\n'
        '[[controls]]\nkind = "design"\ntext = "x"\n'
    )
    with pytest.raises(LogError, match="names the tests"):
        load_log(tmp_path)


def test_the_report_names_a_hazard_whose_test_failed_or_never_ran() -> None:
    hazards = [_hazard("HZ-01", "tests/a.py::test_a"), _hazard("HZ-02", "tests/a.py::test_b")]
    results = {"sqlite": {"tests/a.py::test_a": "passed", "tests/a.py::test_b": "failed"}}

    text, proven = report(hazards, results)

    assert not proven
    assert text.endswith("NOT PROVEN: HZ-02")
    assert "sqlite:passed   tests/a.py::test_a" in text
    assert report(hazards[:1], results)[1]
