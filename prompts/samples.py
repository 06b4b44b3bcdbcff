"""A sample document per type, to render prompts with where no real text is at hand (the diff).

The samples are the first case of each type in the shipped sample set (``datasets/sample.jsonl``),
read once per process.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from django.conf import settings

SAMPLE_FILE = Path("datasets") / "sample.jsonl"
# Read at most this much of the file: the sample set is small; a stray huge file is not read.
MAX_SAMPLE_BYTES = 2_000_000
FALLBACK_LINES = ("(no sample document of this type)",)


@functools.cache
def _samples(path: Path) -> dict[str, tuple[str, ...]]:
    samples: dict[str, tuple[str, ...]] = {}
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read(MAX_SAMPLE_BYTES)
    except OSError:
        return samples
    for line in text.splitlines():
        try:
            case = json.loads(line)
        except ValueError:
            continue
        if isinstance(case, dict) and isinstance(case.get("rawTexts"), list):
            samples.setdefault(str(case.get("documentType")), tuple(map(str, case["rawTexts"])))
    return samples


def sample_lines(document_type: str) -> tuple[str, ...]:
    """The OCR lines of a shipped sample document of ``document_type``, or a placeholder line."""
    return _samples(Path(settings.BASE_DIR) / SAMPLE_FILE).get(document_type, FALLBACK_LINES)
