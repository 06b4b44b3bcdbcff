"""The request log's admin list, built for millions of rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ocr.admin import OcrRequestAdmin
from ocr.models import OcrRequest, RequestStatus
from ocr.pagination import LogPaginator

CHANGELIST = "/admin/ocr/ocrrequest/"

pytestmark = pytest.mark.django_db


def log(count: int, **values) -> list[OcrRequest]:
    start = timezone.now() - timedelta(hours=1)
    values = {"document_type": "idCard", "status": RequestStatus.SUCCESS, **values}
    return OcrRequest.objects.bulk_create(
        OcrRequest(created_at=start + timedelta(seconds=number), **values)
        for number in range(count)
    )


def log_queries(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "ocr_ocrrequest" in q["sql"]]


def test_a_full_request_id_finds_its_row(admin_client):
    wanted, _other = log(2)

    response = admin_client.get(CHANGELIST, {"q": str(wanted.request_id)})

    assert [row.pk for row in response.context["cl"].result_list] == [wanted.pk]


def test_part_of_a_request_id_finds_nothing(admin_client):
    (row,) = log(1)

    response = admin_client.get(CHANGELIST, {"q": str(row.request_id)[:8]})

    assert list(response.context["cl"].result_list) == []


def test_an_error_code_is_searched_exactly(admin_client):
    log(2)
    (failed,) = log(1, status=RequestStatus.ERROR, error_code="upstream_timeout")

    response = admin_client.get(CHANGELIST, {"q": "upstream_timeout"})

    assert [row.pk for row in response.context["cl"].result_list] == [failed.pk]


def test_the_filters_read_no_values_from_the_log(admin_client):
    log(3)

    with CaptureQueriesContext(connection) as queries:
        admin_client.get(CHANGELIST)

    assert not [sql for sql in log_queries(queries) if "DISTINCT" in sql.upper()]


def test_a_filtered_list_is_counted_only_up_to_a_limit(admin_client):
    log(3, provider="rules")

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(CHANGELIST, {"provider": "rules"})

    assert response.context["cl"].result_count == 3
    counts = [sql for sql in log_queries(queries) if "COUNT(" in sql.upper()]
    assert counts and all("LIMIT" in sql.upper() for sql in counts)


def test_the_list_offers_no_date_drill_down(admin_client):
    response = admin_client.get(CHANGELIST)

    assert response.context["cl"].date_hierarchy is None


def test_the_last_page_holds_the_oldest_rows_in_order(admin_client):
    rows = log(120)

    response = admin_client.get(CHANGELIST, {"p": "3"})

    oldest_first = [row.pk for row in rows[:20]]
    assert [row.pk for row in response.context["cl"].result_list] == oldest_first[::-1]


def test_a_page_past_the_middle_reads_the_same_rows_as_from_the_start():
    log(45)
    ordered = OcrRequest.objects.order_by("-created_at", "-id")

    pages = LogPaginator(ordered, 10)

    assert [row.pk for row in pages.page(4).object_list] == [row.pk for row in ordered[30:40]]
    assert [row.pk for row in pages.page(5).object_list] == [row.pk for row in ordered[40:45]]


def test_the_slowest_first_sort_is_offered(admin_client):
    slow, _fast = log(1, processing_time_ms=9000) + log(1, processing_time_ms=10)

    column = OcrRequestAdmin.list_display.index("processing_time_ms")

    response = admin_client.get(CHANGELIST, {"o": f"-{column}"})

    assert [row.pk for row in response.context["cl"].result_list][:1] == [slow.pk]
