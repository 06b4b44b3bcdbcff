import pytest

from ocr.models import Feedback, OcrRequest, RequestStatus
from tests.browser import log_in, open_page


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_managers_read_accuracy_per_document_type(live_server, admin_user, tmp_path):
    served = OcrRequest.objects.create(
        document_type="idCard",
        template_version="1.0.0",
        provider="rules",
        status=RequestStatus.SUCCESS,
        confidence=0.93,
        field_confidence={"name": 0.95, "gender": 0.6},
    )
    Feedback.objects.create(request=served, corrected_fields=["gender"], field_count=9)

    for page in open_page():
        log_in(page, base_url=live_server.url, username="admin", password="password")
        page.goto(f"{live_server.url}/dashboard/")
        row = page.inner_text("#qv-by-type tbody tr")
        total = page.inner_text("#qv-total")
        page.screenshot(path=tmp_path / "dashboard.png", full_page=True)

    assert row.split("\t")[:5] == ["idCard", "1", "0.930", "1", "0.889"]
    assert total == "1"
