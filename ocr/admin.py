from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from ocr.models import ApiKey, Feedback, OcrRequest


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


class FeedbackInline(admin.TabularInline):
    model = Feedback
    extra = 0
    can_delete = False
    readonly_fields = ["corrected_fields", "corrections", "created_at"]
    fields = readonly_fields


@admin.register(OcrRequest)
class OcrRequestAdmin(admin.ModelAdmin):
    list_display = [
        "request_id",
        "document_type",
        "status",
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
        "document_type",
        "provider",
        "cached",
        "error_code",
        "experiment",
        "created_at",
    ]
    list_select_related = ["api_key", "template"]
    search_fields = ["request_id", "document_type", "model", "api_key__name", "api_key__key_id"]
    date_hierarchy = "created_at"
    inlines = [FeedbackInline]

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
