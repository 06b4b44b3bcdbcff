"""The apps are layered analytics -> ocr -> prompts: a lower app never imports a higher one,
not even inside a function."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Each app and the apps above it, which it must not import.
HIGHER = {"prompts": {"ocr", "analytics"}, "ocr": {"analytics"}}


def imported_apps(source: str) -> set[str]:
    """The top-level packages a module's source imports, wherever the import statement is."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_imported_apps_sees_imports_inside_functions():
    source = "import json\ndef f():\n    from analytics.services import x\n    import ocr.models\n"

    assert imported_apps(source) == {"json", "analytics", "ocr"}


@pytest.mark.parametrize("app", sorted(HIGHER))
def test_an_app_imports_no_app_above_it(app):
    modules = sorted((ROOT / app).rglob("*.py"))
    upward = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules
        for name in sorted(imported_apps(path.read_text(encoding="utf-8")) & HIGHER[app])
    ]

    assert modules
    assert upward == []
