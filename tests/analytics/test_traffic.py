"""Demo traffic: written through the live writers, so the dashboard counts it."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from ocr.models import Feedback, OcrRequest, RequestRollup

pytestmark = pytest.mark.django_db


def test_generated_traffic_fills_the_log_and_its_rollups():
    call_command(
        "generate_traffic",
        "--rows",
        "300",
        "--days",
        "3",
        "--seed",
        "7",
        verbosity=0,
        stdout=io.StringIO(),
    )

    assert OcrRequest.objects.count() == 300
    sums = RequestRollup.objects.filter(span="hour").aggregate(
        requests=Sum("requests"), feedback=Sum("feedback")
    )
    assert sums == {"requests": 300, "feedback": Feedback.objects.count()}


def test_generated_traffic_matches_a_rebuild_from_the_log():
    call_command(
        "generate_traffic",
        "--rows",
        "200",
        "--days",
        "2",
        "--seed",
        "3",
        verbosity=0,
        stdout=io.StringIO(),
    )
    live = sorted(
        RequestRollup.objects.values_list(
            "span",
            "start",
            "document_type",
            "api_key_id",
            "error_code",
            "requests",
            "feedback",
            "corrected_fields",
            "latency_ms_sum",
        )
    )

    call_command("rebuild_rollups", "--from", "2000-01-01", stdout=io.StringIO())

    rebuilt = sorted(
        RequestRollup.objects.values_list(
            "span",
            "start",
            "document_type",
            "api_key_id",
            "error_code",
            "requests",
            "feedback",
            "corrected_fields",
            "latency_ms_sum",
        )
    )
    assert rebuilt == live


def test_a_row_count_out_of_bounds_is_refused():
    with pytest.raises(CommandError, match="--rows"):
        call_command("generate_traffic", "--rows", "0")
