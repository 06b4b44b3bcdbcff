import pytest

from tests.browser import open_page


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
