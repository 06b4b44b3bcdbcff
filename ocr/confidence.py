"""Confidence: per field from the extractor's belief and the checks, and for the document."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from ocr.validators import ID_CARD_BACK, Check, is_back_side_only
from prompts.document_types import FieldSpec

# A value that fails its check is wrong more often than not.
FAILED_CHECK_CEILING = 0.3
# A value that passes a check digit is very rarely wrong.
PASSED_CHECK_FLOOR = 0.97
DEFAULT_BELIEF = 0.7
# A value read with a look-alike repair stays below the high-confidence band (0.9): the repair
# may have read the wrong character even where the check then holds.
REPAIRED_CEILING = 0.85

# The calibration of the built-in extractor's confidences, per kind of field: fitted on generated
# cases by bench/calibration.py (isotonic regression), shipped as data.
CALIBRATION_PATH = Path(__file__).resolve().parent / "data" / "calibration.json"
_DATE_FORMATS = frozenset({"date", "validUntil", "yearMonth"})
_CHOICE_FORMATS = frozenset({"gender", "country", "debit or credit"})


def field_confidence(*, belief: float | None, check: Check | None, has_validator: bool) -> float:
    """The probability that one non-null value is right."""
    score = DEFAULT_BELIEF if belief is None else belief
    if check is not None and not check.valid:
        return round(min(score, FAILED_CHECK_CEILING), 4)
    if check is not None and has_validator:
        score = max(score, PASSED_CHECK_FLOOR)
    if check is not None and check.repaired:
        score = min(score, REPAIRED_CEILING)
    return round(max(0.0, min(score, 0.999)), 4)


def document_confidence(
    *, field_confidences: Mapping[str, float | None], specs: Sequence[FieldSpec]
) -> float:
    """Mean confidence of the values found, scaled by the share of required fields found."""
    found = [c for c in field_confidences.values() if c is not None]
    if not found:
        return 0.0
    required = [s.key for s in specs if s.required]
    present = sum(1 for key in required if field_confidences.get(key) is not None)
    coverage = present / len(required) if required else 1.0
    return round(sum(found) / len(found) * coverage, 4)


def scored_specs(
    *, document_type: str, specs: Sequence[FieldSpec], values: Mapping[str, str | None]
) -> tuple[FieldSpec, ...]:
    """The fields the document's confidence is scored over: for the back of an identity card
    alone, the fields that side holds (all expected there), else every field."""
    if not is_back_side_only(document_type=document_type, values=values):
        return tuple(specs)
    return tuple(
        dataclasses.replace(spec, required=True) for spec in specs if spec.key in ID_CARD_BACK
    )


def field_kind(spec: FieldSpec) -> str:
    """The kind of field a calibration is fitted for: checked codes, dates, choices, text."""
    if spec.validator:
        return "checked"
    if spec.format in _DATE_FORMATS:
        return "date"
    if spec.format in _CHOICE_FORMATS:
        return "choice"
    return "text"


@functools.cache
def calibration_table() -> dict[str, tuple[tuple[float, float], ...]]:
    """{field kind: ((upper raw confidence, calibrated confidence), ...)} in rising order; {}
    where no calibration is shipped."""
    if not CALIBRATION_PATH.exists():
        return {}
    kinds = json.loads(CALIBRATION_PATH.read_text(encoding="utf-8"))["kinds"]
    return {kind: tuple((float(x), float(y)) for x, y in steps) for kind, steps in kinds.items()}


def calibrated(*, confidence: float, kind: str, check: Check | None) -> float:
    """The built-in extractor's ``confidence`` for a field of ``kind`` mapped through the
    shipped calibration (a step function); a failed check and a repair keep their caps."""
    steps = calibration_table().get(kind)
    if not steps:
        return confidence
    value = next((y for upper, y in steps if confidence <= upper), steps[-1][1])
    if check is not None and not check.valid:
        value = min(value, FAILED_CHECK_CEILING)
    if check is not None and check.repaired:
        value = min(value, REPAIRED_CEILING)
    return round(value, 4)
