"""Export and import of prompt templates in the admin, with a dry-run preview (the rules are
``prompts.transfer``'s)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from prompts.transfer import PromptImportError, export_templates, import_templates

# An uploaded export is read whole: bound it before reading.
MAX_UPLOAD_BYTES = 20_000_000


class TemplateTransferMixin:
    """Adds ``export/`` (a JSON download) and ``import/`` (upload, preview, import) to a
    ModelAdmin of PromptTemplate."""

    def transfer_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("export/", view(self.export_view), name="prompts_prompttemplate_export"),
            path("import/", view(self.import_view), name="prompts_prompttemplate_import"),
        ]

    def export_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        response = JsonResponse(export_templates(), json_dumps_params={"ensure_ascii": False})
        response["Content-Disposition"] = 'attachment; filename="prompts.json"'
        return response

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """GET: the upload form; POST: a dry run (the preview) or the import itself."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        report = None
        if request.method == "POST":
            report = self.run_import(request)
        return TemplateResponse(
            request,
            "admin/prompts/prompttemplate/import.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": "Import prompt templates",
                "report": report,
                "dry_run": request.POST.get("dry_run") == "on",
            },
        )

    def run_import(self, request: HttpRequest):
        upload = request.FILES.get("file")
        if upload is None or upload.size > MAX_UPLOAD_BYTES:
            self.message_user(
                request, f"Choose an export of at most {MAX_UPLOAD_BYTES} bytes.", messages.ERROR
            )
            return None
        try:
            data = json.loads(upload.read().decode("utf-8"))
            report = import_templates(
                data, dry_run=request.POST.get("dry_run") == "on", user=request.user
            )
        except (UnicodeDecodeError, ValueError) as error:  # PromptImportError is a ValueError
            reason = error if isinstance(error, PromptImportError) else "not a JSON export"
            self.message_user(request, f"Cannot import this file: {reason}.", messages.ERROR)
            return None
        if report.errors:
            self.message_user(
                request, f"{len(report.errors)} error(s): nothing was imported.", messages.ERROR
            )
        elif report.applied:
            self.message_user(request, "Imported.")
        return report
