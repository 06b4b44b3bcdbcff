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

from prompts import rendering
from prompts.document_types import FieldFormat, FieldSpec, FieldValidator


class DocumentTypeQuerySet(models.QuerySet):
    def active(self) -> DocumentTypeQuerySet:
        return self.filter(is_active=True)


class DocumentType(models.Model):
    key = models.CharField(max_length=64, unique=True, help_text="camelCase key the app sends.")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    cross_checks = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    minimise_for_model = models.BooleanField(
        "minimise data sent to the model",
        default=True,
        help_text="Numbers the built-in extractor checks (ID, card, credit code, VIN, passport "
        "number, MRZ lines) reach the model as placeholders and are put back into its answer.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DocumentTypeQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.key

    def field_specs(self) -> list[FieldSpec]:
        return [
            FieldSpec(
                key=f.key,
                label=f.label,
                format=f.format,
                required=f.required,
                sensitive=f.sensitive,
                validator=f.validator,
            )
            for f in self.fields.all()
        ]


class FieldDefinition(models.Model):
    document_type = models.ForeignKey(DocumentType, models.CASCADE, related_name="fields")
    key = models.CharField(max_length=64)
    label = models.CharField(max_length=200)
    format = models.CharField(max_length=32, choices=FieldFormat.choices, default=FieldFormat.TEXT)
    required = models.BooleanField(default=False)
    sensitive = models.BooleanField(
        default=False, help_text="Masked in logs, lists and dashboards."
    )
    validator = models.CharField(
        max_length=64, choices=FieldValidator.choices, default=FieldValidator.NONE, blank=True
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["document_type", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["document_type", "key"], name="unique_field_key_per_type"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document_type.key}.{self.key}"


class TemplateStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    ARCHIVED = "archived", "Archived"


class PromptTemplateQuerySet(models.QuerySet):
    def for_type(self, key: str) -> PromptTemplateQuerySet:
        return self.filter(document_type__key=key)

    def defaults(self) -> PromptTemplateQuerySet:
        return self.filter(is_default=True)

    def usable(self) -> PromptTemplateQuerySet:
        return self.filter(status=TemplateStatus.ACTIVE)


class PromptTemplate(models.Model):
    document_type = models.ForeignKey(DocumentType, models.CASCADE, related_name="templates")
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=32, help_text="Semantic version, e.g. 2.0.0.")
    status = models.CharField(
        max_length=16, choices=TemplateStatus.choices, default=TemplateStatus.DRAFT
    )
    is_default = models.BooleanField(
        default=False, help_text="The template that serves requests for its document type."
    )
    system_prompt = models.TextField()
    user_prompt = models.TextField(
        help_text="Placeholders: {{ocr_text}}, {{fields}}, {{formats}}, {{document_type}}."
    )
    model = models.CharField(
        max_length=200, blank=True, help_text="Model name; blank follows the model routing."
    )
    temperature = models.FloatField(default=0.0)
    max_tokens = models.PositiveIntegerField(default=800)
    json_mode = models.BooleanField(default=True, help_text="Ask the endpoint for a JSON object.")
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PromptTemplateQuerySet.as_manager()

    class Meta:
        ordering = ["document_type", "-created_at"]
        constraints = [
            # A partial unique index: at most one default per type, and the index that finds it.
            models.UniqueConstraint(
                fields=["document_type"],
                condition=Q(is_default=True),
                name="one_default_template_per_type",
            ),
            models.UniqueConstraint(
                fields=["document_type", "version"], name="unique_template_version_per_type"
            ),
        ]
        indexes = [models.Index(fields=["document_type", "status"], name="template_type_status")]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"

    def make_default(self) -> None:
        """Make this template the one that serves its type; the previous default stays active."""
        with transaction.atomic():
            PromptTemplate.objects.filter(
                document_type_id=self.document_type_id, is_default=True
            ).exclude(pk=self.pk).update(is_default=False)
            self.is_default = True
            self.status = TemplateStatus.ACTIVE
            self.save(update_fields=["is_default", "status", "updated_at"])

    def archive(self) -> bool:
        """Archive the template; neither the serving default nor a template a running experiment
        serves can be archived. Returns whether it was."""
        if self.is_default:
            return False
        if self.experiment_variants.filter(experiment__status=ExperimentStatus.RUNNING).exists():
            return False
        self.status = TemplateStatus.ARCHIVED
        self.save(update_fields=["status", "updated_at"])
        return True

    def new_version(self, *, version: str) -> PromptTemplate:
        """Copy this template into a new draft with the given version."""
        return PromptTemplate.objects.create(
            document_type=self.document_type,
            name=self.name,
            version=version,
            status=TemplateStatus.DRAFT,
            system_prompt=self.system_prompt,
            user_prompt=self.user_prompt,
            model=self.model,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            json_mode=self.json_mode,
            notes=f"Copied from {self.version}.",
        )

    def render(
        self, *, lines: list[str], fields: list[FieldSpec], document_type: str | None = None
    ) -> list[dict[str, str]]:
        """Return the chat messages for one document (see ``prompts.rendering``);
        ``document_type`` (the key) spares a query for the template's type in async code."""
        return rendering.render_messages(
            system_prompt=self.system_prompt,
            user_prompt=self.user_prompt,
            lines=lines,
            fields=fields,
            document_type=document_type or self.document_type.key,
        )

    def render_batch(
        self,
        *,
        documents: list[list[str]],
        fields: list[FieldSpec],
        document_type: str | None = None,
    ) -> list[dict[str, str]]:
        """Return the chat messages for several documents merged into one call."""
        return rendering.render_batch_messages(
            system_prompt=self.system_prompt,
            user_prompt=self.user_prompt,
            documents=documents,
            fields=fields,
            document_type=document_type or self.document_type.key,
        )


class ModelRouteQuerySet(models.QuerySet):
    def active(self) -> ModelRouteQuerySet:
        return self.filter(is_active=True)

    def for_type(self, key: str) -> ModelRouteQuerySet:
        """Routes of this document type and routes of any type."""
        return self.filter(Q(document_type__isnull=True) | Q(document_type__key=key))


class ModelRoute(models.Model):
    """Which model serves a document: by type and by how much OCR text it has.

    The active routes that match a document are tried from the highest priority down (a route of
    the document's own type before one for any type at equal priority); the first one wins. A
    route with a blank model sends the document to the default model (OPENAI_MODEL). A template
    that names a model overrides the routing.
    """

    name = models.CharField(max_length=200, help_text="What the route is for, e.g. short cards.")
    document_type = models.ForeignKey(
        DocumentType,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="model_routes",
        help_text="Blank: any document type.",
    )
    max_ocr_chars = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Only documents with at most this many OCR characters; blank: any length.",
    )
    max_ocr_lines = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Only documents with at most this many OCR lines; blank: any number.",
    )
    model = models.CharField(
        max_length=200, blank=True, help_text="Model name; blank: the default model."
    )
    priority = models.IntegerField(default=0, help_text="Higher is tried first.")
    is_active = models.BooleanField(default=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ModelRouteQuerySet.as_manager()

    class Meta:
        ordering = ["-priority", "id"]
        indexes = [models.Index(fields=["is_active", "-priority"], name="modelroute_active_prio")]

    def __str__(self) -> str:
        return self.name or f"route {self.pk}"


class ModelPrice(models.Model):
    """What a model costs, in US dollars per million tokens, as staff last set it."""

    model = models.CharField(
        max_length=200,
        unique=True,
        help_text="Model name as the endpoint knows it; also prices its dated variants "
        "(gpt-4o-mini prices gpt-4o-mini-2024-07-18).",
    )
    input_per_million = models.DecimalField(
        max_digits=10, decimal_places=4, help_text="USD per 1M prompt tokens."
    )
    output_per_million = models.DecimalField(
        max_digits=10, decimal_places=4, help_text="USD per 1M completion tokens."
    )
    notes = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["model"]

    def __str__(self) -> str:
        return self.model


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
    checks it and puts it in front of the traffic, ``stop`` takes it away again, ``promote`` makes
    the winning variant's template the default.
    """

    document_type = models.ForeignKey(DocumentType, models.CASCADE, related_name="experiments")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="What is tested and why.")
    status = models.CharField(
        max_length=16, choices=ExperimentStatus.choices, default=ExperimentStatus.DRAFT
    )
    started_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
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
        self.save(update_fields=["status", "stopped_at", "updated_at"])
        return True

    def promote(self, variant: ExperimentVariant) -> None:
        """Make ``variant``'s template the default of the type and stop the experiment.

        Raises ValidationError for a variant of another experiment, or a draft (it has no results
        to promote on).
        """
        if variant.experiment_id != self.pk:
            raise ValidationError(f"Variant {variant.name!r} is not part of {self.name!r}.")
        if self.status == ExperimentStatus.DRAFT:
            raise ValidationError("A draft experiment has no results to promote; start it first.")
        with transaction.atomic():
            variant.template.make_default()
            self.stop()

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
        PromptTemplate,
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
