"""The extraction pipeline: from OCR lines to checked, normalised, scored fields, logged.

``analyze`` serves one document, ``analyze_batch`` several; both answer from the result cache
where they can (10 minutes, keyed on the document type, the OCR text and the template version).

Which template serves: the one a request names (``AnalyzeInput.template_id``, the evaluation of
one version), else the variant's that a running A/B experiment of the type chooses for the
request (``prompts.experiments``; the answer's ``experiment`` names it), else the type's default.

Which extractor answers: the model (provider "openai") when an endpoint is configured
(OPENAI_API_KEY or OPENAI_BASE_URL; QV_PROVIDER may force "rules" or "openai"), else the built-in
extractor (provider "rules"). The built-in extractor also runs beside the model, cheaply, and is
the fallback: where the model cannot be reached, times out, has its circuit open or gives no
usable answer, the rules answer, with a warning that says so (and that answer is not cached, so
the model serves the next request once it is back). Only when neither can answer is there an
error: 504 ``upstream_timeout`` where the model timed out, else 502 ``upstream_error``.

The model's answer is never trusted as it stands: every value is normalised into its canonical
form, grounded in the OCR text and reconciled with the built-in extractor's (``ocr.reconcile``),
then validated and scored (``finish``). Batch analyze merges the documents of one type into one
model call (``OpenAIProvider.extract_many``); a document the merged answer leaves out gets a call
of its own, and one that still fails falls back on its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache

from ocr import request_log, rules
from ocr.confidence import document_confidence, field_confidence
from ocr.errors import ApiError, forbidden, invalid_request
from ocr.grounding import index_text
from ocr.models import ApiKey
from ocr.mrz import find_mrz
from ocr.normalize import normalize_value
from ocr.providers import Document, ProviderError, ProviderResult, get_provider
from ocr.providers.openai import MissingItemError, ModelResult, endpoint_configured
from ocr.providers.rules import RulesProvider
from ocr.reconcile import reconcile
from ocr.validators import validate_document
from prompts import config_cache
from prompts.document_types import FieldSpec
from prompts.experiments import aload_running_experiments, assignment_unit
from prompts.models import DocumentType, PromptTemplate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnalyzeInput:
    raw_texts: tuple[str, ...]
    document_type: str | None = None
    use_cache: bool = True
    # Serve with this template instead of the type's default (evaluation of a draft version);
    # it overrides any running experiment.
    template_id: int | None = None


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
    # What the prompt would have cost in a call of its own (above prompt_tokens when merged).
    prompt_tokens_unmerged: int = 0
    # Shared by the documents of one merged model call.
    batch_id: uuid.UUID | None = None
    # False for a fallback answer: the model should serve the next request once it is back.
    cacheable: bool = field(default=True, repr=False)
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


async def aload_document_config(key: str) -> DocumentConfig | None:
    """load_document_config on the event loop: from this worker's copy of the configuration
    (prompts.config_cache), else from the shared cache, and a thread only where both miss."""
    return await config_cache.aget(f"document-config:{key}", lambda: _shared_document_config(key))


async def _shared_document_config(key: str) -> DocumentConfig | None:
    type_key, template_key = DocumentType.cache_key(key), PromptTemplate.cache_key(key)
    found = await cache.aget_many([type_key, template_key])
    if type_key not in found or template_key not in found:
        return await sync_to_async(load_document_config)(key)
    config = found[type_key]
    return DocumentConfig(key=config.key, fields=config.fields, template=found[template_key])


def load_default_template(key: str) -> PromptTemplate | None:
    template = cache.get(PromptTemplate.cache_key(key))
    if template is None:
        template = (
            PromptTemplate.objects.for_type(key).defaults().select_related("document_type").first()
        )
        if template is not None:
            cache.set(PromptTemplate.cache_key(key), template, settings.QV_TEMPLATE_CACHE_SECONDS)
    return template


async def load_template(template_id: int, document_type: str) -> PromptTemplate:
    template = (
        await PromptTemplate.objects.for_type(document_type)
        .select_related("document_type")
        .filter(pk=template_id)
        .afirst()
    )
    if template is None:
        raise invalid_request(
            f"No prompt template {template_id} for {document_type!r}.",
            {"template": [f"Template {template_id} does not serve {document_type!r}."]},
        )
    return template


async def experiment_choice(
    *, document_type: str, api_key: ApiKey | None, lines: tuple[str, ...]
) -> tuple[PromptTemplate, dict[str, Any]] | None:
    """The template that the running experiment of the type chose for this request, with the
    answer's ``experiment`` ({"id", "name", "variant"}); None where no experiment runs."""
    experiment = (await aload_running_experiments()).get(document_type)
    if experiment is None:
        return None
    unit = assignment_unit(key_id=api_key.key_id if api_key is not None else "", lines=lines)
    variant = experiment.choose_variant(unit=unit)
    summary = {"id": experiment.pk, "name": experiment.name, "variant": variant.name}
    return variant.template, summary


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


def result_cache_key(
    *, document_type: str, lines: tuple[str, ...], template: PromptTemplate | None
) -> str:
    version = (
        f"{template.pk}:{template.version}:{template.updated_at.isoformat()}" if template else "-"
    )
    payload = json.dumps([document_type, version, list(lines)], ensure_ascii=False)
    return "result:" + hashlib.sha256(payload.encode()).hexdigest()


def template_summary(template: PromptTemplate | None) -> dict[str, Any] | None:
    if template is None:
        return None
    return {"id": template.pk, "name": template.name, "version": template.version}


def finish(
    *,
    config: DocumentConfig,
    result: ProviderResult,
    lines: tuple[str, ...],
    warnings: list[str],
    ceilings: dict[str, float] | None = None,
) -> tuple[dict, dict, dict, float, list[str]]:
    """Normalise, validate and score a provider's answer. Returns fields, field confidence,
    validation, document confidence and warnings. ``ceilings`` caps the confidence of fields
    (values the model and the built-in extractor dispute)."""
    values = _canonical(specs=config.fields, values=result.values)
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
        if ceilings and spec.key in ceilings:
            confidences[spec.key] = min(confidences[spec.key], ceilings[spec.key])
    validation = {
        key: check.as_dict() for key, check in checks.items() if values.get(key) is not None
    }
    confidence = document_confidence(field_confidences=confidences, specs=config.fields)
    return values, confidences, validation, confidence, warnings + document_warnings


def uses_model() -> bool:
    """Whether the model answers (else the built-in extractor alone does)."""
    choice = settings.QV_PROVIDER.strip().lower()
    if choice == "rules":
        return False
    if choice == "openai":
        return True
    return endpoint_configured()


def upstream_error(error: ProviderError | None) -> ApiError:
    """The error for a request that neither the model nor the built-in extractor could serve."""
    if error is not None and error.timeout:
        return ApiError(
            status_code=504,
            code="upstream_timeout",
            message="The model did not answer in time and no fallback could answer.",
        )
    return ApiError(
        status_code=502,
        code="upstream_error",
        message="The model failed and no fallback could answer.",
    )


def run_rules(document: Document) -> ProviderResult | None:
    """The built-in extractor's answer, or None where it fails (it is logged)."""
    try:
        return RulesProvider().extract_sync(document=document)
    except Exception:
        logger.exception("The built-in extractor failed on a %s document", document.document_type)
        return None


def _canonical(
    *, specs: tuple[FieldSpec, ...], values: dict[str, str | None]
) -> dict[str, str | None]:
    """Every field of the type in its canonical form; None where the value is not a string."""
    return {
        spec.key: normalize_value(format=spec.format, raw=values[spec.key])
        if isinstance(values.get(spec.key), str)
        else None
        for spec in specs
    }


def _analysis(
    *,
    config: DocumentConfig,
    lines: tuple[str, ...],
    result: ProviderResult,
    warnings: list[str],
    cacheable: bool = True,
    ceilings: dict[str, float] | None = None,
) -> Analysis:
    values, confidences, validation, confidence, all_warnings = finish(
        config=config, result=result, lines=lines, warnings=warnings, ceilings=ceilings
    )
    return Analysis(
        request_id=uuid.uuid4(),
        document_type=config.key,
        fields=values,
        field_confidence=confidences,
        validation=validation,
        confidence=confidence,
        warnings=all_warnings,
        template=template_summary(config.template),
        provider=result.provider,
        model=result.model,
        prompt_tokens=result.prompt_tokens,
        completion_tokens=result.completion_tokens,
        cost=result.cost,
        prompt_tokens_unmerged=getattr(result, "prompt_tokens_unmerged", 0) or result.prompt_tokens,
        batch_id=getattr(result, "batch_id", None),
        cacheable=cacheable,
        specs=config.fields,
    )


def model_analysis(
    *,
    config: DocumentConfig,
    lines: tuple[str, ...],
    model_result: ProviderResult,
    rules_result: ProviderResult | None,
) -> Analysis:
    """The model's answer normalised, grounded in the text and reconciled with the rules'."""
    model_values = _canonical(specs=config.fields, values=model_result.values)
    rules_values = rules_result.values if rules_result else {}
    reconciled = reconcile(
        document_type=config.key,
        specs=config.fields,
        model=model_values,
        rules=_canonical(specs=config.fields, values=dict(rules_values)),
        rules_confidence=rules_result.confidence if rules_result else {},
        text=index_text(lines),
        mrz=find_mrz(lines) if config.key == "passport" else None,
    )
    result = ModelResult(
        values=reconciled.values,
        provider=model_result.provider,
        model=model_result.model,
        confidence=reconciled.beliefs,
        sources=reconciled.sources,
        prompt_tokens=model_result.prompt_tokens,
        completion_tokens=model_result.completion_tokens,
        cost=model_result.cost,
        prompt_tokens_unmerged=getattr(model_result, "prompt_tokens_unmerged", 0),
        batch_id=getattr(model_result, "batch_id", None),
    )
    return _analysis(
        config=config,
        lines=lines,
        result=result,
        warnings=reconciled.notes,
        ceilings=reconciled.ceilings,
    )


def fallback_analysis(
    *,
    config: DocumentConfig,
    lines: tuple[str, ...],
    rules_result: ProviderResult | None,
    error: ProviderError | None,
) -> Analysis:
    """The built-in extractor's answer; with a warning when it stands in for the model.
    Raises the upstream ApiError where the extractor could not answer either."""
    if rules_result is None:
        raise upstream_error(error)
    warnings = []
    if error is not None:
        logger.warning("Model fallback for a %s document: %s", config.key, error)
        warnings.append(
            f"The model could not answer ({error}); the built-in extractor answered instead."
        )
    analysis = _analysis(
        config=config,
        lines=lines,
        result=rules_result,
        warnings=warnings,
        cacheable=error is None,
    )
    # The log keeps what the failed model call still cost (replies that came back unusable).
    analysis.prompt_tokens = analysis.prompt_tokens_unmerged = getattr(error, "prompt_tokens", 0)
    analysis.completion_tokens = getattr(error, "completion_tokens", 0)
    analysis.cost = getattr(error, "cost", Decimal(0))
    return analysis


async def extract(*, config: DocumentConfig, lines: tuple[str, ...]) -> Analysis:
    """Extract one document with the model (reconciled with the rules) or the rules alone."""
    document = Document(document_type=config.key, fields=config.fields, lines=lines)
    rules_result = run_rules(document)
    if not uses_model():
        return fallback_analysis(config=config, lines=lines, rules_result=rules_result, error=None)
    try:
        model_result = await get_provider("openai").extract(
            document=document, template=config.template
        )
    except ProviderError as error:
        return fallback_analysis(config=config, lines=lines, rules_result=rules_result, error=error)
    return model_analysis(
        config=config, lines=lines, model_result=model_result, rules_result=rules_result
    )


async def extract_merged(
    *, config: DocumentConfig, documents: list[tuple[str, ...]]
) -> list[Analysis | ApiError]:
    """Extract documents of one type and template in merged model calls; each document that
    the merged answer leaves out gets a call of its own, and each that fails falls back alone."""
    docs = [
        Document(document_type=config.key, fields=config.fields, lines=lines) for lines in documents
    ]
    rules_results = [run_rules(doc) for doc in docs]
    if not uses_model():
        model_results: list[ProviderResult | ProviderError | None] = [None] * len(docs)
    else:
        provider = get_provider("openai")
        model_results = list(await provider.extract_many(documents=docs, template=config.template))
        missing = [i for i, r in enumerate(model_results) if isinstance(r, MissingItemError)]

        async def alone(index: int) -> ProviderResult | ProviderError:
            try:
                return await provider.extract(document=docs[index], template=config.template)
            except ProviderError as error:
                return error

        for index, result in zip(
            missing, await asyncio.gather(*(alone(i) for i in missing)), strict=True
        ):
            model_results[index] = result

    out: list[Analysis | ApiError] = []
    for lines, model_result, rules_result in zip(
        documents, model_results, rules_results, strict=True
    ):
        try:
            if isinstance(model_result, ProviderResult):
                out.append(
                    model_analysis(
                        config=config,
                        lines=lines,
                        model_result=model_result,
                        rules_result=rules_result,
                    )
                )
            else:
                out.append(
                    fallback_analysis(
                        config=config, lines=lines, rules_result=rules_result, error=model_result
                    )
                )
        except ApiError as error:
            out.append(error)
    return out


@dataclass
class _Prepared:
    """One request checked and looked up in the cache, ready to extract."""

    item: AnalyzeInput
    config: DocumentConfig
    cache_key: str
    started: float
    analysis: Analysis | None = None
    # The answer's ``experiment``: {"id", "name", "variant"} where an experiment chose the template.
    experiment: dict[str, Any] | None = None


async def prepare(*, api_key: ApiKey | None, item: AnalyzeInput, started: float) -> _Prepared:
    """Resolve the type, check the key may use it, and look the answer up in the cache.
    Raises ApiError for a request that cannot be served."""
    document_type = resolve_document_type(requested=item.document_type, lines=item.raw_texts)
    config = await aload_document_config(document_type)
    if config is None:
        raise invalid_request(
            f"Unknown document type {document_type!r}.",
            {"documentType": [f"{document_type!r} is not a known document type."]},
        )
    if api_key is not None and not api_key.may_use(document_type):
        raise forbidden(f"This key may not analyse {document_type!r} documents.")
    experiment = None
    if item.template_id is not None:
        config = replace(config, template=await load_template(item.template_id, document_type))
    else:
        chosen = await experiment_choice(
            document_type=document_type, api_key=api_key, lines=item.raw_texts
        )
        if chosen is not None:
            template, experiment = chosen
            config = replace(config, template=template)
    # Keyed on the template that serves, so each variant has its own cached answers.
    cache_key = result_cache_key(
        document_type=document_type, lines=item.raw_texts, template=config.template
    )
    prepared = _Prepared(
        item=item, config=config, cache_key=cache_key, started=started, experiment=experiment
    )
    cached = await cache.aget(cache_key) if item.use_cache else None
    if cached is not None:
        cached.request_id = uuid.uuid4()
        cached.cached = True
        cached.prompt_tokens = cached.completion_tokens = cached.prompt_tokens_unmerged = 0
        cached.cost = Decimal(0)
        cached.batch_id = None
        prepared.analysis = cached
    return prepared


async def settle(
    *, api_key: ApiKey | None, prepared: _Prepared, analysis: Analysis | ApiError
) -> Analysis:
    """Cache (where it may be) and log one finished analysis; raises an ApiError result."""
    if isinstance(analysis, ApiError):
        await request_log.record_failure(
            api_key=api_key,
            document_type=prepared.config.key,
            error=analysis,
            experiment=prepared.experiment,
        )
        raise analysis
    # Set per request, not where the answer is made: a cached answer, or one of a merged call, was
    # made with the same template but perhaps for another variant of it or for no experiment.
    analysis.experiment = prepared.experiment
    if prepared.item.use_cache and analysis.cacheable and not analysis.cached:
        await cache.aset(prepared.cache_key, analysis, settings.QV_RESULT_CACHE_SECONDS)
    analysis.processing_time_ms = int((time.perf_counter() - prepared.started) * 1000)
    await request_log.record_success(
        api_key=api_key, analysis=analysis, lines=prepared.item.raw_texts
    )
    return analysis


async def analyze(*, api_key: ApiKey | None, item: AnalyzeInput) -> Analysis:
    """Analyse one document and log it. Raises ApiError for a request that cannot be served."""
    prepared = await prepare(api_key=api_key, item=item, started=time.perf_counter())
    if prepared.analysis is not None:
        return await settle(api_key=api_key, prepared=prepared, analysis=prepared.analysis)
    try:
        analysis: Analysis | ApiError = await extract(config=prepared.config, lines=item.raw_texts)
    except ApiError as error:
        analysis = error
    return await settle(api_key=api_key, prepared=prepared, analysis=analysis)


async def analyze_batch(
    *, api_key: ApiKey | None, items: list[AnalyzeInput | ApiError]
) -> list[Analysis | ApiError]:
    """Analyse each item; an item that fails answers with its own error.

    Items that the cache cannot answer are grouped by document type and template, and each group
    is extracted in merged model calls (``extract_merged``).
    """
    started = time.perf_counter()
    results: list[Analysis | ApiError | None] = [None] * len(items)
    groups: dict[tuple, list[tuple[int, _Prepared]]] = defaultdict(list)
    for index, item in enumerate(items):
        if isinstance(item, ApiError):
            results[index] = item
            continue
        try:
            prepared = await prepare(api_key=api_key, item=item, started=started)
        except ApiError as error:
            results[index] = error
            continue
        if prepared.analysis is not None:
            results[index] = await settle(
                api_key=api_key, prepared=prepared, analysis=prepared.analysis
            )
            continue
        template = prepared.config.template
        group_key = (prepared.config.key, template.pk if template else None)
        groups[group_key].append((index, prepared))

    async def run_group(members: list[tuple[int, _Prepared]]) -> None:
        config = members[0][1].config
        analyses = await extract_merged(
            config=config, documents=[prepared.item.raw_texts for _, prepared in members]
        )
        for (index, prepared), analysis in zip(members, analyses, strict=True):
            try:
                results[index] = await settle(api_key=api_key, prepared=prepared, analysis=analysis)
            except ApiError as error:
                results[index] = error

    await asyncio.gather(*(run_group(members) for members in groups.values()))
    return [result for result in results if result is not None]
