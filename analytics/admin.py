"""The admin of prompt experiments: set one up, start and stop it, read its live results per
variant and promote a variant's template.

It lives in analytics rather than beside the other prompt admins because its change page shows
the results analytics computes, and prompts (the lowest app) imports no app above it. The pages
keep the prompts app's URLs and templates (admin/prompts/experiment/...), as Django names both
after the model's app.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_POST

from analytics import evaluation_admin  # noqa: F401  (registers the test set and run admins)
from analytics.services import variant_results
from analytics.srm import sample_ratio
from prompts.models import (
    Experiment,
    ExperimentStatus,
    ExperimentVariant,
    PromptTemplate,
    TemplateStatus,
)
from prompts.releases import OVERRIDE_PERMISSION, RELEASE_PERMISSION, check_gate, promote


class ExperimentVariantInline(admin.TabularInline):
    model = ExperimentVariant
    fields = ["name", "template", "weight"]

    def get_extra(self, request: HttpRequest, obj: Experiment | None = None, **kwargs) -> int:
        # Rows for the two variants an experiment needs at least; blank ones are ignored.
        if not editable(obj):
            return 0
        return max(0, 2 - (obj.variants.count() if obj is not None else 0))

    def get_formset(self, request: HttpRequest, obj: Experiment | None = None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        template_field = formset.form.base_fields.get("template")
        if template_field is not None:
            templates = PromptTemplate.objects.exclude(status=TemplateStatus.ARCHIVED)
            if obj is not None:
                templates = templates.filter(document_type_id=obj.document_type_id)
            template_field.queryset = templates.select_related("document_type")
            template_field.label_from_instance = template_label
        return formset

    # Once an experiment has started its variants stay as they are: a changed weight or
    # template would move units between variants and mix two experiments in one result.
    def has_add_permission(self, request: HttpRequest, obj: Experiment | None = None) -> bool:
        return editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Experiment | None = None) -> bool:
        return editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Experiment | None = None) -> bool:
        return editable(obj) and super().has_delete_permission(request, obj)


def observed_split(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The traffic each variant served beside its weight, with the sample-ratio-mismatch test."""
    variants = [row for row in rows if row.get("id")]
    ratio = sample_ratio(
        counts=[row["count"] for row in variants], weights=[row["weight"] for row in variants]
    )
    return {
        "ratio": ratio,
        "rows": [
            {"variant": row["variant"], "count": count, "observed": seen, "expected": wanted}
            for row, count, seen, wanted in zip(
                variants, ratio.counts, ratio.observed, ratio.expected, strict=False
            )
        ],
    }


def editable(experiment: Experiment | None) -> bool:
    """Whether an experiment's set-up may still change: a new one or a draft."""
    return experiment is None or experiment.status == ExperimentStatus.DRAFT


def template_label(template: PromptTemplate) -> str:
    return f"{template.document_type.key} {template.version} ({template.get_status_display()})"


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "document_type",
        "status",
        "variant_list",
        "started_at",
        "stopped_at",
        "created_by",
    ]
    list_filter = ["status", "document_type", "started_at"]
    list_select_related = ["document_type", "created_by"]
    search_fields = ["name", "description", "document_type__key", "variants__name"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "status",
        "started_at",
        "stopped_at",
        "outcome",
        "created_by",
        "created_at",
    ]
    fields = [
        "name",
        "document_type",
        "description",
        "status",
        "started_at",
        "stopped_at",
        "outcome",
        "created_by",
        "created_at",
    ]
    inlines = [ExperimentVariantInline]
    actions = ["start", "stop"]
    change_form_template = "admin/prompts/experiment/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("variants")

    def get_readonly_fields(self, request: HttpRequest, obj: Experiment | None = None) -> list:
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly if editable(obj) else [*readonly, "document_type"]

    def save_model(self, request: HttpRequest, obj: Experiment, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description="Variants (weight)")
    def variant_list(self, obj: Experiment) -> str:
        return ", ".join(f"{v.name} ({v.weight})" for v in obj.variants.all()) or "—"

    @admin.action(description="Start the selected experiments")
    def start(self, request: HttpRequest, queryset: QuerySet) -> None:
        for experiment in queryset.select_related("document_type"):
            self.run_transition(request, experiment, "start")

    @admin.action(description="Stop the selected experiments")
    def stop(self, request: HttpRequest, queryset: QuerySet) -> None:
        stopped = sum(experiment.stop() for experiment in queryset)
        self.message_user(request, f"Stopped {stopped} experiment(s).")

    def run_transition(self, request: HttpRequest, experiment: Experiment, action: str) -> None:
        """Start or stop ``experiment`` and tell the user what happened."""
        if action == "start":
            try:
                experiment.start()
            except ValidationError as error:
                self.message_user(
                    request,
                    f"Experiment “{experiment}” did not start: {' '.join(error.messages)}",
                    messages.ERROR,
                )
                return
            self.message_user(request, f"Experiment “{experiment}” is running.")
        elif experiment.stop():
            self.message_user(request, f"Experiment “{experiment}” is stopped.")
        else:
            self.message_user(
                request, f"Experiment “{experiment}” was not running.", messages.WARNING
            )

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:experiment_id>/promote/<int:variant_id>/",
                view(self.promote_view),
                name="prompts_experiment_promote",
            ),
            *(
                path(
                    f"<int:experiment_id>/{action}/",
                    view(require_POST(self.transition_view)),
                    {"action": action},
                    name=f"prompts_experiment_{action}",
                )
                for action in ("start", "stop")
            ),
            *super().get_urls(),
        ]

    def changeable_experiment(self, request: HttpRequest, experiment_id: int) -> Experiment:
        experiment = get_object_or_404(
            self.get_queryset(request).select_related("document_type"), pk=experiment_id
        )
        if not self.has_change_permission(request, experiment):
            raise PermissionDenied
        return experiment

    def transition_view(
        self, request: HttpRequest, experiment_id: int, action: str
    ) -> HttpResponse:
        """POST: start or stop one experiment from its change page."""
        experiment = self.changeable_experiment(request, experiment_id)
        self.run_transition(request, experiment, action)
        return redirect("admin:prompts_experiment_change", experiment.pk)

    def promote_view(
        self, request: HttpRequest, experiment_id: int, variant_id: int
    ) -> HttpResponse:
        """GET: confirm, naming the version; POST: make one variant's template the default of
        the type through its release gate, and stop the experiment."""
        experiment = self.changeable_experiment(request, experiment_id)
        if not request.user.has_perm(RELEASE_PERMISSION):
            raise PermissionDenied
        variant = get_object_or_404(
            ExperimentVariant.objects.select_related("template__document_type"),
            pk=variant_id,
            experiment=experiment,
        )
        change_url = reverse("admin:prompts_experiment_change", args=[experiment.pk])
        if request.method == "POST":
            try:
                promote(
                    experiment,
                    variant,
                    user=request.user,
                    override_reason=request.POST.get("override_reason", ""),
                )
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"Variant “{variant}” ({variant.template.label}) now serves "
                    f"{experiment.document_type.key} by default; experiment “{experiment}” is "
                    "stopped.",
                )
            return redirect(change_url)
        gate = check_gate(variant.template)
        return TemplateResponse(
            request,
            "admin/prompts/confirm.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": f"Promote {variant.name} ({variant.template.label})?",
                "question": f"Make {variant.template.label} the default of "
                f"{experiment.document_type.key} and stop “{experiment}”?",
                "gate": gate,
                "can_override": not gate.allowed and request.user.has_perm(OVERRIDE_PERMISSION),
                "submit": f"Yes, promote {variant.template.label}",
                "cancel_url": change_url,
            },
        )

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Experiment | None = None,
    ) -> HttpResponse:
        if obj is not None and obj.pk:
            rows = variant_results(experiments=[obj])[obj.pk]
            context["variant_results"] = rows
            context["split"] = observed_split(rows)
            context["can_promote"] = obj.status == ExperimentStatus.RUNNING and (
                request.user.has_perm(RELEASE_PERMISSION)
            )
        return super().render_change_form(request, context, add, change, form_url, obj)
