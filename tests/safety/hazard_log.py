"""Read the hazard files, rate them on the DCB0129 matrix, and find the tests that prove them."""

import ast
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HAZARDS_DIR = ROOT / "docs" / "safety" / "hazards"
TESTS_DIR = ROOT / "tests"

SEVERITIES = ("Minor", "Significant", "Considerable", "Major", "Catastrophic")
LIKELIHOODS = ("Very low", "Low", "Medium", "High", "Very high")
# DCB0129's risk matrix: likelihood (rows, Very low first) by severity (columns, Minor first),
# as NHS England publishes it with its own hazard logs.
RISK_MATRIX = (
    (1, 1, 2, 2, 3),
    (1, 2, 2, 3, 4),
    (2, 2, 3, 3, 4),
    (2, 3, 3, 4, 5),
    (3, 4, 4, 5, 5),
)
RISK_MEANING = {
    1: "acceptable, no further action",
    2: "acceptable where further reduction costs more than it gains",
    3: "undesirable: acceptable only when further reduction is impractical",
    4: "mandatory elimination or control",
    5: "unacceptable",
}
CONTROL_KINDS = ("design", "test", "training")
STATUSES = ("open", "closed")


@dataclass(frozen=True)
class Risk:
    """A severity and a likelihood, rated 1-5 on DCB0129's matrix."""

    severity: str
    likelihood: str

    @property
    def rating(self) -> int:
        return RISK_MATRIX[LIKELIHOODS.index(self.likelihood)][SEVERITIES.index(self.severity)]


@dataclass(frozen=True)
class Control:
    """One measure against a hazard, and the tests that fail without it."""

    kind: str
    text: str
    tests: tuple[str, ...] = ()
    where: str = ""


@dataclass(frozen=True)
class Hazard:
    """One entry of the hazard log."""

    id: str
    title: str
    status: str
    causes: tuple[str, ...]
    effect: str
    harm: str
    initial: Risk
    residual: Risk
    controls: tuple[Control, ...]
    found: str = ""
    notes: str = ""
    path: Path = field(default=HAZARDS_DIR)

    @property
    def tests(self) -> list[str]:
        """Every test named by any control, each once, in the order given."""
        return list(dict.fromkeys(test for control in self.controls for test in control.tests))


class LogError(ValueError):
    """A hazard file that does not follow the log's rules."""


def load_log(directory: Path = HAZARDS_DIR) -> list[Hazard]:
    """Return every hazard, in id order, refusing a file that breaks the log's rules."""
    hazards = [_load(path) for path in sorted(directory.glob("HZ-*.toml"))]
    ids = [hazard.id for hazard in hazards]
    if len(ids) != len(set(ids)):
        raise LogError(f"duplicate hazard ids: {sorted(i for i in ids if ids.count(i) > 1)}")
    return hazards


def _load(path: Path) -> Hazard:
    with path.open("rb") as file:
        data = tomllib.load(file)
    try:
        hazard = Hazard(
            id=data["id"],
            title=data["title"],
            status=data["status"],
            causes=tuple(data["causes"]),
            effect=data["effect"],
            harm=data["harm"],
            initial=Risk(**data["initial"]),
            residual=Risk(**data["residual"]),
            controls=tuple(_control(c) for c in data["controls"]),
            found=data.get("found", ""),
            notes=data.get("notes", ""),
            path=path,
        )
    except (KeyError, TypeError) as error:
        raise LogError(f"{path.name}: missing or unexpected field {error}") from None
    _check(hazard)
    return hazard


def _control(data: dict[str, object]) -> Control:
    tests = data.get("tests", [])
    assert isinstance(tests, list)
    return Control(
        kind=str(data["kind"]),
        text=str(data["text"]),
        tests=tuple(str(t) for t in tests),
        where=str(data.get("where", "")),
    )


def _check(hazard: Hazard) -> None:
    name = hazard.path.name
    if name != f"{hazard.id}.toml":
        raise LogError(f"{name}: holds {hazard.id}; name the file after its id")
    if hazard.status not in STATUSES:
        raise LogError(f"{name}: status must be one of {STATUSES}")
    for risk in (hazard.initial, hazard.residual):
        if risk.severity not in SEVERITIES or risk.likelihood not in LIKELIHOODS:
            raise LogError(f"{name}: severity in {SEVERITIES}, likelihood in {LIKELIHOODS}")
    if hazard.residual.rating > hazard.initial.rating:
        raise LogError(f"{name}: the residual risk is above the initial one")
    for control in hazard.controls:
        if control.kind not in CONTROL_KINDS:
            raise LogError(f"{name}: a control's kind is one of {CONTROL_KINDS}")
        if control.kind != "training" and not control.tests:
            raise LogError(f"{name}: a {control.kind} control names the tests that prove it")
        if control.kind == "training" and not control.where:
            raise LogError(f"{name}: a training control says `where` its instruction is")


def marked_tests(tests_dir: Path = TESTS_DIR) -> dict[str, set[str]]:
    """Return each test carrying `pytest.mark.hazard`, as "path::name", with its hazard ids.

    Read from the source, not by collecting: only the literal decorator (or a module's
    `pytestmark`) counts, so what the log is checked against is what a reader sees.
    """
    found: dict[str, set[str]] = {}
    for path in sorted(tests_dir.rglob("test_*.py")):
        module = ast.parse(path.read_text(), filename=str(path))
        relative = path.relative_to(tests_dir.parent).as_posix()
        everywhere = _module_hazards(module)
        for prefix, function in _test_functions(module):
            ids = everywhere | _hazards_of(function.decorator_list)
            if ids:
                found[f"{relative}::{prefix}{function.name}"] = ids
    return found


def defined_tests(tests_dir: Path = TESTS_DIR) -> set[str]:
    """Return every test function in the suite as "path::name"."""
    names: set[str] = set()
    for path in sorted(tests_dir.rglob("test_*.py")):
        module = ast.parse(path.read_text(), filename=str(path))
        relative = path.relative_to(tests_dir.parent).as_posix()
        names.update(f"{relative}::{prefix}{f.name}" for prefix, f in _test_functions(module))
    return names


Function = ast.FunctionDef | ast.AsyncFunctionDef


def _test_functions(module: ast.Module) -> list[tuple[str, Function]]:
    functions: list[tuple[str, Function]] = []
    for node in module.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            functions.append(("", node))
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            functions.extend(
                (f"{node.name}::", inner)
                for inner in node.body
                if isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef)
                and inner.name.startswith("test")
            )
    return functions


def _module_hazards(module: ast.Module) -> set[str]:
    for node in module.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "pytestmark" for target in node.targets
        ):
            value = node.value
            marks = value.elts if isinstance(value, ast.List | ast.Tuple) else [value]
            return _hazards_of(marks)
    return set()


def _hazards_of(decorators: list[ast.expr]) -> set[str]:
    ids: set[str] = set()
    for decorator in decorators:
        if isinstance(decorator, ast.Call) and ast.unparse(decorator.func) == "pytest.mark.hazard":
            ids.update(
                arg.value
                for arg in decorator.args
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            )
    return ids


def trace_problems(
    hazards: list[Hazard], marked: dict[str, set[str]], defined: set[str]
) -> list[str]:
    """Return every way the log and the tests disagree; none means they trace both ways."""
    problems = []
    known = {hazard.id for hazard in hazards}
    for hazard in hazards:
        if not hazard.tests:
            problems.append(f"{hazard.id} has no control proven by a test")
        for test in hazard.tests:
            if test not in defined:
                problems.append(f"{hazard.id} names {test}, which does not exist")
            elif hazard.id not in marked.get(test, set()):
                problems.append(f"{hazard.id} names {test}, which is not marked for it")
    for test, ids in sorted(marked.items()):
        for hazard_id in sorted(ids - known):
            problems.append(f"{test} is marked for {hazard_id}, which the log does not have")
        for hazard in hazards:
            if hazard.id in ids and test not in hazard.tests:
                problems.append(f"{test} is marked for {hazard.id} but the log does not name it")
    return problems
