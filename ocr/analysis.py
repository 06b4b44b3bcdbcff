"""The checks every answer goes through, and the ``Analysis`` they make of it.

A provider's values are untrusted. Each is normalised into its field's canonical form; a model's
are grounded in the OCR text and reconciled with the built-in extractor's (``ocr.reconcile``);
then every value is validated (check digits, dates, cross-field checks) and scored
(``ocr.confidence``).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from ocr.confidence import (
    calibrated,
    document_confidence,
    field_confidence,
    field_kind,
    scored_specs,
)
from ocr.exceptions import UpstreamError, UpstreamTimeout
from ocr.grounding import index_text, is_printed_as_is, suspect_lines, trusted_lines
from ocr.mrz import find_mrz
from ocr.normalize import normalize_value
from ocr.providers.base import ProviderError, ProviderResult, Usage
from ocr.providers.rules import RulesProvider
from ocr.reconcile import CONFLICTING_SOURCE, passing_numbers_in_text, reconcile
from ocr.rules.detect import detect_document_type
from ocr.validators import Check, state_warnings, validate_document
from prompts.configuration import TypeConfig
from prompts.document_types import DocumentTypeKey, FieldSpec
from prompts.models import PromptTemplate

logger = logging.getLogger(__name__)

# A detection of another type than the one sent is reported from this confidence on.
MIN_LIKELY_CONFIDENCE = 0.6


@dataclass
class Analysis:
    """One document's answer, as the API returns it and the request log keeps it."""

    request_id: uuid.UUID
    document_type: str
    fields: dict[str, str | None]
    field_confidence: dict[str, float | None]
    validation: dict[str, dict[str, Any]]
    confidence: float
    warnings: list[str]
    template: dict[str, Any] | None
    provider: str
    model: str | None
    experiment: dict[str, Any] | None = None
    cached: bool = False
    processing_time_ms: int = 0
    usage: Usage = field(default_factory=Usage)
    cost: Decimal = Decimal(0)
    # Shared by the documents of one merged model call.
    batch_id: uuid.UUID | None = None
    # False for a fallback answer: the model should serve the next request once it is back.
    cacheable: bool = field(default=True, repr=False)
    specs: tuple[FieldSpec, ...] = field(default=(), repr=False)
    # The type the text looks like where it differs from the one sent, else None.
    likely_document_type: str | None = None

    def as_response(self) -> dict[str, Any]:
        return {
            "requestId": str(self.request_id),
            "documentType": self.document_type,
            "fields": self.fields,
            "fieldConfidence": self.field_confidence,
            "validation": self.validation,
            "confidence": self.confidence,
            "warnings": self.warnings,
            "template": self.template,
            "experiment": self.experiment,
            "provider": self.provider,
            "model": self.model,
            "cached": self.cached,
            "processingTimeMs": self.processing_time_ms,
            # An answer cached before the field existed has none.
            "likelyDocumentType": getattr(self, "likely_document_type", None),
        }


def likely_document_type(*, document_type: str, lines: tuple[str, ...]) -> str | None:
    """The type the text looks like, where the words it prints name another than the one sent."""
    detected, confidence = detect_document_type(lines=trusted_lines(lines))
    if detected is None or detected == document_type or confidence < MIN_LIKELY_CONFIDENCE:
        return None
    return detected


def template_summary(template: PromptTemplate | None) -> dict[str, Any] | None:
    if template is None:
        return None
    return {"id": template.pk, "name": template.name, "version": template.version}


def canonical(*, specs: tuple[FieldSpec, ...], values: dict[str, Any]) -> dict[str, str | None]:
    """Return every field of the type in its canonical form; None where a value is not a string."""
    return {
        spec.key: normalize_value(format=spec.format, raw=values[spec.key])
        if isinstance(values.get(spec.key), str)
        else None
        for spec in specs
    }


def passport_mrz(*, document_type: str, lines: tuple[str, ...]):
    """A passport's MRZ, read from the lines that are print (not instructions)."""
    if document_type != DocumentTypeKey.PASSPORT:
        return None
    return find_mrz(trusted_lines(lines))


def mark_repairs(
    *,
    specs: tuple[FieldSpec, ...],
    values: dict[str, str | None],
    checks: dict[str, Check],
    lines: tuple[str, ...],
) -> None:
    """Mark the checked codes that do not stand in the text as printed: read with a look-alike
    repair, they are reported as such (and kept below the high-confidence band)."""
    text = index_text(lines)
    for spec in specs:
        value = values.get(spec.key)
        if value and spec.validator and spec.key in checks:
            checks[spec.key].repaired = not is_printed_as_is(value=value, text=text)


# A checked number that another passing number of its kind in the text contradicts (a second,
# different id number) is no surer than this: which one is the document's is not known.
CONTRADICTED_CEILING = 0.6


def text_warnings(
    *,
    specs: tuple[FieldSpec, ...],
    values: dict[str, str | None],
    lines: tuple[str, ...],
    ceilings: dict[str, float],
) -> list[str]:
    """Warnings about the text itself: lines that read as instructions, and checked numbers the
    text contradicts with another passing one (whose fields are capped in ``ceilings``)."""
    warnings = []
    suspect = suspect_lines(lines)
    if suspect:
        numbers = ", ".join(str(i + 1) for i in suspect)
        warnings.append(
            f"Line(s) {numbers} of the text read as instructions or field assignments, not as "
            "print; no value was taken from them."
        )
    trusted = index_text(trusted_lines(lines))
    for spec in specs:
        value = values.get(spec.key)
        if not value or not spec.validator:
            continue
        others = passing_numbers_in_text(validator=spec.validator, text=trusted) - {value}
        if others:
            ceilings[spec.key] = min(ceilings.get(spec.key, 1.0), CONTRADICTED_CEILING)
            warnings.append(f"{spec.key}: the text holds another valid number of this kind.")
    return warnings


def score(
    *,
    type_config: TypeConfig,
    template: PromptTemplate | None,
    lines: tuple[str, ...],
    result: ProviderResult,
    cost: Decimal,
    warnings: list[str],
    ceilings: dict[str, float] | None = None,
    cacheable: bool = True,
    calibrate: bool = True,
) -> Analysis:
    """Normalise, validate and score `result`. ``ceilings`` caps the confidence of fields (values
    the model and the built-in extractor dispute). The built-in extractor's confidences go
    through the shipped calibration unless ``calibrate`` is False (as when fitting it)."""
    specs = type_config.fields
    values = canonical(specs=specs, values=result.values)
    checks, document_warnings = validate_document(
        document_type=type_config.key,
        fields=values,
        specs=list(specs),
        mrz=passport_mrz(document_type=type_config.key, lines=lines),
    )
    mark_repairs(specs=specs, values=values, checks=checks, lines=lines)
    ceilings = dict(ceilings or {})
    warnings = warnings + text_warnings(specs=specs, values=values, lines=lines, ceilings=ceilings)
    warnings += [
        f"{key}: two labelled lines of the text give two different values."
        for key, source in (result.sources or {}).items()
        if source == CONFLICTING_SOURCE and values.get(key) is not None
    ]
    warnings += state_warnings(document_type=type_config.key, fields=values)
    likely = likely_document_type(document_type=type_config.key, lines=lines)
    if likely is not None:
        warnings.append(f"The text looks like the document type {likely}, not {type_config.key}.")
    confidences: dict[str, float | None] = {}
    for spec in specs:
        if values[spec.key] is None:
            confidences[spec.key] = None
            continue
        confidence = field_confidence(
            belief=result.confidence.get(spec.key),
            check=checks.get(spec.key),
            has_validator=bool(spec.validator),
        )
        if calibrate and result.provider == RulesProvider.name:
            confidence = calibrated(
                confidence=confidence,
                kind=field_kind(spec),
                source=(result.sources or {}).get(spec.key),
                check=checks.get(spec.key),
            )
        if spec.key in ceilings:
            confidence = min(confidence, ceilings[spec.key])
        confidences[spec.key] = confidence
    return Analysis(
        request_id=uuid.uuid4(),
        document_type=type_config.key,
        fields=values,
        field_confidence=confidences,
        validation={
            key: check.as_dict() for key, check in checks.items() if values.get(key) is not None
        },
        confidence=document_confidence(
            field_confidences=confidences,
            specs=scored_specs(document_type=type_config.key, specs=specs, values=values),
        ),
        warnings=warnings + document_warnings,
        template=template_summary(template),
        provider=result.provider,
        model=result.model,
        usage=result.usage,
        cost=cost,
        batch_id=result.batch_id,
        cacheable=cacheable,
        specs=specs,
        likely_document_type=likely,
    )


def model_analysis(
    *,
    type_config: TypeConfig,
    template: PromptTemplate | None,
    lines: tuple[str, ...],
    model_result: ProviderResult,
    rules_result: ProviderResult | None,
    cost: Decimal,
) -> Analysis:
    """Return the model's answer grounded in the text, reconciled with the rules' and scored."""
    specs = type_config.fields
    model_values = canonical(specs=specs, values=model_result.values)
    reconciled = reconcile(
        document_type=type_config.key,
        specs=specs,
        model=model_values,
        rules=canonical(specs=specs, values=rules_result.values if rules_result else {}),
        rules_confidence=rules_result.confidence if rules_result else {},
        text=index_text(lines),
        mrz=passport_mrz(document_type=type_config.key, lines=lines),
        rules_sources=rules_result.sources if rules_result else {},
    )
    result = replace(
        model_result,
        values=reconciled.values,
        confidence=reconciled.beliefs,
        sources=reconciled.sources,
    )
    return score(
        type_config=type_config,
        template=template,
        lines=lines,
        result=result,
        cost=cost,
        warnings=empty_answer_warnings(model_values=model_values, result=result) + reconciled.notes,
        ceilings=reconciled.ceilings,
    )


EMPTY_ANSWER_WARNING = (
    "The model gave no value; the fields shown come from the built-in extractor alone."
)
NOTHING_FOUND_WARNING = (
    "The model gave no value and the built-in extractor found none: check that the lines are "
    "those of this document type."
)


def empty_answer_warnings(
    *, model_values: dict[str, str | None], result: ProviderResult
) -> list[str]:
    """A warning where the model's answer held no usable value ({} or nulls only)."""
    if any(model_values.values()):
        return []
    if any(result.values.get(key) for key in model_values):
        return [EMPTY_ANSWER_WARNING]
    return [NOTHING_FOUND_WARNING]


def fallback_analysis(
    *,
    type_config: TypeConfig,
    template: PromptTemplate | None,
    lines: tuple[str, ...],
    rules_result: ProviderResult | None,
    error: ProviderError | None,
    cost: Decimal = Decimal(0),
) -> Analysis:
    """Return the built-in extractor's answer; with a warning where it stands in for the model
    that failed with `error`, whose spent tokens (and their `cost`) it keeps for the log.
    Raise UpstreamError where the extractor could not answer either."""
    if rules_result is None:
        if error is not None and error.timeout:
            raise UpstreamTimeout("The model did not answer in time and no fallback could answer.")
        raise UpstreamError("The model failed and no fallback could answer.")
    warnings = []
    if error is not None:
        logger.warning("Model fallback for a %s document: %s", type_config.key, error)
        warnings.append(
            f"The model could not answer ({error}); the built-in extractor answered instead."
        )
    spent = error.usage if error is not None else Usage()
    return score(
        type_config=type_config,
        template=template,
        lines=lines,
        result=replace(rules_result, usage=spent),
        cost=cost,
        warnings=warnings,
        cacheable=error is None,
    )
