"""The staff dashboard, read from the rollups: filters, figures and CSV downloads."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ocr.models import Feedback, RequestStatus
from tests.analytics.logged import logged

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_requests():
    first = logged(
        template_version="1.0.0",
        provider="rules",
        confidence=0.95,
        processing_time_ms=120,
        field_confidence={"name": 0.95, "gender": 0.6, "idNumber": None},
    )
    logged(document_type="bankCard", provider="rules", confidence=0.4, template_version="1.0.0")
    logged(status=RequestStatus.ERROR, error_code="upstream_timeout")
    Feedback.objects.create(request=first, corrected_fields=["gender"], field_count=9)
    return first


def test_dashboard_is_for_staff_only(client):
    response = client.get("/dashboard/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_staff_without_the_dashboard_right_are_refused(client):
    client.force_login(User.objects.create_user("clerk", is_staff=True))

    assert client.get("/dashboard/").status_code == 403


def test_staff_given_the_dashboard_right_see_it(client):
    clerk = User.objects.create_user("manager", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_dashboard"))
    client.force_login(clerk)

    assert client.get("/dashboard/").status_code == 200


def test_dashboard_shows_accuracy_from_feedback(admin_client, logged_requests):
    response = admin_client.get("/dashboard/")

    by_type = {row["document_type"]: row for row in response.context["by_type"]}
    assert by_type["idCard"]["accuracy"] == pytest.approx(8 / 9)
    assert by_type["bankCard"]["accuracy"] is None


def test_calibration_counts_corrections_per_confidence_bucket(admin_client, logged_requests):
    calibration = {
        row["bucket"]: row for row in admin_client.get("/dashboard/").context["calibration"]
    }

    assert (calibration["0.9–1.0"]["fields"], calibration["0.9–1.0"]["accuracy"]) == (1, 1.0)
    assert calibration["0.6–0.7"]["accuracy"] == 0.0


def test_the_summary_counts_requests_and_errors(admin_client, logged_requests):
    summary = admin_client.get("/dashboard/").context["summary"]

    assert (summary["requests"], summary["errors"]) == (3, 1)


def test_template_versions_are_grouped_by_type_and_version(admin_client, logged_requests):
    tables = {
        table["name"]: table["rows"] for table in admin_client.get("/dashboard/").context["tables"]
    }

    versions = {(row["document_type"], row["template_version"]) for row in tables["by_template"]}
    assert ("idCard", "1.0.0") in versions and ("bankCard", "1.0.0") in versions


def test_the_type_filter_keeps_one_type(admin_client, logged_requests):
    summary = admin_client.get("/dashboard/?documentType=bankCard").context["summary"]

    assert summary["requests"] == 1


def test_the_date_range_leaves_older_days_out(admin_client):
    logged(created_at=timezone.now() - timedelta(days=20))
    logged()
    today = timezone.now().date()

    recent = admin_client.get(f"/dashboard/?from={today - timedelta(days=6)}&to={today}")
    everything = admin_client.get(f"/dashboard/?from={today - timedelta(days=30)}&to={today}")

    assert recent.context["summary"]["requests"] == 1
    assert everything.context["summary"]["requests"] == 2


def test_the_api_key_filter_keeps_that_keys_requests(admin_client, api_key):
    key, _ = api_key
    logged(api_key=key)
    logged()

    summary = admin_client.get(f"/dashboard/?apiKey={key.key_id}").context["summary"]

    assert summary["requests"] == 1


def test_a_date_it_cannot_read_is_named_not_a_500(admin_client):
    response = admin_client.get("/dashboard/?from=last-week")

    assert response.status_code == 200
    assert "YYYY-MM-DD" in response.content.decode()


def test_the_error_table_downloads_as_csv(admin_client, logged_requests):
    response = admin_client.get("/dashboard/?csv=errors")

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(row["document_type"], row["error_code"], row["requests"]) for row in rows] == [
        ("idCard", "upstream_timeout", "1")
    ]


def test_the_percentiles_come_from_the_latency_buckets(admin_client):
    for milliseconds in [40] * 18 + [4000] * 2:
        logged(processing_time_ms=milliseconds, confidence=0.9)

    summary = admin_client.get("/dashboard/").context["summary"]

    assert summary["p50_latency_ms"] <= 50
    assert 3000 < summary["p95_latency_ms"] <= 5000


def test_a_reload_within_the_minute_does_not_sum_the_rollups_again(admin_client, logged_requests):
    admin_client.get("/dashboard/")

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get("/dashboard/")

    assert response.context["summary"]["requests"] == 3
    assert not [q for q in queries.captured_queries if "ocr_requestrollup" in q["sql"]]
