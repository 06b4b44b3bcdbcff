"""The extraction pipeline: from OCR lines to checked, normalised, scored fields, logged."""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache

from ocr import rules
from ocr.confidence import document_confidence, field_confidence
from ocr.errors import ApiError, forbidden, invalid_request
from ocr.fields import FieldSpec, mask_sensitive
from ocr.models import ApiKey, OcrRequest, RequestStatus
from ocr.mrz import find_mrz
from ocr.normalize import normalize_value
from ocr.providers import Document, ProviderResult
from ocr.providers.rules import RulesProvider
from ocr.validators import validate_document
from prompts.models import DocumentType, PromptTemplate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnalyzeInput:
    raw_texts: tuple[str, ...]
    document_type: str | None = None
    use_cache: bool = True


@dataclass(frozen=True)
class DocumentConfig:
    """A cacheable snapshot of a document type: its fields and the template that serves it."""

    key: str
    fields: tuple[FieldSpec, ...]
    template: PromptTemplate | None


@dataclass
class Analysis:
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
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: Decimal = Decimal(0)
    specs: tuple[FieldSpec, ...] = field(default=(), repr=False)

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
        }


def load_document_config(key: str) -> DocumentConfig | None:
    """The active document type with its fields and default template, from the cache when there."""
    config = cache.get(DocumentType.cache_key(key))
    if config is None:
        doc_type = DocumentType.objects.active().filter(key=key).first()
        if doc_type is None:
            return None
        config = DocumentConfig(key=key, fields=tuple(doc_type.field_specs()), template=None)
        cache.set(DocumentType.cache_key(key), config, settings.QV_DOCUMENT_TYPE_CACHE_SECONDS)
    return DocumentConfig(key=config.key, fields=config.fields, template=load_default_template(key))


def load_default_template(key: str) -> PromptTemplate | None:
    template = cache.get(PromptTemplate.cache_key(key))
    if template is None:
        template = (
            PromptTemplate.objects.for_type(key).defaults().select_related("document_type").first()
        )
        if template is not None:
            cache.set(PromptTemplate.cache_key(key), template, settings.QV_TEMPLATE_CACHE_SECONDS)
    return template


def resolve_document_type(*, requested: str | None, lines: tuple[str, ...]) -> str:
    """The type the client named, or the one detected from the text."""
    if requested:
        return requested
    detected, _ = rules.detect_document_type(lines=list(lines))
    if detected is None:
        raise invalid_request(
            "The document type could not be decided from the text; send documentType.",
            {"documentType": ["Could not be detected from rawTexts."]},
        )
    return detected


def result_cache_key(*, document_type: str, lines: tuple[str, ...], template: PromptTemplate | None) -> str:
    version = f"{template.pk}:{template.version}:{template.updated_at.isoformat()}" if template else "-"
    payload = json.dumps([document_type, version, list(lines)], ensure_ascii=False)
    return "result:" + hashlib.sha256(payload.encode()).hexdigest()


def template_summary(template: PromptTemplate | None) -> dict[str, Any] | None:
    if template is None:
        return None
    return {"id": template.pk, "name": template.name, "version": template.version}


def finish(
    *, config: DocumentConfig, result: ProviderResult, lines: tuple[str, ...], warnings: list[str]
) -> tuple[dict, dict, dict, float, list[str]]:
    """Normalise, validate and score a provider's answer. Returns fields, field confidence,
    validation, document confidence and warnings."""
    values: dict[str, str | None] = {}
    for spec in config.fields:
        raw = result.values.get(spec.key)
        values[spec.key] = normalize_value(format=spec.format, raw=raw) if isinstance(raw, str) else None
    checks, document_warnings = validate_document(
        document_type=config.key,
        fields=values,
        specs=list(config.fields),
        mrz=find_mrz(lines) if config.key == "passport" else None,
    )
    confidences: dict[str, float | None] = {}
    for spec in config.fields:
        if values[spec.key] is None:
            confidences[spec.key] = None
            continue
        confidences[spec.key] = field_confidence(
            belief=result.confidence.get(spec.key),
            check=checks.get(spec.key),
            has_validator=bool(spec.validator),
        )
    validation = {key: check.as_dict() for key, check in checks.items() if values.get(key) is not None}
    confidence = document_confidence(field_confidences=confidences, specs=config.fields)
    return values, confidences, validation, confidence, warnings + document_warnings


async def analyze(*, api_key: ApiKey | None, item: AnalyzeInput) -> Analysis:
    """Analyse one document and log it. Raises ApiError for a request that cannot be served."""
    started = time.perf_counter()
    document_type = resolve_document_type(requested=item.document_type, lines=item.raw_texts)
    config = await sync_to_async(load_document_config)(document_type)
    if config is None:
        raise invalid_request(
            f"Unknown document type {document_type!r}.",
            {"documentType": [f"{document_type!r} is not a known document type."]},
        )
    if api_key is not None and not api_key.may_use(document_type):
        raise forbidden(f"This key may not analyse {document_type!r} documents.")

    cache_key = result_cache_key(document_type=document_type, lines=item.raw_texts, template=config.template)
    analysis = await cache.aget(cache_key) if item.use_cache else None
    if analysis is not None:
        analysis.request_id = uuid.uuid4()
        analysis.cached = True
        analysis.prompt_tokens = analysis.completion_tokens = 0
        analysis.cost = Decimal(0)
    else:
        analysis = await extract(config=config, lines=item.raw_texts)
        if item.use_cache:
            await cache.aset(cache_key, analysis, settings.QV_RESULT_CACHE_SECONDS)
    analysis.processing_time_ms = int((time.perf_counter() - started) * 1000)
    await sync_to_async(record_success)(api_key=api_key, analysis=analysis, lines=item.raw_texts)
    return analysis


async def extract(*, config: DocumentConfig, lines: tuple[str, ...]) -> Analysis:
    document = Document(document_type=config.key, fields=config.fields, lines=lines)
    result = RulesProvider().extract_sync(document=document)
    values, confidences, validation, confidence, warnings = finish(
        config=config, result=result, lines=lines, warnings=[]
    )
    return Analysis(
        request_id=uuid.uuid4(),
        document_type=config.key,
        fields=values,
        field_confidence=confidences,
        validation=validation,
        confidence=confidence,
        warnings=warnings,
        template=template_summary(config.template),
        provider=result.provider,
        model=result.model,
        prompt_tokens=result.prompt_tokens,
        completion_tokens=result.completion_tokens,
        cost=result.cost,
        specs=config.fields,
    )


def masked_fields(analysis: Analysis) -> dict[str, str | None]:
    sensitive = {spec.key for spec in analysis.specs if spec.sensitive}
    return {
        key: mask_sensitive(value) if key in sensitive else value
        for key, value in analysis.fields.items()
    }


def record_success(*, api_key: ApiKey | None, analysis: Analysis, lines: tuple[str, ...]) -> None:
    template_id = analysis.template["id"] if analysis.template else None
    OcrRequest.objects.create(
        request_id=analysis.request_id,
        api_key=api_key,
        document_type=analysis.document_type,
        template_id=template_id,
        template_version=analysis.template["version"] if analysis.template else "",
        provider=analysis.provider,
        model=analysis.model or "",
        status=RequestStatus.SUCCESS,
        confidence=analysis.confidence,
        field_confidence=analysis.field_confidence,
        fields=masked_fields(analysis),
        validation=analysis.validation,
        warnings=analysis.warnings,
        processing_time_ms=analysis.processing_time_ms,
        cached=analysis.cached,
        prompt_tokens=analysis.prompt_tokens,
        completion_tokens=analysis.completion_tokens,
        cost=analysis.cost,
        raw_text="\n".join(lines) if settings.QV_STORE_RAW_TEXT else "",
    )


def record_failure(*, api_key: ApiKey | None, document_type: str | None, error: ApiError) -> None:
    OcrRequest.objects.create(
        api_key=api_key,
        document_type=document_type or "",
        status=RequestStatus.ERROR,
        error_code=error.error_code,
    )


async def analyze_batch(
    *, api_key: ApiKey | None, items: list[AnalyzeInput | ApiError]
) -> list[Analysis | ApiError]:
    """Analyse each item; an item that fails answers with its own error."""
    results: list[Analysis | ApiError] = []
    for item in items:
        if isinstance(item, ApiError):
            results.append(item)
            continue
        try:
            results.append(await analyze(api_key=api_key, item=item))
        except ApiError as error:
            results.append(error)
    return results
