"""Small units: no module of the service (outside the tests and migrations) over 500 lines."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 500
SKIPPED = {".venv", "tests", "migrations", "node_modules", "staticfiles"}


def test_no_module_is_over_500_lines():
    long = {
        str(path.relative_to(ROOT)): lines
        for path in ROOT.rglob("*.py")
        if not SKIPPED & set(path.relative_to(ROOT).parts)
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }

    assert not long, f"Split these modules (lines): {long}"
