from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Q

from prompts import rendering
from prompts.document_types import FieldFormat, FieldSpec, FieldValidator
from prompts.models.choices import TemplateStatus
from prompts.models.evaluations import EvaluationRun, EvaluationStatus
from prompts.models.experiments import Experiment, ExperimentStatus, ExperimentVariant
from prompts.models.releases import Release, ReleaseKind
from prompts.models.routing import ModelPrice, ModelRoute
from prompts.models.testsets import TestCase, TestSet

__all__ = [
    "DocumentType",
    "EvaluationRun",
    "EvaluationStatus",
    "Experiment",
    "ExperimentStatus",
    "ExperimentVariant",
    "FieldDefinition",
    "ModelPrice",
    "ModelRoute",
    "PromptTemplate",
    "Release",
    "ReleaseKind",
    "TemplateStatus",
    "TestCase",
    "TestSet",
]


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
    gate_test_set = models.ForeignKey(
        "prompts.TestSet",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="gated_types",
        help_text="A version becomes the default only after a run on this set no worse than "
        "the current default's.",
    )
    gate_tolerance = models.FloatField(
        default=0.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="How much worse (as a fraction, 0.01 = one point) a version may measure.",
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


# What a version is: frozen once it has served (see PromptTemplate.change_errors).
CONTENT_FIELDS = (
    "document_type_id",
    "version",
    "system_prompt",
    "user_prompt",
    "model",
    "temperature",
    "max_tokens",
    "json_mode",
)


class PromptTemplateQuerySet(models.QuerySet):
    def for_type(self, key: str) -> PromptTemplateQuerySet:
        return self.filter(document_type__key=key)

    def defaults(self) -> PromptTemplateQuerySet:
        return self.filter(is_default=True)

    def usable(self) -> PromptTemplateQuerySet:
        return self.filter(status=TemplateStatus.ACTIVE)

    def named(self, name: str) -> PromptTemplate:
        """The template named ``TYPE@VERSION`` (or by its id). Raises PromptTemplate.DoesNotExist
        naming what was looked for."""
        found = self.select_related("document_type")
        if "@" in name:
            key, _, version = name.partition("@")
            found = found.filter(document_type__key=key, version=version)
        elif name.isdigit():
            found = found.filter(pk=int(name))
        else:
            raise PromptTemplate.DoesNotExist(
                f"Name a template as TYPE@VERSION or by id: {name!r}."
            )
        template = found.first()
        if template is None:
            raise PromptTemplate.DoesNotExist(f"No prompt template {name}.")
        return template

    def delete(self) -> tuple[int, dict[str, int]]:
        """Delete the templates; refused (ValidationError) where any of them has served."""
        served = [str(template) for template in self if template.has_served()]
        if served:
            raise ValidationError(
                f"{', '.join(served)} served requests and cannot be deleted; archive instead."
            )
        return super().delete()


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

    def save(self, *args, **kwargs) -> None:
        """Save; raises ValidationError (see ``change_errors``) for a change a served version,
        the default or a running experiment's template may not take."""
        self.clean()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        """Delete a version that never served; raises ValidationError for one that has."""
        if self.has_served():
            raise ValidationError(
                f"Version {self.version} served requests and cannot be deleted; archive it."
            )
        return super().delete(*args, **kwargs)

    def clean(self) -> None:
        errors = self.change_errors()
        if errors:
            raise ValidationError(errors)

    @property
    def label(self) -> str:
        """``TYPE@VERSION``, as the command line names it."""
        return f"{self.document_type.key}@{self.version}"

    def has_served(self) -> bool:
        """Whether this version (as stored) has served: it is or was a default (active), it is a
        variant of an experiment that started, or a logged request names it."""
        if self.pk is None:
            return False
        stored = PromptTemplate.objects.filter(pk=self.pk).values("status", "is_default").first()
        if stored is None:
            return False
        if stored["is_default"] or stored["status"] == TemplateStatus.ACTIVE:
            return True
        variants = self.experiment_variants.exclude(experiment__status=ExperimentStatus.DRAFT)
        # ``requests`` is the request log's reverse relation (declared by the ocr app).
        return variants.exists() or self.requests.exists()

    def change_errors(self) -> list[str]:
        """Why the unsaved state of this row may not be saved; empty when it may."""
        if self.pk is None:
            return []
        stored = PromptTemplate.objects.filter(pk=self.pk).first()
        if stored is None:
            return []
        errors = []
        changed = [f for f in CONTENT_FIELDS if getattr(self, f) != getattr(stored, f)]
        if changed and stored.has_served():
            errors.append(
                f"Version {stored.version} has served requests and cannot change "
                f"({', '.join(f.removesuffix('_id') for f in changed)}); save it as a new version."
            )
        if self.is_default and self.status != TemplateStatus.ACTIVE:
            errors.append("The default template serves its type: it stays active.")
        if (
            self.status == TemplateStatus.ARCHIVED != stored.status
            and self.serves_running_experiment()
        ):
            errors.append("A template that serves a running experiment cannot be archived.")
        return errors

    def serves_running_experiment(self) -> bool:
        return self.experiment_variants.filter(experiment__status=ExperimentStatus.RUNNING).exists()

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
        if self.is_default or self.serves_running_experiment():
            return False
        self.status = TemplateStatus.ARCHIVED
        self.save(update_fields=["status", "updated_at"])
        return True

    def new_version(self, *, version: str, created_by=None) -> PromptTemplate:
        """Copy this template into a new draft with the given version."""
        return PromptTemplate.objects.create(
            created_by=created_by,
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
