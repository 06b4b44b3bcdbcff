import json

import pytest

from ocr.models import ApiKey
from tests.browser import open_page
from tests.documents import ID_CARD


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_api_docs_render_from_the_project_alone(live_server):
    requested: list[str] = []
    for page in open_page():
        page.on("request", lambda request: requested.append(request.url))
        page.goto(f"{live_server.url}/docs")
        page.get_by_text("/api/v1/ocr/analyze", exact=True).first.wait_for()
        title = page.title()

    assert "QuickVault" in title
    assert requested
    assert all(url.startswith((live_server.url, "data:")) for url in requested), requested


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_try_it_out_signs_an_analysis_with_a_key_typed_in_the_page(live_server):
    key, secret = ApiKey.issue(name="docs", rate_limit=0)
    body = json.dumps(ID_CARD, ensure_ascii=False)
    for page in open_page():
        page.goto(f"{live_server.url}/docs")
        page.fill("#qv-key-id", key.key_id)
        page.fill("#qv-secret", secret)
        operation = page.locator(".opblock", has_text="/api/v1/ocr/analyze").first
        operation.locator(".opblock-summary").click()
        operation.locator("button.try-out__btn").click()
        operation.locator("textarea.body-param__text").fill(body)
        operation.locator("button.execute").click()
        status = operation.locator(".live-responses-table tbody .response-col_status").first
        status.wait_for()
        code = status.inner_text().strip()
        answer = operation.locator(".live-responses-table tbody .microlight").first.inner_text()

    assert code == "200"
    assert "11010519491231002X" in answer
