"""Evaluation runs: one template version measured on one test set, stored with its results.

The run is data here; the runner that sends the cases through the pipeline lives in the ocr app
(``ocr.evaluation_runs``), which may call the pipeline.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F


class EvaluationStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"


class EvaluationRunQuerySet(models.QuerySet):
    def finished(self) -> EvaluationRunQuerySet:
        return self.filter(status=EvaluationStatus.FINISHED)

    def latest_for(self, *, template_id: int, test_set_id: int) -> EvaluationRun | None:
        """The newest finished run of a template on a test set, or None."""
        return (
            self.finished()
            .filter(template_id=template_id, test_set_id=test_set_id)
            .order_by(F("finished_at").desc(nulls_last=True), "-id")
            .first()
        )


class EvaluationRun(models.Model):
    """One evaluation of a template version on a test set."""

    template = models.ForeignKey(
        "prompts.PromptTemplate", models.CASCADE, related_name="evaluation_runs"
    )
    test_set = models.ForeignKey("prompts.TestSet", models.CASCADE, related_name="evaluation_runs")
    model = models.CharField(max_length=200, blank=True, help_text="The model that answered.")
    status = models.CharField(
        max_length=16, choices=EvaluationStatus.choices, default=EvaluationStatus.QUEUED
    )
    total_cases = models.PositiveIntegerField(default=0)
    done_cases = models.PositiveIntegerField(default=0)
    field_accuracy = models.FloatField(null=True, blank=True)
    document_accuracy = models.FloatField(null=True, blank=True)
    invented_rate = models.FloatField(
        null=True, blank=True, help_text="Values given where none was expected, of such fields."
    )
    model_failures = models.PositiveIntegerField(
        default=0, help_text="Cases where the model gave no usable answer (they count as wrong)."
    )
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    by_field = models.JSONField(
        default=dict,
        blank=True,
        help_text="Per document type: fieldAccuracy, documentAccuracy, cases, byField.",
    )
    case_results = models.JSONField(
        default=list, blank=True, help_text="Per case: id, type, expected, extracted, wrong."
    )
    error = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = EvaluationRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("run_evaluation", "Can run an evaluation")]

    def __str__(self) -> str:
        return f"run {self.pk}: {self.template} on {self.test_set}"

    @property
    def progress(self) -> str:
        return f"{self.done_cases}/{self.total_cases}"

    def figures(self) -> dict:
        """The figures the release gate compares, with the run's id."""
        return {
            "run": self.pk,
            "fieldAccuracy": self.field_accuracy,
            "inventedRate": self.invented_rate,
        }

    def describe(self) -> str:
        """E.g. 'field accuracy 0.9500, invented values 0.0100 (run 7)'."""
        return (
            f"field accuracy {self.field_accuracy or 0:.4f}, invented values "
            f"{self.invented_rate or 0:.4f} (run {self.pk})"
        )
