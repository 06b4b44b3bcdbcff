"""The staff dashboard: trends, tables and calibration from the rollups, with filters kept in the
URL and a CSV download of each table."""

from __future__ import annotations

import csv
import hashlib
import logging
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode

from analytics import dashboard, services

logger = logging.getLogger(__name__)

DASHBOARD_PERMISSION = "ocr.view_dashboard"
# The rollups move with every request; a minute old is recent enough to steer by.
FIGURES_CACHE_SECONDS = 60
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


def figures(filters: dashboard.Filters) -> dict[str, Any]:
    """Everything the page shows for `filters`."""
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
    return {
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


def cached_figures(filters: dashboard.Filters) -> dict[str, Any]:
    """``figures``, kept for ``FIGURES_CACHE_SECONDS`` per set of filters: staff reloading the
    page, or several on the same view, cost the workers (which serve the API too) one
    computation a minute instead of one each."""
    key = (
        "dashboard:"
        + hashlib.sha256(urlencode(sorted(filters.query().items())).encode()).hexdigest()
    )
    try:
        found = cache.get(key)
    except Exception:
        logger.warning("The dashboard's cache could not be read", exc_info=True)
        found = None
    if found is not None:
        return found
    made = figures(filters)
    try:
        cache.set(key, made, FIGURES_CACHE_SECONDS)
    except Exception:
        logger.warning("The dashboard's cache could not be written", exc_info=True)
    return made


@staff_member_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    """The dashboard; ``?csv=<table>`` downloads one of its tables instead."""
    if not request.user.has_perm(DASHBOARD_PERMISSION):
        raise PermissionDenied("Viewing the dashboards needs the “Can view the dashboards” right.")
    filters = dashboard.Filters.from_query(request.GET)
    wanted = request.GET.get("csv")
    if wanted in dashboard.TABLES:
        return csv_response(filters, wanted)
    context = {
        **admin.site.each_context(request),
        "title": "Accuracy, latency and cost",
        "filters": filters,
        **cached_figures(filters),
    }
    return render(request, "analytics/dashboard.html", context)
