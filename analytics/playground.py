"""The playground: one document through a template version and through its type's default, side
by side, field by field, with confidences and validation. Nothing enters the live request log.

The lines come from the form (pasted OCR text), a case of a test set, or a logged request whose
raw text was kept (QV_STORE_RAW_TEXT).
"""

from __future__ import annotations

import asyncio
from typing import Any

from asgiref.sync import async_to_sync
from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse

from ocr import pipeline
from ocr.exceptions import AnalysisError
from ocr.models import OcrRequest
from prompts.configuration import get_configuration
from prompts.models import PromptTemplate, TestCase

MAX_LINES = 200
MAX_LINE_CHARS = 2_000
CASES_OFFERED = 200


class PlaygroundForm(forms.Form):
    lines = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10, "cols": 80}),
        required=False,
        max_length=MAX_LINES * MAX_LINE_CHARS,
        strip=False,
        help_text="The OCR lines, one a line.",
    )
    case = forms.ModelChoiceField(
        queryset=TestCase.objects.none(), required=False, label="Or a test case"
    )
    request_id = forms.UUIDField(required=False, label="Or a logged request's id")

    def __init__(self, *args, document_type: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["case"].queryset = TestCase.objects.filter(
            document_type=document_type
        ).select_related("test_set")[:CASES_OFFERED]
        self.document_type = document_type

    def clean(self) -> dict:
        cleaned = super().clean()
        lines = [line for line in cleaned.get("lines", "").splitlines() if line.strip()]
        if cleaned.get("case") is not None:
            lines = list(cleaned["case"].raw_texts)
        elif cleaned.get("request_id") is not None:
            logged = OcrRequest.objects.filter(request_id=cleaned["request_id"]).first()
            if logged is None or not logged.raw_text:
                raise forms.ValidationError("No logged request with that id kept its raw text.")
            lines = logged.raw_text.splitlines()
        if not lines:
            raise forms.ValidationError("Paste OCR lines, or choose a case or a logged request.")
        if len(lines) > MAX_LINES or any(len(line) > MAX_LINE_CHARS for line in lines):
            raise forms.ValidationError(
                f"At most {MAX_LINES} lines of {MAX_LINE_CHARS} characters."
            )
        cleaned["ocr_lines"] = lines
        return cleaned


async def _both(
    lines: list[str], *, document_type: str, template_ids: list[int | None], configuration
):
    async def one(template_id: int | None):
        item = pipeline.AnalyzeInput(
            raw_texts=tuple(lines),
            document_type=document_type,
            use_cache=False,
            template_id=template_id,
            record=False,
        )
        try:
            return await pipeline.analyze(api_key=None, item=item, configuration=configuration)
        except AnalysisError as error:
            return error

    return await asyncio.gather(*(one(t) for t in template_ids))


def field_rows(template: PromptTemplate, mine, theirs) -> list[dict[str, Any]]:
    """Per field of the type: each side's value, confidence and validation, and whether they
    differ."""
    rows = []
    for spec in template.document_type.field_specs():
        row = {"field": spec.key}
        for side, analysis in (("mine", mine), ("theirs", theirs)):
            ok = not isinstance(analysis, AnalysisError)
            row[side] = {
                "value": analysis.fields.get(spec.key) if ok else None,
                "confidence": analysis.field_confidence.get(spec.key) if ok else None,
                "validation": analysis.validation.get(spec.key) if ok else None,
            }
        row["differs"] = row["mine"]["value"] != row["theirs"]["value"]
        rows.append(row)
    return rows


def playground_view(model_admin, request: HttpRequest, template_id: int) -> HttpResponse:
    """GET: the form; POST: the rendered prompt and both answers, field by field."""
    if not request.user.has_perm("prompts.run_evaluation"):
        raise PermissionDenied
    template = get_object_or_404(
        PromptTemplate.objects.select_related("document_type"), pk=template_id
    )
    key = template.document_type.key
    default = PromptTemplate.objects.defaults().for_type(key).first()
    form = PlaygroundForm(request.POST or None, document_type=key)
    context: dict[str, Any] = {}
    if request.method == "POST" and form.is_valid():
        lines = form.cleaned_data["ocr_lines"]
        fields = template.document_type.field_specs()
        ids = [template.pk, default.pk if default else None]
        mine, theirs = async_to_sync(_both)(
            lines, document_type=key, template_ids=ids, configuration=get_configuration()
        )
        context = {
            "messages_sent": template.render(lines=lines, fields=fields),
            "mine": mine,
            "theirs": theirs,
            "rows": field_rows(template, mine, theirs),
        }
    return TemplateResponse(
        request,
        "admin/prompts/prompttemplate/playground.html",
        {
            **model_admin.admin_site.each_context(request),
            "opts": template._meta,
            "title": f"Playground: {template.label}",
            "original": template,
            "default": default,
            "form": form,
            **context,
        },
    )
