"""A/B experiments between template versions of one document type."""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import MinValueValidator
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone

from prompts.models.choices import TemplateStatus


class ExperimentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    RUNNING = "running", "Running"
    STOPPED = "stopped", "Stopped"


class ExperimentQuerySet(models.QuerySet):
    def running(self) -> ExperimentQuerySet:
        return self.filter(status=ExperimentStatus.RUNNING)

    def for_type(self, key: str) -> ExperimentQuerySet:
        return self.filter(document_type__key=key)

    def recent(self, *, since) -> ExperimentQuerySet:
        """Running experiments and those stopped at or after ``since``."""
        return self.filter(
            Q(status=ExperimentStatus.RUNNING)
            | Q(status=ExperimentStatus.STOPPED, stopped_at__gte=since)
        )


class Experiment(models.Model):
    """An A/B test between prompt template versions of one document type.

    While it runs, each request of the type is served by one of its variants' templates instead of
    the default, chosen by ``choose_variant`` in proportion to the variants' weights; the answer
    and the request log name the experiment and the variant. A draft is edited freely; ``start``
    checks it and puts it in front of the traffic, ``stop`` takes it away again,
    ``prompts.releases.promote``
    makes the winning variant's template the default.
    """

    document_type = models.ForeignKey(
        "prompts.DocumentType", models.CASCADE, related_name="experiments"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="What is tested and why.")
    status = models.CharField(
        max_length=16, choices=ExperimentStatus.choices, default=ExperimentStatus.DRAFT
    )
    started_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(blank=True, help_text="What came of it, e.g. the variant promoted.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ExperimentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # A partial unique index: a request of a type has one experiment to ask, never two.
            models.UniqueConstraint(
                fields=["document_type"],
                condition=Q(status=ExperimentStatus.RUNNING),
                name="one_running_experiment_per_type",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def start_errors(self) -> list[str]:
        """Why this experiment cannot start now; empty when it can."""
        if self.status != ExperimentStatus.DRAFT:
            return [f"Only a draft experiment can start; this one is {self.status}."]
        errors = []
        variants = list(self.variants.select_related("template"))
        if len(variants) < 2:
            errors.append("An experiment needs at least two variants.")
        for variant in variants:
            if variant.weight < 1:
                errors.append(f"Variant {variant.name!r} needs a weight of at least 1.")
            if variant.template.document_type_id != self.document_type_id:
                errors.append(f"Variant {variant.name!r} uses a template of another document type.")
            if variant.template.status == TemplateStatus.ARCHIVED:
                errors.append(f"Variant {variant.name!r} uses an archived template.")
        running = Experiment.objects.running().filter(document_type_id=self.document_type_id)
        other = running.exclude(pk=self.pk).first()
        if other is not None:
            errors.append(f"Experiment {other.name!r} is already running for this document type.")
        return errors

    def start(self) -> None:
        """Serve the type's requests from the variants' templates from now on.

        Raises ValidationError, with every reason, where the experiment is not a draft, has fewer
        than two variants, has a weight below 1, a template of another type or an archived one,
        or where another experiment runs for the type.
        """
        errors = self.start_errors()
        if errors:
            raise ValidationError(errors)
        self.status = ExperimentStatus.RUNNING
        self.started_at = timezone.now()
        self.stopped_at = None
        try:
            with transaction.atomic():
                self.save(update_fields=["status", "started_at", "stopped_at", "updated_at"])
        except IntegrityError as error:
            # Another experiment of the type started between the check and the save.
            self.status, self.started_at = ExperimentStatus.DRAFT, None
            raise ValidationError(
                "Another experiment is already running for this document type."
            ) from error

    def stop(self) -> bool:
        """Stop serving the variants; the default template serves the type again.
        Returns whether the experiment was running."""
        if self.status != ExperimentStatus.RUNNING:
            return False
        self.status = ExperimentStatus.STOPPED
        self.stopped_at = timezone.now()
        self.outcome = self.outcome or "Stopped; no variant was promoted."
        self.save(update_fields=["status", "stopped_at", "outcome", "updated_at"])
        return True

    @staticmethod
    def assignment_unit(*, key_id: str, lines: Sequence[str]) -> str:
        """Return the unit an experiment assigns to a variant: the API key id and the SHA-256 of
        the OCR text (the lines joined by newlines, as the prompt holds them).

        The same request from the same app always lands on the same variant, so it is served by
        the same template and the result cache (keyed on the template) answers it consistently;
        the text's hash keeps the text itself out of the unit.
        """
        text_hash = hashlib.sha256("\n".join(lines).encode()).hexdigest()
        return f"{key_id}:{text_hash}"

    def choose_variant(self, *, unit: str) -> ExperimentVariant:
        """The variant that serves ``unit`` (see ``assignment_unit``).

        A weighted choice by a stable hash (SHA-256) of this experiment's id and the unit: the
        same unit always gets the same variant while the variants stay as they are, different
        units spread over the variants in proportion to their weights, and each experiment
        shuffles the units afresh. Reads ``self.variants.all()``, so an experiment fetched with
        its variants prefetched chooses without a query. Raises ValueError where no variant has a
        positive weight.
        """
        # Ordered by id: adding a variant to a draft never moves the units of the older ones.
        variants = sorted((v for v in self.variants.all() if v.weight > 0), key=lambda v: v.pk)
        if not variants:
            raise ValueError(f"Experiment {self.pk} has no variant with a positive weight.")
        bounds = list(accumulate(v.weight for v in variants))
        digest = hashlib.sha256(f"{self.pk}:{unit}".encode()).digest()
        # 64 bits of the hash: the modulo bias is below 2**-40 for any practical total weight.
        point = int.from_bytes(digest[:8], "big") % bounds[-1]
        return variants[bisect_right(bounds, point)]


class ExperimentVariant(models.Model):
    """One arm of an experiment: a template version and its share of the traffic."""

    experiment = models.ForeignKey(Experiment, models.CASCADE, related_name="variants")
    name = models.CharField(max_length=64, help_text="E.g. control or candidate.")
    # RESTRICT: the results name this template and it must stay to be promoted; it goes only with
    # its whole document type (which takes the experiment along).
    template = models.ForeignKey(
        "prompts.PromptTemplate",
        models.RESTRICT,
        related_name="experiment_variants",
        help_text="A template of the experiment's document type.",
    )
    weight = models.PositiveIntegerField(
        default=1,
        validators=[MinValueValidator(1)],
        help_text="Share of the traffic relative to the other variants' weights (e.g. 90 and 10).",
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "name"], name="unique_variant_name_per_experiment"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            experiment, template = self.experiment, self.template
        except ObjectDoesNotExist:
            return  # The missing field reports itself.
        if template.document_type_id != experiment.document_type_id:
            raise ValidationError(
                {"template": "Choose a template of the experiment's document type."}
            )
