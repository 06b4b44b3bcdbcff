import pytest

from ocr.models import Feedback, OcrRequest, RequestStatus


@pytest.fixture
def logged_requests(db):
    first = OcrRequest.objects.create(
        document_type="idCard",
        template_version="1.0.0",
        provider="rules",
        status=RequestStatus.SUCCESS,
        confidence=0.95,
        field_confidence={"name": 0.95, "gender": 0.6, "idNumber": None},
    )
    OcrRequest.objects.create(
        document_type="bankCard", provider="rules", status=RequestStatus.SUCCESS, confidence=0.4
    )
    Feedback.objects.create(request=first, corrected_fields=["gender"], field_count=9)
    return first


@pytest.mark.django_db
def test_dashboard_is_for_staff_only(client):
    response = client.get("/dashboard/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_dashboard_shows_accuracy_from_feedback(admin_client, logged_requests):
    response = admin_client.get("/dashboard/")

    assert response.status_code == 200
    by_type = {row["document_type"]: row for row in response.context["by_type"]}
    assert by_type["idCard"]["accuracy"] == pytest.approx(8 / 9)
    assert by_type["bankCard"]["accuracy"] is None


@pytest.mark.django_db
def test_calibration_counts_corrections_per_confidence_bucket(admin_client, logged_requests):
    calibration = {
        row["bucket"]: row for row in admin_client.get("/dashboard/").context["calibration"]
    }

    assert calibration["0.9–1.0"] == {"bucket": "0.9–1.0", "fields": 1, "accuracy": 1.0}
    assert calibration["0.5–0.7"]["accuracy"] == 0.0


@pytest.mark.django_db
def test_dashboard_counts_requests_in_the_period(admin_client, logged_requests):
    summary = admin_client.get("/dashboard/?period=1d").context["summary"]

    assert summary["total"] == 2
    assert summary["errors"] == 0
