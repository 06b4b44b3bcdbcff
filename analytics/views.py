"""The staff dashboard: trends, tables and calibration from the rollups, with filters kept in the
URL and a CSV download of each table."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode

from analytics import dashboard, services

DASHBOARD_PERMISSION = "ocr.view_dashboard"
# The columns of every table after its grouping columns, as the CSV names them.
CSV_FIGURES = (
    "requests",
    "successes",
    "errors",
    "success_rate",
    "cache_hits",
    "mean_latency_ms",
    "p50_latency_ms",
    "p95_latency_ms",
    "mean_confidence",
    "feedback",
    "feedback_fields",
    "corrected_fields",
    "accuracy",
    "prompt_tokens",
    "completion_tokens",
    "cost",
)


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, Decimal):
        return f"{value:.6f}"
    return "" if value is None else value


def csv_response(filters: dashboard.Filters, name: str) -> HttpResponse:
    group_by = list(dashboard.TABLES[name])
    if name == "by_api_key":
        group_by.append("api_key")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{name}_{filters.start:%Y%m%d}-{filters.end:%Y%m%d}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow([*group_by, *CSV_FIGURES])
    for row in dashboard.table(filters, name):
        writer.writerow([_cell(row[column]) for column in [*group_by, *CSV_FIGURES]])
    return response


@staff_member_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    """The dashboard; ``?csv=<table>`` downloads one of its tables instead."""
    if not request.user.has_perm(DASHBOARD_PERMISSION):
        raise PermissionDenied("Viewing the dashboards needs the “Can view the dashboards” right.")
    filters = dashboard.Filters.from_query(request.GET)
    wanted = request.GET.get("csv")
    if wanted in dashboard.TABLES:
        return csv_response(filters, wanted)
    query = filters.query()
    calibration = dashboard.calibration(filters)
    tables = [
        {
            "name": name,
            "title": dashboard.TABLE_TITLES[name],
            "rows": dashboard.table(filters, name),
            "csv_url": "?" + urlencode({**query, "csv": name}),
        }
        for name in dashboard.TABLES
    ]
    context = {
        **admin.site.each_context(request),
        "title": "Accuracy, latency and cost",
        "filters": filters,
        "choices": dashboard.choices(filters),
        "summary": dashboard.summary(filters),
        "tables": tables,
        "by_type": tables[0]["rows"],
        "histogram": dashboard.confidence_histogram(filters),
        "calibration": calibration,
        "charts": {"trends": dashboard.trends(filters), "calibration": calibration},
        "experiments": services.experiment_comparison(
            since=datetime.combine(filters.start, time(), tzinfo=UTC)
        ),
    }
    return render(request, "analytics/dashboard.html", context)
