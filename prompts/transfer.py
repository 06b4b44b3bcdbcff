"""Moving prompt templates, with their versions, between installations."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from prompts.models import DocumentType, PromptTemplate, TemplateStatus

FORMAT_VERSION = 1
TEMPLATE_FIELDS = [
    "name",
    "version",
    "status",
    "system_prompt",
    "user_prompt",
    "model",
    "temperature",
    "max_tokens",
    "json_mode",
    "notes",
]


def export_templates() -> dict[str, Any]:
    templates = PromptTemplate.objects.select_related("document_type").order_by(
        "document_type__key", "created_at"
    )
    return {
        "format": FORMAT_VERSION,
        "templates": [
            {
                "documentType": t.document_type.key,
                "isDefault": t.is_default,
                **{name: getattr(t, name) for name in TEMPLATE_FIELDS},
            }
            for t in templates
        ],
    }


class PromptImportError(ValueError):
    """The file is not an export this installation can read."""


@transaction.atomic
def import_templates(data: dict[str, Any]) -> dict[str, int]:
    """Create or update templates by (document type, version). A template exported as the default
    becomes the default here. Returns counts of created, updated and skipped templates."""
    if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
        raise PromptImportError(f"Not a prompt export of format {FORMAT_VERSION}.")
    counts = {"created": 0, "updated": 0, "skipped": 0}
    types = {t.key: t for t in DocumentType.objects.all()}
    defaults: list[PromptTemplate] = []
    for entry in data.get("templates", []):
        doc_type = types.get(entry.get("documentType"))
        if doc_type is None:
            counts["skipped"] += 1
            continue
        values = {name: entry[name] for name in TEMPLATE_FIELDS if name in entry}
        if values.get("status") not in TemplateStatus.values:
            values["status"] = TemplateStatus.DRAFT
        template, created = PromptTemplate.objects.update_or_create(
            document_type=doc_type,
            version=values.pop("version"),
            defaults=values,
        )
        counts["created" if created else "updated"] += 1
        if entry.get("isDefault"):
            defaults.append(template)
    for template in defaults:
        template.make_default()
    return counts
