"""The admin of test sets and evaluation runs: import and export test sets, start a run of a
template on a set, watch its progress, read its results and compare two runs.

It lives above the ocr app because starting a run enqueues the ocr app's task; the pages keep the
prompts app's URLs and templates (admin/prompts/...), as Django names both after the models' app.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.views.decorators.http import require_POST

from analytics.playground import playground_view
from ocr.evaluation_runs import new_run
from ocr.feedback_cases import add_cases_from_feedback
from ocr.tasks import enqueue_evaluation
from prompts.models import (
    DocumentType,
    EvaluationRun,
    EvaluationStatus,
    PromptTemplate,
    TemplateStatus,
    TestCase,
    TestSet,
)

RUN_PERMISSION = "prompts.run_evaluation"
# A test set upload is read whole: bound it before reading.
MAX_UPLOAD_BYTES = 20_000_000


class TestCaseInline(admin.TabularInline):
    model = TestCase
    extra = 0
    fields = ["position", "case_id", "document_type", "raw_texts", "expected"]


@admin.register(TestSet)
class TestSetAdmin(admin.ModelAdmin):
    list_display = ["name", "case_count", "types", "gates", "updated_at"]
    search_fields = ["name", "description"]
    inlines = [TestCaseInline]
    change_form_template = "admin/prompts/testset/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .annotate(case_total=Count("cases", distinct=True))
            .prefetch_related("gated_types")
        )

    @admin.display(description="Cases", ordering="case_total")
    def case_count(self, obj: TestSet) -> int:
        return obj.case_total

    @admin.display(description="Document types")
    def types(self, obj: TestSet) -> str:
        return ", ".join(obj.document_types()) or "—"

    @admin.display(description="Gate of")
    def gates(self, obj: TestSet) -> str:
        return ", ".join(t.key for t in obj.gated_types.all()) or "—"

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:set_id>/import/",
                view(require_POST(self.import_view)),
                name="prompts_testset_import",
            ),
            path("<int:set_id>/export/", view(self.export_view), name="prompts_testset_export"),
            path(
                "<int:set_id>/from-feedback/",
                view(require_POST(self.from_feedback_view)),
                name="prompts_testset_from_feedback",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest, set_id: int) -> HttpResponse:
        """POST a JSON Lines file: it replaces the set's cases (nothing changes on an error)."""
        test_set = get_object_or_404(TestSet, pk=set_id)
        if not self.has_change_permission(request, test_set):
            raise PermissionDenied
        upload = request.FILES.get("file")
        if upload is None or upload.size > MAX_UPLOAD_BYTES:
            self.message_user(
                request, f"Choose a JSON Lines file of at most {MAX_UPLOAD_BYTES} bytes.", "error"
            )
            return redirect("admin:prompts_testset_change", set_id)
        try:
            text = upload.read().decode("utf-8")
            count = test_set.import_jsonl(
                text, known_types=DocumentType.objects.values_list("key", flat=True)
            )
        except UnicodeDecodeError:
            self.message_user(request, "The file is not UTF-8 text.", messages.ERROR)
        except ValidationError as error:
            for line in error.messages:
                self.message_user(request, line, messages.ERROR)
        else:
            self.message_user(request, f"Imported {count} case(s) into “{test_set}”.")
        return redirect("admin:prompts_testset_change", set_id)

    def from_feedback_view(self, request: HttpRequest, set_id: int) -> HttpResponse:
        """POST document_type (and limit): add cases from logged requests with feedback."""
        test_set = get_object_or_404(TestSet, pk=set_id)
        if not self.has_change_permission(request, test_set):
            raise PermissionDenied
        key = request.POST.get("document_type", "")
        limit = request.POST.get("limit", "")
        if not DocumentType.objects.filter(key=key).exists() or not limit.isdigit():
            self.message_user(request, "Choose a document type and a number.", messages.ERROR)
            return redirect("admin:prompts_testset_change", set_id)
        added = add_cases_from_feedback(test_set=test_set, document_type=key, limit=int(limit))
        self.message_user(
            request,
            f"Added {added} case(s) of {key} from logged requests with feedback (only those "
            "whose raw text was kept; sensitive fields, logged masked, are left out).",
        )
        return redirect("admin:prompts_testset_change", set_id)

    def render_change_form(
        self, request, context, add=False, change=False, form_url="", obj=None
    ) -> HttpResponse:
        context["document_types"] = DocumentType.objects.values_list("key", flat=True)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def export_view(self, request: HttpRequest, set_id: int) -> HttpResponse:
        """GET: the set's cases as a JSON Lines download."""
        test_set = get_object_or_404(TestSet, pk=set_id)
        if not self.has_view_permission(request, test_set):
            raise PermissionDenied
        response = HttpResponse(test_set.export_jsonl(), content_type="application/jsonl")
        response["Content-Disposition"] = f'attachment; filename="testset-{test_set.pk}.jsonl"'
        return response


class StartRunForm(forms.Form):
    template = forms.ModelChoiceField(
        queryset=PromptTemplate.objects.exclude(status=TemplateStatus.ARCHIVED).select_related(
            "document_type"
        )
    )
    test_set = forms.ModelChoiceField(queryset=TestSet.objects.all())

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].label_from_instance = lambda t: (
            f"{t.label} ({t.get_status_display()}{', default' if t.is_default else ''})"
        )


@admin.register(EvaluationRun)
class EvaluationRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "template",
        "test_set",
        "status",
        "progress",
        "field_accuracy",
        "document_accuracy",
        "invented_rate",
        "model_failures",
        "cost",
        "started_by",
        "created_at",
    ]
    list_filter = ["status", "test_set", "template__document_type"]
    list_select_related = ["template__document_type", "test_set", "started_by"]
    search_fields = ["template__version", "template__document_type__key", "test_set__name"]
    date_hierarchy = "created_at"
    actions = ["compare"]
    change_form_template = "admin/prompts/evaluationrun/change_form.html"
    exclude = ["case_results", "by_field"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # runs start from the start page, a template's page or a test set's

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # a run is a record

    @admin.action(description="Compare the two selected runs")
    def compare(self, request: HttpRequest, queryset: QuerySet):
        runs = list(queryset.order_by("created_at", "id")[:3])
        if len(runs) != 2:
            self.message_user(request, "Choose exactly two runs to compare.", messages.ERROR)
            return None
        return redirect("admin:prompts_evaluationrun_compare", runs[0].pk, runs[1].pk)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("start/", view(self.start_view), name="prompts_evaluationrun_start"),
            path(
                "playground/<int:template_id>/",
                view(lambda request, template_id: playground_view(self, request, template_id)),
                name="prompts_prompttemplate_playground",
            ),
            path(
                "compare/<int:first>/<int:second>/",
                view(self.compare_view),
                name="prompts_evaluationrun_compare",
            ),
            *super().get_urls(),
        ]

    def start_view(self, request: HttpRequest) -> HttpResponse:
        """GET: choose a template and a test set (``?template=`` and ``?test_set=`` preselect);
        POST: store the run, enqueue it and open its page."""
        if not request.user.has_perm(RUN_PERMISSION):
            raise PermissionDenied
        form = StartRunForm(request.POST or None, initial=request.GET.dict())
        if request.method == "POST" and form.is_valid():
            try:
                run = new_run(user=request.user, **form.cleaned_data)
            except ValueError as error:
                form.add_error(None, str(error))
            else:
                enqueue_evaluation(run.pk)
                self.message_user(request, f"Evaluation run {run.pk} started.")
                return redirect("admin:prompts_evaluationrun_change", run.pk)
        return TemplateResponse(
            request,
            "admin/prompts/evaluationrun/start.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": "Evaluate a template on a test set",
                "form": form,
            },
        )

    def compare_view(self, request: HttpRequest, first: int, second: int) -> HttpResponse:
        """Two runs side by side, per field and per case; regressions (worse in the second)
        highlighted."""
        runs = self.get_queryset(request).select_related("template__document_type", "test_set")
        a, b = get_object_or_404(runs, pk=first), get_object_or_404(runs, pk=second)
        return TemplateResponse(
            request,
            "admin/prompts/evaluationrun/compare.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": f"Run {a.pk} against run {b.pk}",
                "a": a,
                "b": b,
                "fields": field_rows(a, b),
                "cases": case_rows(a, b),
            },
        )

    def render_change_form(
        self, request, context, add=False, change=False, form_url="", obj=None
    ) -> HttpResponse:
        if obj is not None:
            context["running"] = obj.status in (EvaluationStatus.QUEUED, EvaluationStatus.RUNNING)
            context["fields"] = field_rows(obj, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)


def field_rows(a: EvaluationRun, b: EvaluationRun) -> list[dict[str, Any]]:
    """Per (type, field): each run's accuracy and whether the second is worse."""
    rows = []
    types = sorted(set(a.by_field) | set(b.by_field))
    for doc in types:
        left = (a.by_field.get(doc) or {}).get("byField", {})
        right = (b.by_field.get(doc) or {}).get("byField", {})
        for key in [*left, *(k for k in right if k not in left)]:
            rows.append(
                {
                    "type": doc,
                    "field": key,
                    "a": left.get(key),
                    "b": right.get(key),
                    "regression": left.get(key) is not None
                    and right.get(key) is not None
                    and right[key] < left[key],
                }
            )
    return rows


def case_rows(a: EvaluationRun, b: EvaluationRun) -> list[dict[str, Any]]:
    """Per case: whether each run got it right, their wrong fields, and whether it regressed."""
    left = {c["id"]: c for c in a.case_results}
    right = {c["id"]: c for c in b.case_results}
    rows = []
    for case_id in [*left, *(k for k in right if k not in left)]:
        one, two = left.get(case_id, {}), right.get(case_id, {})
        rows.append(
            {
                "id": case_id,
                "a_correct": one.get("correct"),
                "b_correct": two.get("correct"),
                "a_wrong": ", ".join(one.get("wrongFields", [])),
                "b_wrong": ", ".join(two.get("wrongFields", [])),
                "regression": one.get("correct") is True and two.get("correct") is False,
            }
        )
    return rows
