"""The repository runs on what it ships: no code, test or document reaches for data in a folder
beside the checkout (a fresh clone has none)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKED_FOLDERS = ["ocr", "prompts", "analytics", "quickvault", "tests", "bench"]
CHECKED_FILES = ["Makefile", "README.md"]
SKIPPED_PARTS = {"__pycache__"}
# A "shared" folder reached through the parent directory, however the path is written (see the
# first test for the forms).
PARENT_SHARED = re.compile(
    r"""\.\.[/\\]+shared\b"""
    r"""|\.parents?\b(?:\[\d+\])?\s*/\s*["']shared\b"""
    r"""|["']\.\.["']\s*,\s*["']shared\b"""
)


def checked_files() -> list[Path]:
    files = [ROOT / name for name in CHECKED_FILES]
    for folder in CHECKED_FOLDERS:
        files += [
            path
            for path in sorted((ROOT / folder).rglob("*"))
            if path.is_file() and not SKIPPED_PARTS & set(path.parts) and path.suffix != ".pyc"
        ]
    return files


def test_the_pattern_finds_each_way_of_writing_the_parent_shared_folder():
    # Spelt in pieces so that this file does not hold the paths it looks for.
    parent = ".."
    shared = "shared"
    written = [
        f"manage.py evaluate {parent}/{shared}/datasets/dev.jsonl",
        f"{parent}\\{shared}\\datasets",
        f'ROOT.parent / "{shared}" / "datasets"',
        f"Path(__file__).resolve().parents[2].parent / '{shared}'",
        f'os.path.join(ROOT, "{parent}", "{shared}")',
    ]

    assert [bool(PARENT_SHARED.search(text)) for text in written] == [True] * len(written)
    assert not PARENT_SHARED.search("cached in the shared cache; a shared_task")


def test_nothing_refers_to_a_shared_folder_beside_the_repository():
    offenders = []
    for path in checked_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if PARENT_SHARED.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")

    assert offenders == []
    assert len(checked_files()) > len(CHECKED_FILES)  # the folders were found and read
