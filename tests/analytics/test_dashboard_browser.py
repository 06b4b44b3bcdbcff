"""The dashboard in a real browser: charts drawn from the project's own files, filters kept in
the URL, tables downloaded as CSV."""

from urllib.parse import parse_qs, urlparse

import pytest

from ocr.models import Feedback
from tests.analytics.logged import logged
from tests.browser import click_through, log_in, open_page


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_managers_read_trends_drawn_from_local_files_and_download_a_table(
    live_server, admin_user, tmp_path
):
    served = logged(
        template_version="1.0.0",
        provider="rules",
        confidence=0.93,
        processing_time_ms=300,
        field_confidence={"name": 0.95, "gender": 0.6},
    )
    logged(document_type="bankCard", provider="rules", confidence=0.5, template_version="1.0.0")
    Feedback.objects.create(request=served, corrected_fields=["gender"], field_count=9)
    scripts: list[str] = []
    outside: list[str] = []

    for page in open_page():
        page.on(
            "request",
            lambda request: (
                scripts.append(request.url) if request.resource_type == "script" else None
            ),
        )
        page.on(
            "request",
            lambda request: (
                None if request.url.startswith(live_server.url) else outside.append(request.url)
            ),
        )
        log_in(page, base_url=live_server.url, username="admin", password="password")
        page.goto(f"{live_server.url}/dashboard/")
        page.select_option("select[name=documentType]", "idCard")
        click_through(page, "#qv-filters input[type=submit]")
        page.wait_for_selector("body[data-charts-drawn=true]")
        query = parse_qs(urlparse(page.url).query)
        drawn = page.evaluate(
            """() => Array.from(document.querySelectorAll('canvas')).map((canvas) => {
                const chart = Chart.getChart(canvas);
                return [canvas.id, chart ? chart.data.datasets.map((d) => d.label) : null];
            })"""
        )
        row = page.inner_text("#qv-bytype tbody tr")
        page.screenshot(path=tmp_path / "dashboard.png", full_page=True)
        with page.expect_download() as download_info:
            page.click("#qv-csv-bytype")
        download = download_info.value
        downloaded = download.path().read_text()
        download_url = download.url

    assert query["documentType"] == ["idCard"]
    charts = dict(drawn)
    assert charts["qv-chart-requests"] == ["idCard"]
    assert charts["qv-chart-reliability"] == ["fields left uncorrected", "perfect calibration"]
    assert all(labels is not None for labels in charts.values())
    assert any(url.endswith("/static/analytics/vendor/chart.umd.min.js") for url in scripts)
    assert outside == []
    assert row.split("\t")[:2] == ["idCard", "1"]
    assert "documentType=idCard" in download_url
    assert downloaded.splitlines()[0].startswith("document_type,requests")
    assert downloaded.splitlines()[1].startswith("idCard,1,")
