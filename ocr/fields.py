"""Field specifications of the shipped document types, and masking of sensitive values.

Plain Python (no Django): the rules extractor, the validators and the evaluation CLI use these
without a configured Django project.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DOCUMENT_TYPES_PATH = (
    Path(__file__).resolve().parent.parent / "prompts" / "data" / "document_types.json"
)


@dataclass(frozen=True)
class FieldSpec:
    """One field of a document type: its key, printed label, canonical format and validator."""

    key: str
    label: str
    format: str
    required: bool = False
    sensitive: bool = False
    validator: str = ""


@cache
def shipped_document_types() -> dict[str, list[FieldSpec]]:
    """Return {type key: [FieldSpec, ...]} read from prompts/data/document_types.json."""
    data = json.loads(DOCUMENT_TYPES_PATH.read_text(encoding="utf-8"))
    return {
        doc["key"]: [
            FieldSpec(
                key=f["key"],
                label=f["label"],
                format=f["format"],
                required=bool(f.get("required", False)),
                sensitive=bool(f.get("sensitive", False)),
                validator=f.get("validator", ""),
            )
            for f in doc["fields"]
        ]
        for doc in data["types"]
    }


def mask_sensitive(value: str | None) -> str | None:
    """Keep the first 3 and last 2 characters, star the rest; 5 characters or fewer: all stars."""
    if value is None:
        return None
    if len(value) <= 5:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 5) + value[-2:]
