from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from ocr.exceptions import AnalysisError
from ocr.models import ApiKey, Feedback, OcrRequest
from ocr.pagination import LogPaginator
from prompts.models import DocumentType


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "key_id", "status", "rate_limit", "last_used_at", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "key_id"]
    readonly_fields = ["key_id", "status", "created_at", "revoked_at", "last_used_at"]
    fields = [
        "name",
        "key_id",
        "rate_limit",
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
        issued.save(update_fields=["allowed_document_types"])
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


class FeedbackInline(admin.TabularInline):
    model = Feedback
    extra = 0
    can_delete = False
    readonly_fields = ["corrected_fields", "corrections", "created_at"]
    fields = readonly_fields


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
    list_display = ["request", "corrected_fields", "field_count", "created_at"]
    list_select_related = ["request"]
    list_filter = ["created_at", "request__document_type"]
    search_fields = ["request__request_id"]
    readonly_fields = ["request", "corrections", "corrected_fields", "field_count", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
