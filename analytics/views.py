from datetime import timedelta

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from analytics import services

PERIODS = {"1d": 1, "7d": 7, "30d": 30, "90d": 90}


@staff_member_required
def dashboard(request: HttpRequest) -> HttpResponse:
    period = request.GET.get("period", "7d")
    if period not in PERIODS:
        period = "7d"
    since = timezone.now() - timedelta(days=PERIODS[period])
    context = {
        **admin.site.each_context(request),
        "title": "Accuracy and confidence",
        "period": period,
        "periods": list(PERIODS),
        "summary": services.request_summary(since=since),
        "by_type": services.accuracy_rows(since=since, group_by="document_type"),
        "by_template": services.accuracy_rows(since=since, group_by="template_version"),
        "histogram": services.confidence_histogram(since=since),
        "calibration": services.calibration(since=since),
        "experiments": services.experiment_comparison(since=since),
    }
    return render(request, "analytics/dashboard.html", context)
