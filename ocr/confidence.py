"""Confidence: per field from the extractor's belief and the checks, and for the document."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Mapping, Sequence
from enum import StrEnum
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

# The calibration of the built-in extractor's confidences, per kind of field and provenance of
# the value: fitted on generated cases by bench/calibration.py (isotonic regression), shipped as
# data. The map itself says which values reach the confident band (0.9 and more).
CALIBRATION_PATH = Path(__file__).resolve().parent / "data" / "calibration.json"
_DATE_FORMATS = frozenset({"date", "validUntil", "yearMonth"})
_CHOICE_FORMATS = frozenset({"gender", "country", "debit or credit"})
# A value of a provenance the calibration was not fitted on stays just below the confident band:
# nothing measured says how often such values are right.
BELOW_CONFIDENT = 0.899


class Provenance(StrEnum):
    """How the built-in extractor came to a value, as far as it tells how often it is right."""

    # The check digit (or a cross-check with a checked number) fails.
    INVALID = "invalid"
    # A look-alike was read as the character its position demands.
    REPAIRED = "repaired"
    # Read from a passport's machine readable zone.
    MRZ = "mrz"
    # A passing check digit, or a cross-check with a checked number that passes.
    CHECK = "check"
    # Led to by its printed label.
    LABEL = "label"
    # Two labelled lines gave two values.
    CONFLICT = "conflict"
    # Found by its shape or its place on the card, with no label or check to confirm it.
    SHAPE = "shape"


def provenance(*, source: str | None, check: Check | None) -> Provenance:
    """The provenance of one value from the extractor's ``source`` ("mrz", "label", "pattern",
    "position", "conflict") and the value's ``check``; a failed check or a repair decides first."""
    if check is not None and not check.valid:
        return Provenance.INVALID
    if check is not None and check.repaired:
        return Provenance.REPAIRED
    if source == "mrz":
        return Provenance.MRZ
    if check is not None:
        return Provenance.CHECK
    if source == "label":
        return Provenance.LABEL
    if source == "conflict":
        return Provenance.CONFLICT
    return Provenance.SHAPE


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


Steps = tuple[tuple[float, float], ...]


@functools.cache
def calibration_table() -> dict[str, dict[str, Steps]]:
    """{field kind: {provenance: ((upper raw confidence, calibrated confidence), ...)}}, steps in
    rising order; {} where no calibration is shipped."""
    if not CALIBRATION_PATH.exists():
        return {}
    kinds = json.loads(CALIBRATION_PATH.read_text(encoding="utf-8"))["kinds"]
    return {
        kind: {
            origin: tuple((float(step[0]), float(step[1])) for step in steps)
            for origin, steps in by_provenance.items()
        }
        for kind, by_provenance in kinds.items()
    }


def calibrated(*, confidence: float, kind: str, source: str | None, check: Check | None) -> float:
    """The built-in extractor's ``confidence`` for a field of ``kind`` found from ``source`` and
    checked as ``check`` says, mapped through the shipped calibration of its provenance (a step
    function). A kind the calibration lacks keeps its confidence; a provenance it lacks stays
    below 0.9; a failed check and a repair keep their caps whatever the map says."""
    by_provenance = calibration_table().get(kind)
    if not by_provenance:
        return confidence
    steps = by_provenance.get(provenance(source=source, check=check))
    if steps:
        value = next((y for upper, y in steps if confidence <= upper), steps[-1][1])
    else:
        value = min(confidence, BELOW_CONFIDENT)
    if check is not None and not check.valid:
        value = min(value, FAILED_CHECK_CEILING)
    if check is not None and check.repaired:
        value = min(value, REPAIRED_CEILING)
    return round(value, 4)
