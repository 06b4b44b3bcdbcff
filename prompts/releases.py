"""Releasing a template version: making it its type's default, through the type's gate.

Every path that changes a default (the admin's action and buttons, an experiment's promotion, an
import with ``isDefault``, ``manage.py activate_template``) calls ``release``; ``rollback`` goes
back to the version the last release replaced. Each writes a ``Release`` row: who, when, from
which version to which, the gate's figures and any override reason.

The gate: where the type names a gate test set, the version needs a finished evaluation run on
that set that is no worse than the current default's latest run on it, beyond the type's
tolerance, in field accuracy and in invented values. Staff with the ``override_release_gate``
permission may release a refused version with a written reason. Where no model is configured the
templates cannot be measured (the built-in extractor answers whatever the prompt says), so the
gate is skipped and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from prompts.models import (
    EvaluationRun,
    Experiment,
    ExperimentStatus,
    ExperimentVariant,
    PromptTemplate,
    Release,
    ReleaseKind,
    TemplateStatus,
)

OVERRIDE_PERMISSION = "prompts.override_release_gate"
RELEASE_PERMISSION = "prompts.release_template"
NO_MODEL_MESSAGE = "No model is configured, so the gate cannot measure templates; it was skipped."


class ReleaseRefused(ValidationError):
    """The gate refused the release; the message names both figures."""


@dataclass
class GateResult:
    """What the gate decided: ``allowed``, why (``message``), and the figures it compared."""

    allowed: bool
    message: str = ""
    candidate: dict = field(default_factory=dict)
    baseline: dict = field(default_factory=dict)


def model_configured() -> bool:
    """Whether a model answers extractions (the pipeline's own test, from the same settings)."""
    choice = settings.QV_PROVIDER.strip().lower()
    if choice in ("rules", "openai"):
        return choice == "openai"
    return bool(settings.OPENAI_API_KEY or settings.OPENAI_BASE_URL)


def check_gate(template: PromptTemplate) -> GateResult:
    """Whether ``template`` may become its type's default by the type's gate."""
    doc_type = template.document_type
    test_set = doc_type.gate_test_set
    if test_set is None:
        return GateResult(True, f"{doc_type.key} has no gate test set.")
    if not model_configured():
        return GateResult(True, NO_MODEL_MESSAGE)
    candidate = EvaluationRun.objects.latest_for(template_id=template.pk, test_set_id=test_set.pk)
    if candidate is None:
        return GateResult(
            False,
            f"{template.label} has no finished evaluation run on the gate set "
            f"“{test_set.name}”; evaluate it first.",
        )
    current = PromptTemplate.objects.defaults().filter(document_type=doc_type).first()
    if current is None or current.pk == template.pk:
        return GateResult(True, "No other default to compare with.", candidate.figures())
    baseline = EvaluationRun.objects.latest_for(template_id=current.pk, test_set_id=test_set.pk)
    if baseline is None:
        return GateResult(
            True,
            f"The default {current.label} has no run on “{test_set.name}” to compare with.",
            candidate.figures(),
        )
    tolerance = doc_type.gate_tolerance
    worse = (candidate.field_accuracy or 0) < (baseline.field_accuracy or 0) - tolerance or (
        candidate.invented_rate or 0
    ) > (baseline.invented_rate or 0) + tolerance
    comparison = (
        f"{template.label}: {candidate.describe()}; the default {current.label}: "
        f"{baseline.describe()}; tolerance {tolerance:.4f} on “{test_set.name}”."
    )
    verdict = "Refused, worse than the default beyond the tolerance. " if worse else "Passed. "
    return GateResult(not worse, verdict + comparison, candidate.figures(), baseline.figures())


def release(
    template: PromptTemplate,
    *,
    user=None,
    override_reason: str = "",
    kind: str = ReleaseKind.ACTIVATE,
) -> Release:
    """Make ``template`` its type's default through the gate and record the release.

    Raises ReleaseRefused (a ValidationError) with the gate's message where the gate refuses and
    there is no override: an override needs a non-blank reason and, for a ``user``, the
    ``override_release_gate`` permission (the command line, with no user, is trusted). Raises
    ValidationError for an archived template, the default itself, or a ``user`` without the
    ``release_template`` permission.
    """
    if template.status == TemplateStatus.ARCHIVED:
        raise ValidationError(f"{template.label} is archived; save it as a new version first.")
    if template.is_default:
        raise ValidationError(f"{template.label} is already the default.")
    if user is not None and not user.has_perm(RELEASE_PERMISSION):
        raise ValidationError("You may not release template versions.")
    gate = check_gate(template)
    reason = override_reason.strip()
    if not gate.allowed:
        if not reason:
            raise ReleaseRefused(gate.message)
        if user is not None and not user.has_perm(OVERRIDE_PERMISSION):
            raise ReleaseRefused(f"{gate.message} You may not override the gate.")
    with transaction.atomic():
        previous = (
            PromptTemplate.objects.defaults()
            .filter(document_type_id=template.document_type_id)
            .first()
        )
        template.make_default()
        return Release.objects.create(
            document_type_id=template.document_type_id,
            from_template=previous,
            from_version=previous.version if previous else "",
            to_template=template,
            to_version=template.version,
            kind=kind,
            candidate_figures=gate.candidate,
            baseline_figures=gate.baseline,
            gate_message=gate.message,
            override_reason=reason if not gate.allowed else "",
            released_by=user if user is not None and user.is_authenticated else None,
        )


def rollback_target(document_type) -> PromptTemplate | None:
    """The version the type's latest release replaced, if it still exists and may serve."""
    last = Release.objects.filter(document_type=document_type).select_related("from_template")
    last = last.first()
    if last is None or last.from_template is None:
        return None
    if last.from_template.status == TemplateStatus.ARCHIVED:
        return None
    return last.from_template


def rollback(document_type, *, user=None) -> Release:
    """Make the version the type's latest release replaced the default again, and record it.

    A rollback returns to a version that served before, so it does not pass the gate. Raises
    ValidationError where there is nothing to roll back to, or for a ``user`` without the
    ``release_template`` permission.
    """
    if user is not None and not user.has_perm(RELEASE_PERMISSION):
        raise ValidationError("You may not release template versions.")
    target = rollback_target(document_type)
    if target is None:
        raise ValidationError(f"{document_type.key} has no earlier released version to go back to.")
    with transaction.atomic():
        current = PromptTemplate.objects.defaults().filter(document_type=document_type).first()
        target.make_default()
        return Release.objects.create(
            document_type=document_type,
            from_template=current,
            from_version=current.version if current else "",
            to_template=target,
            to_version=target.version,
            kind=ReleaseKind.ROLLBACK,
            gate_message="A rollback to the version that served before; not gated.",
            released_by=user if user is not None and user.is_authenticated else None,
        )


def promote(
    experiment: Experiment,
    variant: ExperimentVariant,
    *,
    user=None,
    override_reason: str = "",
) -> Release:
    """Make ``variant``'s template the default of the type through the gate (see ``release``),
    stop the experiment and record the outcome on it.

    Raises ValidationError for a variant of another experiment, an experiment that is not
    running, or a release the gate refuses (the experiment then keeps running).
    """
    if variant.experiment_id != experiment.pk:
        raise ValidationError(f"Variant {variant.name!r} is not part of {experiment.name!r}.")
    if experiment.status != ExperimentStatus.RUNNING:
        raise ValidationError(
            f"Only a running experiment can be promoted; this one is {experiment.status}."
        )
    with transaction.atomic():
        done = release(
            variant.template,
            user=user,
            override_reason=override_reason,
            kind=ReleaseKind.PROMOTE,
        )
        experiment.stop()
        experiment.outcome = f"Promoted {variant.name} ({variant.template.label})."
        experiment.save(update_fields=["outcome", "updated_at"])
    return done


def gate_drops(*, keys: list[str] | None = None) -> list[dict]:
    """The types (of ``keys``, or all) whose default measured worse on the gate set, beyond the
    tolerance, in its latest finished run than in the one before:
    [{"type", "template", "latest", "previous"}]."""
    drops = []
    defaults = PromptTemplate.objects.defaults().select_related("document_type__gate_test_set")
    if keys is not None:
        defaults = defaults.filter(document_type__key__in=keys)
    for template in defaults.filter(document_type__gate_test_set__isnull=False):
        doc_type = template.document_type
        runs = list(
            EvaluationRun.objects.finished()
            .filter(template=template, test_set=doc_type.gate_test_set)
            .order_by(F("finished_at").desc(nulls_last=True), "-id")[:2]
        )
        if len(runs) < 2:
            continue
        latest, previous = runs
        tolerance = doc_type.gate_tolerance
        if (latest.field_accuracy or 0) < (previous.field_accuracy or 0) - tolerance or (
            latest.invented_rate or 0
        ) > (previous.invented_rate or 0) + tolerance:
            drops.append(
                {"type": doc_type.key, "template": template, "latest": latest, "previous": previous}
            )
    return drops
