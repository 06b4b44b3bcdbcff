"""Evaluation runs: a template version measured on a test set through the real pipeline.

``new_run`` stores a queued ``prompts.models.EvaluationRun``; ``ocr.tasks.enqueue_evaluation``
hands it to a Celery task (in-process on the embedded default, on a worker with Redis) once the
transaction commits; ``run_evaluation`` does the work: the cases go through the pipeline a
few at a time (``CASES_AT_ONCE``), with the template named, no result cache and no request log
(``AnalyzeInput.record``), the progress is saved after each group and the scores at the end.

A case where a configured model gives no usable answer (the pipeline fell back to the built-in
extractor, or failed) counts as a failure of the template: its fields count as not extracted, and
the run counts it in ``model_failures``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from asgiref.sync import async_to_sync
from django.utils import timezone

from ocr import metrics, pipeline
from ocr.evaluation import score_cases
from ocr.exceptions import AnalysisError
from prompts.configuration import get_configuration
from prompts.models import EvaluationRun, EvaluationStatus, PromptTemplate, TestSet

logger = logging.getLogger(__name__)

# Cases in flight at once: enough to overlap the model's latency, few enough to leave the
# endpoint's rate limit to the live traffic.
CASES_AT_ONCE = 4
MODEL_PROVIDER = "openai"


@dataclass
class Outcome:
    """What the pipeline gave for a set of cases, before scoring."""

    extracted: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)
    model: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: Decimal = Decimal(0)

    def add(self, case_id: str, result: Any, *, uses_model: bool) -> None:
        if isinstance(result, AnalysisError):
            self.extracted[case_id] = {}
            self.failed.add(case_id)
            return
        self.model = self.model or (result.model or "")
        self.prompt_tokens += result.usage.prompt_tokens
        self.completion_tokens += result.usage.completion_tokens
        self.cost += result.cost
        if uses_model and result.provider != MODEL_PROVIDER:
            # A fallback answer is the built-in extractor's, not the template's.
            self.extracted[case_id] = {}
            self.failed.add(case_id)
        else:
            self.extracted[case_id] = result.fields


async def _analyze_group(cases: list[dict], *, template_id: int | None, configuration) -> list:
    async def one(case: dict):
        item = pipeline.AnalyzeInput(
            raw_texts=tuple(case["rawTexts"]),
            document_type=case["documentType"],
            use_cache=False,
            template_id=template_id,
            record=False,
        )
        try:
            return await pipeline.analyze(api_key=None, item=item, configuration=configuration)
        except AnalysisError as error:
            return error

    return await asyncio.gather(*(one(case) for case in cases))


def evaluate_cases(*, cases: list[dict], template_id: int | None, progress=None) -> Outcome:
    """Send ``cases`` through the pipeline, ``CASES_AT_ONCE`` at a time, with template
    ``template_id`` (None: each type's default) and nothing logged; ``progress(done)`` is called
    after each group."""
    configuration = get_configuration()
    uses_model = pipeline.uses_model()
    outcome = Outcome()
    for start in range(0, len(cases), CASES_AT_ONCE):
        group = cases[start : start + CASES_AT_ONCE]
        results = async_to_sync(_analyze_group)(
            group, template_id=template_id, configuration=configuration
        )
        for case, result in zip(group, results, strict=True):
            outcome.add(case["id"], result, uses_model=uses_model)
        if progress is not None:
            progress(start + len(group))
    return outcome


def scored_report(cases: list[dict], outcome: Outcome) -> dict[str, Any]:
    """``score_cases``'s report, with ``modelFailures`` and each case's ``modelFailure``."""
    report = score_cases(cases, lambda case: outcome.extracted[case["id"]])
    report["modelFailures"] = len(outcome.failed)
    for case in report["cases"]:
        case["modelFailure"] = case["id"] in outcome.failed
    return report


def new_run(*, template: PromptTemplate, test_set: TestSet, user=None) -> EvaluationRun:
    """Store a queued run of ``template`` on the cases of its type in ``test_set``. Raises
    ValueError where the set has no case of the type."""
    total = test_set.cases.filter(document_type=template.document_type.key).count()
    if not total:
        raise ValueError(f"“{test_set}” has no case of type {template.document_type.key}.")
    run = EvaluationRun.objects.create(
        template=template, test_set=test_set, total_cases=total, started_by=user
    )
    return run


def run_evaluation(*, run_id: int, progress=None) -> EvaluationRun:
    """Run a queued evaluation to the end, saving its progress (and passing the cases done to
    ``progress``) and then its results. A run that fails is marked failed, with the error. A
    run found running was cut off (its worker died, and the task is delivered again: see
    CELERY_TASK_REJECT_ON_WORKER_LOST): it starts over. A finished or failed one is left as it
    is, so a task delivered twice does the work once."""
    run = EvaluationRun.objects.select_related("template__document_type", "test_set").get(pk=run_id)
    if run.status not in (EvaluationStatus.QUEUED, EvaluationStatus.RUNNING):
        return run
    cases = run.test_set.as_cases(document_type=run.template.document_type.key)
    run.status, run.started_at, run.total_cases = (
        EvaluationStatus.RUNNING,
        timezone.now(),
        len(cases),
    )
    run.save(update_fields=["status", "started_at", "total_cases"])

    def saved_progress(done: int) -> None:
        EvaluationRun.objects.filter(pk=run.pk).update(done_cases=done)
        if progress is not None:
            progress(done)

    try:
        outcome = evaluate_cases(cases=cases, template_id=run.template_id, progress=saved_progress)
        report = scored_report(cases, outcome)
    except Exception as error:
        logger.exception("Evaluation run %s failed", run.pk)
        run.status, run.error, run.finished_at = EvaluationStatus.FAILED, str(error), timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        return run
    save_results(run, report=report, outcome=outcome)
    publish_gate_figure(run)
    return run


def publish_gate_figure(run: EvaluationRun) -> None:
    """Publish a finished run of a type's default on its gate set as the type's latest periodic
    evaluation (the metric ``ocr_evaluation_field_accuracy``)."""
    document_type = run.template.document_type
    if run.template.is_default and document_type.gate_test_set_id == run.test_set_id:
        metrics.set_evaluation_gauge(document_type.key, run.field_accuracy or 0.0)


def save_results(run: EvaluationRun, *, report: dict[str, Any], outcome: Outcome) -> None:
    run.status = EvaluationStatus.FINISHED
    run.done_cases = len(report["cases"])
    run.field_accuracy = report["fieldAccuracy"]
    run.document_accuracy = report["documentAccuracy"]
    run.invented_rate = report["inventedRate"]
    run.model_failures = report["modelFailures"]
    run.by_field = report["byDocumentType"]
    run.case_results = report["cases"]
    run.model = outcome.model
    run.prompt_tokens, run.completion_tokens = outcome.prompt_tokens, outcome.completion_tokens
    run.cost = outcome.cost
    run.finished_at = timezone.now()
    run.save()


def run_report(run: EvaluationRun) -> dict[str, Any]:
    """A finished run as ``manage.py evaluate``'s JSON report."""
    return {
        "run": run.pk,
        "template": run.template.label,
        "testSet": run.test_set.name,
        "fieldAccuracy": run.field_accuracy,
        "documentAccuracy": run.document_accuracy,
        "inventedRate": run.invented_rate,
        "modelFailures": run.model_failures,
        "byDocumentType": run.by_field,
        "cases": run.case_results,
        "models": {run.model: run.total_cases} if run.model else {},
        "tokens": {
            "prompt": run.prompt_tokens,
            "completion": run.completion_tokens,
            "total": run.prompt_tokens + run.completion_tokens,
        },
        "cost": float(run.cost),
    }


def new_gated_default_runs() -> list[EvaluationRun]:
    """A queued run of each active type's default on the type's gate set (the periodic check
    that the default still measures as it did; see ``prompts.releases.gate_drops``)."""
    runs = []
    defaults = (
        PromptTemplate.objects.defaults()
        .select_related("document_type__gate_test_set")
        .filter(document_type__is_active=True, document_type__gate_test_set__isnull=False)
    )
    for template in defaults:
        try:
            runs.append(new_run(template=template, test_set=template.document_type.gate_test_set))
        except ValueError:
            logger.warning("The gate set of %s has no case of its type", template.document_type)
    return runs
