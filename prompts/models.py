from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction
from django.db.models import Q

if TYPE_CHECKING:
    from ocr.fields import FieldSpec

CANONICAL_FORMATS = {
    "text": (
        "as printed; no line breaks, no spaces inside Chinese text; Latin words keep single spaces"
    ),
    "date": "YYYY-MM-DD",
    "yearMonth": "YYYY-MM (a card's 08/29 is 2029-08)",
    "validUntil": "YYYY-MM-DD, or long-term where the document says 长期",
    "gender": "male or female",
    "country": "three-letter code as in a machine readable zone (CHN, UTO)",
    "code": "upper case, no spaces, no middle dots",
    "digits": "digits only, no spaces",
    "debit or credit": "debit or credit",
}

PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")

# The marker line before each document of a merged (batch) prompt.
BATCH_MARKER = "--- document {index} of {count} ---"
# Appended to the template's system prompt when several documents share one call.
BATCH_INSTRUCTIONS = """

This request holds {{count}} separate documents of this type. Each starts with a marker line
"--- document N of {{count}} ---" followed by its own OCR lines.
- Answer with ONE JSON object {"items": [...]} and nothing else. The list has exactly {{count}}
  objects, one per document, in the order the documents appear.
- Every object follows the rules above on its own: exactly the field keys {{field_keys}}, each
  value taken from that document's lines only, or null."""


class FieldFormat(models.TextChoices):
    TEXT = "text", "Text"
    DATE = "date", "Date"
    YEAR_MONTH = "yearMonth", "Year and month"
    VALID_UNTIL = "validUntil", "Date or long-term"
    GENDER = "gender", "Gender"
    COUNTRY = "country", "Country code"
    CODE = "code", "Code"
    DIGITS = "digits", "Digits"
    CARD_TYPE = "debit or credit", "Debit or credit"


class FieldValidator(models.TextChoices):
    NONE = "", "None"
    CN_RESIDENT_ID = "cn_resident_id", "Resident ID (GB 11643)"
    CN_UNIFIED_CREDIT_CODE = "cn_unified_credit_code", "Unified social credit code (GB 32100)"
    LUHN = "luhn", "Luhn"
    MRZ_CHECK_DIGITS = "mrz_check_digits", "MRZ check digits (ICAO 9303)"
    VIN_CHECK_DIGIT = "vin_check_digit", "VIN check digit (ISO 3779)"


class DocumentTypeQuerySet(models.QuerySet):
    def active(self) -> DocumentTypeQuerySet:
        return self.filter(is_active=True)


class DocumentType(models.Model):
    key = models.CharField(max_length=64, unique=True, help_text="camelCase key the app sends.")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    cross_checks = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DocumentTypeQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.key

    @staticmethod
    def cache_key(key: str) -> str:
        return f"doctype:{key}"

    def field_specs(self) -> list[FieldSpec]:
        from ocr.fields import FieldSpec

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

    def default_template(self) -> PromptTemplate | None:
        return self.templates.filter(is_default=True).first()

    def clear_cache(self) -> None:
        cache.delete(self.cache_key(self.key))


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

    @staticmethod
    def cache_key(document_type_key: str) -> str:
        return f"template:default:{document_type_key}"

    def clear_cache(self) -> None:
        cache.delete_many([self.cache_key(self.document_type.key), f"template:{self.pk}"])

    def make_default(self) -> None:
        """Make this template the one that serves its type; the previous default stays active."""
        with transaction.atomic():
            PromptTemplate.objects.filter(
                document_type_id=self.document_type_id, is_default=True
            ).exclude(pk=self.pk).update(is_default=False)
            self.is_default = True
            self.status = TemplateStatus.ACTIVE
            self.save(update_fields=["is_default", "status", "updated_at"])
        self.clear_cache()

    def archive(self) -> bool:
        """Archive the template; the serving default cannot be archived. Returns whether it was."""
        if self.is_default:
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
        """The chat messages for one document: the OCR lines verbatim, one per line.

        ``document_type`` (the key) spares a query for the template's type in async code.
        """
        context = {
            "ocr_text": "\n".join(lines),
            "fields": render_field_list(fields),
            "formats": render_formats(fields),
            "document_type": document_type or self.document_type.key,
            "field_keys": json.dumps([f.key for f in fields]),
        }
        return [
            {"role": "system", "content": fill_placeholders(self.system_prompt, context)},
            {"role": "user", "content": fill_placeholders(self.user_prompt, context)},
        ]

    def render_batch(
        self,
        *,
        documents: list[list[str]],
        fields: list[FieldSpec],
        document_type: str | None = None,
    ) -> list[dict[str, str]]:
        """The chat messages for several documents of this type merged into one call.

        Rendered from this same template: the system prompt and the field list and formats once
        (the instructions the documents share), then ``{{ocr_text}}`` holds every document's OCR
        lines verbatim under a marker line ``--- document N of M ---``, and BATCH_INSTRUCTIONS
        ask for ``{"items": [...]}``, one object per document in that order. Staff write one
        template per type; the batch form needs nothing more from them.
        """
        count = len(documents)
        sections = [
            BATCH_MARKER.format(index=index, count=count) + "\n" + "\n".join(lines)
            for index, lines in enumerate(documents, start=1)
        ]
        context = {
            "ocr_text": "\n\n".join(sections),
            "fields": render_field_list(fields),
            "formats": render_formats(fields),
            "document_type": document_type or self.document_type.key,
            "field_keys": json.dumps([f.key for f in fields]),
            "count": str(count),
        }
        system = fill_placeholders(self.system_prompt, context)
        return [
            {"role": "system", "content": system + fill_placeholders(BATCH_INSTRUCTIONS, context)},
            {"role": "user", "content": fill_placeholders(self.user_prompt, context)},
        ]


def fill_placeholders(text: str, context: dict[str, str]) -> str:
    # Unknown placeholders stay as written so a typo is visible in the rendered prompt.
    return PLACEHOLDER.sub(lambda m: context.get(m.group(1), m.group(0)), text)


def render_field_list(fields: list[FieldSpec]) -> str:
    return "\n".join(
        f"- {f.key} ({f.label}): {f.format}{', required' if f.required else ''}" for f in fields
    )


def render_formats(fields: list[FieldSpec]) -> str:
    used = dict.fromkeys(f.format for f in fields)
    return "\n".join(f"- {name}: {CANONICAL_FORMATS.get(name, name)}" for name in used)


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

    CACHE_KEY = "model-routing:routes"

    class Meta:
        ordering = ["-priority", "id"]
        indexes = [models.Index(fields=["is_active", "-priority"], name="modelroute_active_prio")]

    def __str__(self) -> str:
        return self.name or f"route {self.pk}"

    def matches(self, *, document_type: str, chars: int, lines: int) -> bool:
        """Whether this route serves a document of this type with this much OCR text."""
        if self.document_type_id is not None and self.document_type.key != document_type:
            return False
        if self.max_ocr_chars is not None and chars > self.max_ocr_chars:
            return False
        return self.max_ocr_lines is None or lines <= self.max_ocr_lines


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

    CACHE_KEY = "model-routing:prices"

    class Meta:
        ordering = ["model"]

    def __str__(self) -> str:
        return self.model

    def cost(self, *, prompt_tokens: int, completion_tokens: int) -> Decimal:
        """The price of one call, rounded to the log's six decimal places."""
        total = (
            Decimal(prompt_tokens) * self.input_per_million
            + Decimal(completion_tokens) * self.output_per_million
        ) / Decimal(1_000_000)
        return total.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
