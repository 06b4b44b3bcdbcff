"""The admin of document types, prompt templates, model routes and prices.

Experiments are administered from analytics/admin.py: their change page shows live results per
variant, which analytics computes, and prompts imports no app above it.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_POST

from prompts.admin_transfer import TemplateTransferMixin
from prompts.diff import diff_sections
from prompts.models import (
    DocumentType,
    FieldDefinition,
    ModelPrice,
    ModelRoute,
    PromptTemplate,
    Release,
)
from prompts.releases import (
    OVERRIDE_PERMISSION,
    RELEASE_PERMISSION,
    check_gate,
    gate_drops,
    release,
    rollback,
    rollback_target,
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
    change_form_template = "admin/prompts/documenttype/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("fields", "templates")

    @admin.display(description="Fields")
    def field_count(self, obj: DocumentType) -> int:
        return len(obj.fields.all())

    @admin.display(description="Default template")
    def default_template(self, obj: DocumentType) -> str:
        default = next((t for t in obj.templates.all() if t.is_default), None)
        return str(default) if default else "—"

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:type_id>/rollback/",
                self.admin_site.admin_view(self.rollback_view),
                name="prompts_documenttype_rollback",
            ),
            *super().get_urls(),
        ]

    def rollback_view(self, request: HttpRequest, type_id: int) -> HttpResponse:
        """GET: confirm going back to the version the last release replaced; POST: do it."""
        if not request.user.has_perm(RELEASE_PERMISSION):
            raise PermissionDenied
        doc_type = get_object_or_404(DocumentType, pk=type_id)
        change_url = reverse("admin:prompts_documenttype_change", args=[doc_type.pk])
        target = rollback_target(doc_type)
        if target is None:
            self.message_user(request, "There is no earlier release to go back to.", messages.ERROR)
            return redirect(change_url)
        if request.method == "POST":
            done = rollback(doc_type, user=request.user)
            self.message_user(
                request, f"Rolled back: {doc_type.key} is served by {done.to_version} again."
            )
            return redirect(change_url)
        current = PromptTemplate.objects.defaults().filter(document_type=doc_type).first()
        return TemplateResponse(
            request,
            "admin/prompts/confirm.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": f"Roll {doc_type.key} back to {target.version}?",
                "question": f"Make {target.label} the default again, replacing "
                f"{current.label if current else 'no default'}?",
                "submit": f"Yes, roll back to {target.version}",
                "cancel_url": change_url,
            },
        )

    def render_change_form(
        self, request, context, add=False, change=False, form_url="", obj=None
    ) -> HttpResponse:
        if obj is not None and obj.pk:
            context["releases"] = Release.objects.filter(document_type=obj).select_related(
                "released_by"
            )[:RELEASES_SHOWN]
            context["rollback_target"] = rollback_target(obj)
            context["gate_drop"] = next(iter(gate_drops(keys=[obj.key])), None)
            context["can_release"] = request.user.has_perm(RELEASE_PERMISSION)
        return super().render_change_form(request, context, add, change, form_url, obj)


RELEASES_SHOWN = 20


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    """The release history: read-only, written by activations, promotions, imports and
    rollbacks."""

    list_display = [
        "created_at",
        "document_type",
        "from_version",
        "to_version",
        "kind",
        "released_by",
        "override_reason",
    ]
    list_filter = ["document_type", "kind"]
    list_select_related = ["document_type", "released_by"]
    search_fields = ["document_type__key", "to_version", "from_version", "override_reason"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class PromptTemplateForm(forms.ModelForm):
    """The template form: prompt text is kept exactly as typed, but with LF line endings (a
    browser's textarea posts CRLF, which would change the text the model is sent)."""

    class Meta:
        model = PromptTemplate
        fields = [
            "document_type",
            "name",
            "version",
            "notes",
            "system_prompt",
            "user_prompt",
            "model",
            "temperature",
            "max_tokens",
            "json_mode",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in TEXT_FIELDS:
            if name in self.fields:
                self.fields[name].strip = False

    def clean(self) -> dict:
        cleaned = super().clean()
        for name in TEXT_FIELDS:
            if isinstance(cleaned.get(name), str):
                cleaned[name] = normalise_newlines(cleaned[name])
        return cleaned


TEXT_FIELDS = ("system_prompt", "user_prompt", "notes")
# What a served version shows read-only (it is immutable, see PromptTemplate.change_errors).
FROZEN_FIELDS = [
    "document_type",
    "version",
    "system_prompt",
    "user_prompt",
    "model",
    "temperature",
    "max_tokens",
    "json_mode",
]


def normalise_newlines(text: str) -> str:
    """CRLF and lone CR line endings as LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


@admin.register(PromptTemplate)
class PromptTemplateAdmin(TemplateTransferMixin, admin.ModelAdmin):
    form = PromptTemplateForm
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
    actions = ["make_default", "archive", "copy_as_new_version"]
    change_form_template = "admin/prompts/prompttemplate/change_form.html"
    change_list_template = "admin/prompts/prompttemplate/change_list.html"
    object_history_template = "admin/prompts/prompttemplate/object_history.html"
    fieldsets = [
        (None, {"fields": ["document_type", "name", "version", "status", "is_default", "notes"]}),
        ("Prompt", {"fields": ["system_prompt", "user_prompt"]}),
        ("Model settings", {"fields": ["model", "temperature", "max_tokens", "json_mode"]}),
        ("History", {"fields": ["created_by", "created_at", "updated_at"]}),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: PromptTemplate | None = None):
        # Status changes only through the guarded actions (activate, archive).
        readonly = ["status", "is_default", "created_by", "created_at", "updated_at"]
        if obj is not None and obj.has_served():
            readonly += FROZEN_FIELDS
        return readonly

    def has_delete_permission(self, request: HttpRequest, obj: PromptTemplate | None = None):
        if obj is not None and obj.has_served():
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        try:
            queryset.delete()
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)

    def save_model(self, request: HttpRequest, obj: PromptTemplate, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Activate as the default for its document type")
    def make_default(self, request: HttpRequest, queryset: QuerySet):
        if queryset.count() != 1:
            self.message_user(request, "Choose one version to activate.", messages.ERROR)
            return None
        return redirect("admin:prompts_prompttemplate_activate", queryset.get().pk)

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
            template.new_version(version=next_version(template), created_by=request.user)
        self.message_user(request, f"Copied {queryset.count()} template(s) as drafts.")

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:template_id>/new-version/",
                view(require_POST(self.new_version_view)),
                name="prompts_prompttemplate_new_version",
            ),
            path(
                "<int:template_id>/activate/",
                view(self.activate_view),
                name="prompts_prompttemplate_activate",
            ),
            path(
                "<int:template_id>/diff/",
                view(self.diff_view),
                name="prompts_prompttemplate_diff",
            ),
            *self.transfer_urls(),
            *super().get_urls(),
        ]

    def template_or_404(self, request: HttpRequest, template_id: int) -> PromptTemplate:
        return get_object_or_404(
            self.get_queryset(request).select_related("document_type"), pk=template_id
        )

    def new_version_view(self, request: HttpRequest, template_id: int) -> HttpResponse:
        """POST: copy this version into the next draft version and open it."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        template = self.template_or_404(request, template_id)
        draft = template.new_version(version=next_version(template), created_by=request.user)
        self.message_user(request, f"Draft {draft.label} created from {template.label}.")
        return redirect("admin:prompts_prompttemplate_change", draft.pk)

    def activate_view(self, request: HttpRequest, template_id: int) -> HttpResponse:
        """GET: confirm the release of this version, with the gate's verdict; POST: release it."""
        if not request.user.has_perm(RELEASE_PERMISSION):
            raise PermissionDenied
        template = self.template_or_404(request, template_id)
        current = PromptTemplate.objects.defaults().filter(
            document_type_id=template.document_type_id
        )
        if request.method == "POST":
            try:
                release(
                    template,
                    user=request.user,
                    override_reason=request.POST.get("override_reason", ""),
                )
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"The default of {template.document_type.key} is now {template.label}.",
                )
                return redirect("admin:prompts_prompttemplate_change", template.pk)
        gate = check_gate(template)
        return TemplateResponse(
            request,
            "admin/prompts/confirm.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": f"Activate {template.label}?",
                "question": f"Make {template.label} the default of {template.document_type.key}"
                f", replacing {current.first().label if current.exists() else 'no default'}?",
                "gate": gate,
                "can_override": not gate.allowed and request.user.has_perm(OVERRIDE_PERMISSION),
                "submit": f"Yes, activate {template.label}",
                "cancel_url": reverse("admin:prompts_prompttemplate_change", args=[template.pk]),
            },
        )

    def diff_view(self, request: HttpRequest, template_id: int) -> HttpResponse:
        """GET: this version against ``?against=ID`` (default: the type's default, or for the
        default itself the version before it), side by side."""
        template = self.template_or_404(request, template_id)
        versions = self.get_queryset(request).filter(document_type_id=template.document_type_id)
        against_id = request.GET.get("against", "")
        if against_id.isdigit():
            other = get_object_or_404(versions, pk=int(against_id))
        else:
            other = (
                versions.filter(is_default=True).exclude(pk=template.pk).first()
                or versions.exclude(pk=template.pk)
                .filter(created_at__lte=template.created_at)
                .first()
                or template
            )
        return TemplateResponse(
            request,
            "admin/prompts/prompttemplate/diff.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": f"{other.label} → {template.label}",
                "original": template,
                "other": other,
                "versions": versions.exclude(pk=template.pk).select_related("document_type"),
                "sections": diff_sections(other, template),
            },
        )

    def render_change_form(
        self, request, context, add=False, change=False, form_url="", obj=None
    ) -> HttpResponse:
        if obj is not None and obj.pk:
            context["served"] = obj.has_served()
            context["can_release"] = request.user.has_perm(RELEASE_PERMISSION)
        return super().render_change_form(request, context, add, change, form_url, obj)


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
