from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from ocr.exceptions import AnalysisError
from ocr.masking import mask_sensitive
from ocr.models import ApiKey, Feedback, OcrRequest, RawTextView
from ocr.pagination import LogPaginator
from prompts.configuration import get_configuration
from prompts.models import DocumentType


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "key_id",
        "status",
        "rate_limit",
        "daily_request_quota",
        "daily_token_quota",
        "last_used_at",
        "created_at",
    ]
    list_filter = ["status"]
    search_fields = ["name", "key_id"]
    readonly_fields = ["key_id", "status", "created_at", "revoked_at", "last_used_at"]
    fields = [
        "name",
        "key_id",
        "rate_limit",
        "daily_request_quota",
        "daily_token_quota",
        "allowed_document_types",
        "status",
        "created_at",
        "revoked_at",
        "last_used_at",
    ]
    actions = ["revoke"]

    def save_model(self, request: HttpRequest, obj: ApiKey, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        issued, secret = ApiKey.issue(name=obj.name, rate_limit=obj.rate_limit)
        issued.allowed_document_types = obj.allowed_document_types
        issued.daily_request_quota = obj.daily_request_quota
        issued.daily_token_quota = obj.daily_token_quota
        issued.save(
            update_fields=["allowed_document_types", "daily_request_quota", "daily_token_quota"]
        )
        obj.pk = issued.pk
        obj.key_id = issued.key_id
        # The only time the secret is shown; it is not stored in a form that can be shown again.
        self.message_user(
            request,
            f"Key id {issued.key_id} — secret {secret} (copy it now; it will not be shown again).",
            messages.WARNING,
        )

    @admin.action(description="Revoke selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        for key in queryset.active():
            key.revoke()
        self.message_user(request, "Revoked.")


def masked_corrections(feedback: Feedback) -> dict[str, Any]:
    """The corrections with the values of the type's sensitive fields masked. The API masks them
    when it stores them; this masks rows written before it did, or by other paths, as well."""
    type_config = get_configuration().document_type(feedback.request.document_type)
    specs = type_config.fields if type_config else ()
    sensitive = {spec.key for spec in specs if spec.sensitive}
    return {
        key: mask_sensitive(value) if key in sensitive and isinstance(value, str) else value
        for key, value in (feedback.corrections or {}).items()
    }


class FeedbackInline(admin.TabularInline):
    model = Feedback
    extra = 0
    can_delete = False
    readonly_fields = ["corrected_fields", "masked_corrections", "created_at"]
    fields = readonly_fields

    @admin.display(description="corrections")
    def masked_corrections(self, obj: Feedback) -> dict[str, Any]:
        return masked_corrections(obj)


def _subclasses(cls: type) -> list[type]:
    return [cls, *(sub for child in cls.__subclasses__() for sub in _subclasses(child))]


class DocumentTypeFilter(admin.SimpleListFilter):
    """The configured types, from their own small table: never a scan of the log for the
    values it holds."""

    title = "document type"
    parameter_name = "document_type"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [
            (key, key) for key in DocumentType.objects.order_by("key").values_list("key", flat=True)
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(document_type=self.value()) if self.value() else queryset


class ProviderFilter(admin.SimpleListFilter):
    title = "provider"
    parameter_name = "provider"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("openai", "openai"), ("rules", "rules"), ("", "none (failed)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        return queryset if value is None else queryset.filter(provider=value)


class ErrorCodeFilter(admin.SimpleListFilter):
    """The pipeline's error codes, known from its exceptions rather than read from the log."""

    title = "error code"
    parameter_name = "error_code"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        codes = sorted({error.code for error in _subclasses(AnalysisError)})
        return [(code, code) for code in codes]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(error_code=self.value()) if self.value() else queryset


@admin.register(OcrRequest)
class OcrRequestAdmin(admin.ModelAdmin):
    """The request log, built for millions of rows: every filter and sort has its index, a
    search is an exact match on an indexed column, and the list is never counted whole."""

    list_display = [
        "request_id",
        "document_type",
        "status",
        "error_code",
        "provider",
        "model",
        "template_version",
        "confidence",
        "processing_time_ms",
        "cached",
        "api_key",
        "created_at",
    ]
    list_filter = [
        "status",
        DocumentTypeFilter,
        ProviderFilter,
        "cached",
        ErrorCodeFilter,
        "experiment",
        "created_at",
    ]
    list_select_related = ["api_key"]
    # The sorts an index serves.
    sortable_by = ["created_at", "processing_time_ms"]
    search_fields = ["request_id"]
    search_help_text = (
        "A full request id, an API key id (qv_…), or a document type or error code, exactly."
    )
    show_full_result_count = False
    paginator = LogPaginator
    # Rendering the rows is most of a page's time: 50 keep it brisk.
    list_per_page = 50
    # The log is evidence: no bulk deletion from the list (retention purges it).
    actions = None
    inlines = [FeedbackInline]
    # Whoever holds the view_raw_text permission reveals a row's raw text with this query
    # parameter; each reveal is recorded (RawTextView) and listed on the page.
    SHOW_RAW_TEXT = "show_raw_text"

    def get_fields(self, request: HttpRequest, obj=None) -> list[str]:
        # The raw text holds identity numbers in full: it never shows among the plain fields.
        return [name for name in super().get_fields(request, obj) if name != "raw_text"]

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return [name for name in super().get_readonly_fields(request, obj) if name != "raw_text"]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None
    ):
        extra_context = dict(extra_context or {})
        obj = self.get_object(request, object_id)
        if obj is not None and obj.raw_text:
            may_view = OcrRequest.may_view_raw_text(request.user)
            extra_context["raw_text_kept"] = True
            extra_context["may_view_raw_text"] = may_view
            extra_context["show_raw_text_parameter"] = self.SHOW_RAW_TEXT
            if may_view and request.method == "GET" and request.GET.get(self.SHOW_RAW_TEXT):
                extra_context["raw_text"] = obj.reveal_raw_text(user=request.user)
                extra_context["raw_text_shown"] = True
            if may_view:
                extra_context["raw_text_views"] = list(obj.raw_text_views.all()[:50])
        return super().change_view(request, object_id, form_url, extra_context)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        return queryset.search(search_term), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = [
        "request",
        "corrected_fields",
        "masked_corrections",
        "field_count",
        "created_at",
    ]
    list_select_related = ["request"]
    list_filter = ["created_at", "request__document_type"]
    search_fields = ["request__request_id"]
    fields = ["request", "masked_corrections", "corrected_fields", "field_count", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="corrections")
    def masked_corrections(self, obj: Feedback) -> dict[str, Any]:
        return masked_corrections(obj)


@admin.register(RawTextView)
class RawTextViewAdmin(admin.ModelAdmin):
    """The record of who saw which request's raw OCR text, and when: read only."""

    list_display = ["at", "username", "request"]
    list_filter = ["at", "username"]
    list_select_related = ["request"]
    search_fields = ["username", "request__request_id"]
    date_hierarchy = "at"
    fields = ["at", "username", "user", "request"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
