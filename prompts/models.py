from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction
from django.db.models import Q

if TYPE_CHECKING:
    from ocr.fields import FieldSpec

CANONICAL_FORMATS = {
    "text": "as printed; no line breaks, no spaces inside Chinese text; Latin words keep single spaces",
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
    sensitive = models.BooleanField(default=False, help_text="Masked in logs, lists and dashboards.")
    validator = models.CharField(
        max_length=64, choices=FieldValidator.choices, default=FieldValidator.NONE, blank=True
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["document_type", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["document_type", "key"], name="unique_field_key_per_type"),
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
            PromptTemplate.objects.filter(document_type_id=self.document_type_id, is_default=True).exclude(
                pk=self.pk
            ).update(is_default=False)
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

    def render(self, *, lines: list[str], fields: list[FieldSpec]) -> list[dict[str, str]]:
        """The chat messages for one document: the OCR lines verbatim, one per line."""
        context = {
            "ocr_text": "\n".join(lines),
            "fields": render_field_list(fields),
            "formats": render_formats(fields),
            "document_type": self.document_type.key,
            "field_keys": json.dumps([f.key for f in fields]),
        }
        return [
            {"role": "system", "content": fill_placeholders(self.system_prompt, context)},
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
