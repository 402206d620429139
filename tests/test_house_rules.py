"""House rules of ../shared/style.md that no linter checks: imports at the top of a module,
and no Django signal receivers (a rule that runs on a signal is invisible at its call site)."""

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPS = ("api", "bleep", "escalation", "messaging", "rota")


def product_modules() -> Iterator[tuple[Path, ast.Module]]:
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, ast.parse(path.read_text(), filename=str(path))


def function_local_imports(tree: ast.Module) -> Iterator[int]:
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(function):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    yield node.lineno


def signal_receivers(tree: ast.Module) -> Iterator[int]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                call = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(call, ast.Name | ast.Attribute) and ast.unparse(call).endswith(
                    "receiver"
                ):
                    yield decorator.lineno
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "connect"
        ):
            yield node.lineno


def test_no_product_module_imports_inside_a_function() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path, tree in product_modules()
        for line in function_local_imports(tree)
    ]
    assert found == []


def test_no_product_module_receives_a_django_signal() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path, tree in product_modules()
        for line in signal_receivers(tree)
    ]
    assert found == []


def test_the_checks_find_what_they_look_for() -> None:
    tree = ast.parse(
        "from django.dispatch import receiver\n"
        "@receiver(post_save)\n"
        "def on_save():\n"
        "    import os\n"
        "post_save.connect(on_save)\n"
    )
    assert list(function_local_imports(tree)) == [4]
    assert sorted(signal_receivers(tree)) == [2, 5]
