"""The extraction pipeline: from OCR lines to checked, normalised, scored fields, logged.

``analyze_batch`` serves several documents and ``analyze`` one, as a batch of one. Each document
goes through the same steps, in the order of this module:

1. ``prepare``: its type (named, or detected from the text) and the key's right to it; the
   template that serves it (one named for an evaluation, else the variant a running A/B
   experiment chooses, else the type's default); its answer from the result cache (10 minutes,
   keyed on the type, the text and the template version) where there is one.
2. ``extract``: the built-in extractor reads it (cheap, and the fallback); the model reads it
   where one is configured (OPENAI_API_KEY or OPENAI_BASE_URL; QV_PROVIDER may force "rules" or
   "openai"). Documents of one type and template share merged model calls; one that a merged
   answer leaves out gets a call of its own.
3. ``ocr.analysis``: the answer is normalised, grounded, reconciled, validated and scored. Where
   the model cannot answer (unreachable, timed out, circuit open, no usable answer), the rules
   answer with a warning, uncached so that the model serves the next request once it is back.
   Only where neither can is there an error (``ocr.exceptions.UpstreamError``).
4. ``settle``: the answer is cached where it may be, and logged (``ocr.request_log``) unless it
   is an evaluation's (``AnalyzeInput.record``).

Staff-edited configuration comes from the one snapshot the request holds
(``prompts.configuration``). Failures are domain errors (``ocr.exceptions``); the API maps them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.conf import settings

from ocr import minimise, request_log, result_cache, rules
from ocr.analysis import Analysis, fallback_analysis, model_analysis
from ocr.exceptions import AnalysisError, DocumentTypeNotAllowed, InvalidDocument
from ocr.models import ApiKey
from ocr.providers import (
    Document,
    MissingItemError,
    Provider,
    ProviderError,
    ProviderResult,
    Usage,
    get_provider,
)
from ocr.providers.openai import endpoint_configured
from ocr.providers.openai.calls import shared_deadline
from prompts.configuration import Configuration, TypeConfig
from prompts.models import Experiment, PromptTemplate
from quickvault.concurrency import together
from quickvault.runtime.turns import give_way, pause, waiting

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnalyzeInput:
    raw_texts: tuple[str, ...]
    document_type: str | None = None
    use_cache: bool = True
    # Serve with this template instead of the type's default (evaluation of a draft version);
    # it overrides any running experiment.
    template_id: int | None = None
    # False for an evaluation: the answer enters no request log, dashboard or metric.
    record: bool = True


@dataclass
class Job:
    """One document on its way through the steps."""

    item: AnalyzeInput
    type_config: TypeConfig
    template: PromptTemplate | None
    # The answer's ``experiment``: {"id", "name", "variant"} where an experiment chose the template.
    experiment: dict[str, Any] | None
    cache_key: str
    started: float
    outcome: Analysis | AnalysisError | None = None

    @property
    def lines(self) -> tuple[str, ...]:
        return self.item.raw_texts


async def analyze(
    *, api_key: ApiKey | None, item: AnalyzeInput, configuration: Configuration
) -> Analysis:
    """Analyse one document and log it. Raise AnalysisError where it cannot be served."""
    (outcome,) = await analyze_batch(api_key=api_key, items=[item], configuration=configuration)
    if isinstance(outcome, AnalysisError):
        raise outcome
    return outcome


async def analyze_batch(
    *, api_key: ApiKey | None, items: list[AnalyzeInput], configuration: Configuration
) -> list[Analysis | AnalysisError]:
    """Analyse each item and log it; return, in order, its analysis or why it failed."""
    started = time.perf_counter()
    outcomes: list[Analysis | AnalysisError | None] = [None] * len(items)
    jobs: dict[int, Job] = {}
    for index, item in enumerate(items):
        try:
            jobs[index] = await prepare(
                api_key=api_key, item=item, configuration=configuration, started=started
            )
        except AnalysisError as error:
            outcomes[index] = error
    groups: dict[tuple, list[Job]] = defaultdict(list)
    for job in jobs.values():
        if job.outcome is None:
            groups[(job.type_config.key, job.template.pk if job.template else None)].append(job)
    # Every model call of the batch (merged calls, the calls of items they left out, retries)
    # shares one deadline: the batch answers within the budget of one request.
    with shared_deadline():
        await together(
            [extract(jobs=group, configuration=configuration) for group in groups.values()]
        )
    await pause()
    for position, (index, job) in enumerate(jobs.items()):
        if position:
            await give_way()
        outcomes[index] = await settle(api_key=api_key, job=job)
    return [outcome for outcome in outcomes if outcome is not None]


# 1. Prepare


async def prepare(
    *, api_key: ApiKey | None, item: AnalyzeInput, configuration: Configuration, started: float
) -> Job:
    """Resolve the type, check the key may use it, choose the template and look the answer up
    in the result cache. Raise AnalysisError for a request that cannot be served."""
    key = resolve_document_type(requested=item.document_type, lines=item.raw_texts)
    type_config = configuration.document_type(key)
    if type_config is None:
        raise InvalidDocument(
            f"Unknown document type {key!r}.",
            details={"documentType": [f"{key!r} is not a known document type."]},
        )
    if api_key is not None and not api_key.may_use(key):
        raise DocumentTypeNotAllowed(f"This key may not analyse {key!r} documents.")
    template, experiment = type_config.template, None
    if item.template_id is not None:
        template = await load_template(item.template_id, key)
    else:
        running = configuration.running_experiment(key)
        if running is not None:
            template, experiment = experiment_choice(
                experiment=running, api_key=api_key, lines=item.raw_texts
            )
    job = Job(
        item=item,
        type_config=type_config,
        template=template,
        experiment=experiment,
        # Keyed on the template that serves, so each variant has its own cached answers.
        cache_key=result_cache_key(
            document_type=key, lines=item.raw_texts, template=template, configuration=configuration
        ),
        started=started,
    )
    if item.use_cache:
        cached = await result_cache.aget(job.cache_key, lines=job.lines)
        if cached is not None:
            job.outcome = replace(
                cached,
                request_id=uuid.uuid4(),
                cached=True,
                usage=Usage(),
                cost=Decimal(0),
                batch_id=None,
            )
    return job


def resolve_document_type(*, requested: str | None, lines: tuple[str, ...]) -> str:
    """Return the type the client named, or the one detected from the text."""
    if requested:
        return requested
    detected, _ = rules.detect_document_type(lines=list(lines))
    if detected is None:
        raise InvalidDocument(
            "The document type could not be decided from the text; send documentType.",
            details={"documentType": ["Could not be detected from rawTexts."]},
        )
    return detected


async def load_template(template_id: int, document_type: str) -> PromptTemplate:
    """Return template `template_id` of `document_type`, for the evaluation of one version."""
    async with waiting():
        template = (
            await PromptTemplate.objects.for_type(document_type)
            .select_related("document_type")
            .filter(pk=template_id)
            .afirst()
        )
    if template is None:
        raise InvalidDocument(
            f"No prompt template {template_id} for {document_type!r}.",
            details={"template": [f"Template {template_id} does not serve {document_type!r}."]},
        )
    return template


def experiment_choice(
    *, experiment: Experiment, api_key: ApiKey | None, lines: tuple[str, ...]
) -> tuple[PromptTemplate, dict[str, Any]]:
    """Return the template that `experiment` chose for this request, and the answer's
    ``experiment`` ({"id", "name", "variant"})."""
    unit = Experiment.assignment_unit(key_id=api_key.key_id if api_key else "", lines=lines)
    variant = experiment.choose_variant(unit=unit)
    return variant.template, {"id": experiment.pk, "name": experiment.name, "variant": variant.name}


def result_cache_key(
    *,
    document_type: str,
    lines: tuple[str, ...],
    template: PromptTemplate | None,
    configuration: Configuration,
) -> str:
    """The result cache's key: the text, the type, and what answers it (the provider, the model
    it is routed to, the template's version), so that a change of any serves no stale answer."""
    version = (
        f"{template.pk}:{template.version}:{template.updated_at.isoformat()}" if template else "-"
    )
    if uses_model():
        provider = "openai"
        model = configuration.choose_model(
            document_type=document_type, lines=lines, template=template
        )
    else:
        provider, model = "rules", "-"
    payload = json.dumps([document_type, provider, model, version, list(lines)], ensure_ascii=False)
    return "result:" + hashlib.sha256(payload.encode()).hexdigest()


# 2. Extract


def uses_model() -> bool:
    """Return whether the model answers (else the built-in extractor alone does)."""
    choice = settings.QV_PROVIDER.strip().lower()
    if choice == "rules":
        return False
    if choice == "openai":
        return True
    return endpoint_configured()


async def extract(*, jobs: list[Job], configuration: Configuration) -> None:
    """Extract documents of one type and template, setting each job's outcome: the model's
    answer reconciled with the rules', or the rules' alone where the model cannot answer."""
    first = jobs[0]
    documents = [
        Document(document_type=job.type_config.key, fields=job.type_config.fields, lines=job.lines)
        for job in jobs
    ]
    rules_results = []
    for index, document in enumerate(documents):
        if index:
            # Each document's work is bounded (the size limits hold after normalisation);
            # between documents other requests are served, so a batch never holds the event
            # loop for long.
            await give_way()
        rules_results.append(run_rules(document))
    if uses_model():
        await pause()
        model_results = await read_with_model(
            documents=documents,
            template=first.template,
            configuration=configuration,
            rules_results=rules_results,
        )
        await pause()
    else:
        model_results = [None] * len(jobs)
    for index, (job, model_result, rules_result) in enumerate(
        zip(jobs, model_results, rules_results, strict=True)
    ):
        if index:
            await give_way()
        try:
            job.outcome = checked_analysis(
                job=job,
                model_result=model_result,
                rules_result=rules_result,
                configuration=configuration,
            )
        except AnalysisError as error:
            job.outcome = error


def run_rules(document: Document) -> ProviderResult | None:
    """Return the built-in extractor's answer, or None where it fails (it is logged)."""
    try:
        return get_provider("rules").extract_sync(document=document)
    except Exception:
        logger.exception("The built-in extractor failed on a %s document", document.document_type)
        return None


async def read_with_model(
    *,
    documents: list[Document],
    template: PromptTemplate | None,
    configuration: Configuration,
    rules_results: list[ProviderResult | None] | None = None,
) -> list[ProviderResult | ProviderError]:
    """Return the model's answer for each document, in merged calls; a document the merged
    answer leaves out gets a call of its own. The numbers the rules checked (`rules_results`,
    one per document) reach the model as placeholders, put back into its answers
    (``ocr.minimise``), unless the document type turns that off."""
    # A merged call is routed by its largest document: its model must be fit for all.
    largest = max(documents, key=lambda d: sum(len(line) for line in d.lines))
    model = configuration.choose_model(
        document_type=largest.document_type, lines=largest.lines, template=template
    )
    redactions = [
        redaction_for(document=document, rules_result=rules_result, configuration=configuration)
        for document, rules_result in zip(
            documents, rules_results or [None] * len(documents), strict=True
        )
    ]
    documents = [
        replace(document, lines=redaction.lines)
        for document, redaction in zip(documents, redactions, strict=True)
    ]
    provider = get_provider("openai")
    results = await timed_extract(provider, documents=documents, template=template, model=model)
    missing = [i for i, result in enumerate(results) if isinstance(result, MissingItemError)]
    alone = await together(
        [
            timed_extract(provider, documents=[documents[i]], template=template, model=model)
            for i in missing
        ]
    )
    for index, (result,) in zip(missing, alone, strict=True):
        results[index] = result
    return [
        replace(result, values=minimise.restore(result.values, redaction))
        if isinstance(result, ProviderResult)
        else result
        for result, redaction in zip(results, redactions, strict=True)
    ]


async def timed_extract(
    provider: Provider, *, documents: list[Document], template: PromptTemplate | None, model: str
) -> list[ProviderResult | ProviderError]:
    """``provider.extract_many``, each answer stamped with how long its call took (the model
    latency the metrics report, for live traffic only)."""
    started = time.perf_counter()
    results = await provider.extract_many(documents=documents, template=template, model=model)
    seconds = time.perf_counter() - started
    return [
        replace(result, usage=replace(result.usage, seconds=seconds))
        if isinstance(result, ProviderResult)
        else result
        for result in results
    ]


def redaction_for(
    *, document: Document, rules_result: ProviderResult | None, configuration: Configuration
) -> minimise.Redaction:
    """The document's lines as the model may see them (``ocr.minimise``)."""
    type_config = configuration.document_type(document.document_type)
    if type_config is not None and not type_config.minimise_for_model:
        return minimise.Redaction(lines=document.lines)
    return minimise.redact(document.lines, rules_result, document.fields)


# 3. Check (ocr.analysis)


def checked_analysis(
    *,
    job: Job,
    model_result: ProviderResult | ProviderError | None,
    rules_result: ProviderResult | None,
    configuration: Configuration,
) -> Analysis:
    """Return the job's analysis from what the model and the rules answered, priced: what the
    model's call cost counts even where the rules answer instead."""
    cost = Decimal(0)
    if model_result is not None:
        cost = configuration.cost(
            model=model_result.model,
            prompt_tokens=model_result.usage.prompt_tokens,
            completion_tokens=model_result.usage.completion_tokens,
        )
    if isinstance(model_result, ProviderResult):
        return model_analysis(
            type_config=job.type_config,
            template=job.template,
            lines=job.lines,
            model_result=model_result,
            rules_result=rules_result,
            cost=cost,
        )
    return fallback_analysis(
        type_config=job.type_config,
        template=job.template,
        lines=job.lines,
        rules_result=rules_result,
        error=model_result,
        cost=cost,
    )


# 4. Settle


async def settle(*, api_key: ApiKey | None, job: Job) -> Analysis | AnalysisError:
    """Cache (where it may be) and log the job's outcome; return it."""
    outcome = job.outcome
    if isinstance(outcome, AnalysisError):
        if not job.item.record:
            return outcome
        await request_log.record_failure(
            api_key=api_key,
            document_type=job.type_config.key,
            error_code=outcome.code,
            experiment=job.experiment,
        )
        return outcome
    assert outcome is not None
    # Set per request, not where the answer is made: a cached answer, or one of a merged call,
    # was made with the same template but perhaps for another variant of it or for none.
    outcome.experiment = job.experiment
    if job.item.use_cache and outcome.cacheable and not outcome.cached:
        await result_cache.aset(
            job.cache_key, outcome, lines=job.lines, timeout=settings.QV_RESULT_CACHE_SECONDS
        )
    outcome.processing_time_ms = int((time.perf_counter() - job.started) * 1000)
    if job.item.record:
        await request_log.record_success(api_key=api_key, analysis=outcome, lines=job.lines)
    return outcome
