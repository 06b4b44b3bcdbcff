"""The admin of document types, prompt templates, model routes and prices.

Experiments are administered from analytics/admin.py: their change page shows live results per
variant, which analytics computes, and prompts imports no app above it.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from prompts.models import (
    DocumentType,
    FieldDefinition,
    ModelPrice,
    ModelRoute,
    PromptTemplate,
    TemplateStatus,
)


class FieldDefinitionInline(admin.TabularInline):
    model = FieldDefinition
    extra = 0
    fields = ["position", "key", "label", "format", "required", "sensitive", "validator"]
    ordering = ["position", "id"]


@admin.register(DocumentType)
class DocumentTypeAdmin(admin.ModelAdmin):
    list_display = [
        "key",
        "name",
        "field_count",
        "default_template",
        "is_active",
        "minimise_for_model",
        "updated_at",
    ]
    list_filter = ["is_active", "minimise_for_model"]
    search_fields = ["key", "name"]
    inlines = [FieldDefinitionInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("fields", "templates")

    @admin.display(description="Fields")
    def field_count(self, obj: DocumentType) -> int:
        return len(obj.fields.all())

    @admin.display(description="Default template")
    def default_template(self, obj: DocumentType) -> str:
        default = next((t for t in obj.templates.all() if t.is_default), None)
        return str(default) if default else "—"


@admin.register(PromptTemplate)
class PromptTemplateAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "version",
        "document_type",
        "status",
        "is_default",
        "model",
        "updated_at",
    ]
    list_filter = ["status", "is_default", "document_type"]
    list_select_related = ["document_type"]
    search_fields = ["name", "version", "system_prompt", "user_prompt", "notes"]
    readonly_fields = ["is_default", "created_by", "created_at", "updated_at"]
    actions = ["make_default", "archive", "copy_as_new_version"]
    fieldsets = [
        (None, {"fields": ["document_type", "name", "version", "status", "is_default", "notes"]}),
        ("Prompt", {"fields": ["system_prompt", "user_prompt"]}),
        ("Model settings", {"fields": ["model", "temperature", "max_tokens", "json_mode"]}),
        ("History", {"fields": ["created_by", "created_at", "updated_at"]}),
    ]

    def save_model(self, request: HttpRequest, obj: PromptTemplate, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Activate as the default for its document type")
    def make_default(self, request: HttpRequest, queryset: QuerySet) -> None:
        chosen: dict[int, PromptTemplate] = {}
        for template in queryset.select_related("document_type"):
            chosen[template.document_type_id] = template
        for template in chosen.values():
            template.make_default()
        self.message_user(request, f"{len(chosen)} template(s) now serve their document type.")

    @admin.action(description="Archive")
    def archive(self, request: HttpRequest, queryset: QuerySet) -> None:
        archived = sum(template.archive() for template in queryset)
        skipped = queryset.count() - archived
        self.message_user(request, f"Archived {archived} template(s).")
        if skipped:
            self.message_user(
                request,
                f"{skipped} template(s) that serve (the default, or a variant of a running "
                "experiment) were left as they are.",
                messages.WARNING,
            )

    @admin.action(description="Copy as a new draft version")
    def copy_as_new_version(self, request: HttpRequest, queryset: QuerySet) -> None:
        for template in queryset.select_related("document_type"):
            template.new_version(version=next_version(template))
        self.message_user(request, f"Copied {queryset.count()} template(s) as drafts.")

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        return {"status": TemplateStatus.DRAFT}


def next_version(template: PromptTemplate) -> str:
    """The next free patch version of a template, e.g. 1.0.0 -> 1.0.1."""
    taken = set(
        PromptTemplate.objects.filter(document_type_id=template.document_type_id).values_list(
            "version", flat=True
        )
    )
    parts = template.version.split(".")
    major, minor, patch = [*parts, "0", "0", "0"][:3]
    number = int(patch) if patch.isdigit() else 0
    while True:
        number += 1
        candidate = f"{major}.{minor}.{number}"
        if candidate not in taken:
            return candidate


@admin.register(ModelRoute)
class ModelRouteAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "document_type",
        "max_ocr_chars",
        "max_ocr_lines",
        "model_or_default",
        "priority",
        "is_active",
        "updated_at",
    ]
    list_filter = ["is_active", "document_type", "model"]
    list_editable = ["priority", "is_active"]
    list_select_related = ["document_type"]
    search_fields = ["name", "model", "notes", "document_type__key"]
    ordering = ["-priority", "id"]
    fieldsets = [
        (None, {"fields": ["name", "model", "priority", "is_active", "notes"]}),
        (
            "Which documents",
            {
                "fields": ["document_type", "max_ocr_chars", "max_ocr_lines"],
                "description": "Blank conditions match every document. The first active route "
                "that matches, highest priority first, chooses the model; a template that names "
                "a model overrides the routing.",
            },
        ),
    ]

    @admin.display(description="Model", ordering="model")
    def model_or_default(self, obj: ModelRoute) -> str:
        return obj.model or "(default model)"


@admin.register(ModelPrice)
class ModelPriceAdmin(admin.ModelAdmin):
    list_display = ["model", "input_per_million", "output_per_million", "updated_at"]
    list_editable = ["input_per_million", "output_per_million"]
    search_fields = ["model", "notes"]
    list_filter = ["updated_at"]
    ordering = ["model"]
