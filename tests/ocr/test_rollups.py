"""The rollups the dashboards read: kept current with the log, rebuilt from it, outliving it."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.utils import timezone

from ocr import request_log, rollups
from ocr.models import Feedback, OcrRequest, RequestRollup, RollupSpan
from ocr.retention import purge_request_log
from tests.documents import ID_CARD

ANALYZE = "/api/v1/ocr/analyze"
FEEDBACK = "/api/v1/ocr/feedback"

pytestmark = pytest.mark.django_db


def figures(span: str = RollupSpan.DAY) -> dict[str, int]:
    totals = RequestRollup.objects.filter(span=span).aggregate(
        requests=Sum("requests"),
        successes=Sum("successes"),
        feedback=Sum("feedback"),
        feedback_fields=Sum("feedback_fields"),
        corrected=Sum("corrected_fields"),
        cache_hits=Sum("cache_hits"),
    )
    return {name: value or 0 for name, value in totals.items()}


def stored_rollups() -> list[dict]:
    return list(
        RequestRollup.objects.values(*rollups.KEY_COLUMNS, *rollups.SUM_COLUMNS).order_by(
            *rollups.KEY_COLUMNS
        )
    )


def test_an_analysis_adds_to_the_rollup_of_its_hour(signed_client):
    signed_client.post_json(ANALYZE, ID_CARD)

    rollup = RequestRollup.objects.get(span=RollupSpan.HOUR)
    assert (rollup.document_type, rollup.provider, rollup.requests, rollup.successes) == (
        "idCard",
        "rules",
        1,
        1,
    )
    assert rollup.start == timezone.now().replace(minute=0, second=0, microsecond=0)


def test_an_analysis_adds_to_the_rollup_of_its_day_as_well(signed_client):
    signed_client.post_json(ANALYZE, ID_CARD)

    rollup = RequestRollup.objects.get(span=RollupSpan.DAY)
    assert rollup.start == timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    assert figures(RollupSpan.HOUR) == figures(RollupSpan.DAY)
    assert sum(getattr(rollup, column) for column in rollups.buckets.LATENCY_COLUMNS) == 1


def test_a_repeated_analysis_counts_as_a_cache_hit(signed_client):
    signed_client.post_json(ANALYZE, ID_CARD)
    signed_client.post_json(ANALYZE, ID_CARD)

    assert figures()["cache_hits"] == 1
    assert figures()["requests"] == 2


def test_a_failure_counts_under_its_error_code(api_key):
    key, _ = api_key

    async_to_sync(request_log.record_failure)(
        api_key=key, document_type="idCard", error_code="upstream_error"
    )

    rollup = RequestRollup.objects.get(span=RollupSpan.DAY)
    assert (rollup.error_code, rollup.requests, rollup.successes) == ("upstream_error", 1, 0)
    assert rollup.api_key_id == key.pk


def test_feedback_sent_again_replaces_the_earlier_one(signed_client):
    request_id = signed_client.post_json(ANALYZE, ID_CARD).json()["requestId"]
    first = {"requestId": request_id, "corrections": {"name": "李四", "gender": "male"}}
    second = {"requestId": request_id, "corrections": {"name": "李四"}}

    signed_client.post_json(FEEDBACK, first)
    response = signed_client.post_json(FEEDBACK, second)

    assert response.status_code == 204
    assert Feedback.objects.get().corrected_fields == ["name"]
    assert figures()["feedback"] == 1
    assert figures()["corrected"] == 1


def test_a_rebuild_sums_what_the_live_writes_summed(signed_client):
    for number in range(3):
        item = {**ID_CARD, "rawTexts": [*ID_CARD["rawTexts"], f"REF {number}"]}
        request_id = signed_client.post_json(ANALYZE, item).json()["requestId"]
        signed_client.post_json(FEEDBACK, {"requestId": request_id, "corrections": {"name": "X"}})
    live = stored_rollups()

    now = timezone.now()
    rollups.rebuild(start=now - timedelta(days=1), end=now + timedelta(hours=1))

    assert stored_rollups() == live
    assert figures()["requests"] == 3


def test_a_rebuild_leaves_days_the_log_may_have_lost_alone(signed_client, settings):
    settings.QV_LOG_RETENTION_DAYS = 30
    signed_client.post_json(ANALYZE, ID_CARD)
    old = timezone.now() - timedelta(days=40)
    OcrRequest.objects.update(created_at=old)
    RequestRollup.objects.update(start=old.replace(hour=0, minute=0, second=0, microsecond=0))

    rollups.rebuild(start=old - timedelta(days=1), end=timezone.now())

    assert figures()["requests"] == 1


def test_purging_the_log_keeps_the_rollups(signed_client):
    signed_client.post_json(ANALYZE, ID_CARD)
    OcrRequest.objects.update(created_at=timezone.now() - timedelta(days=400))

    purge_request_log(older_than_days=90)

    assert OcrRequest.objects.count() == 0
    assert figures()["requests"] == 1


def test_the_rebuild_command_sums_the_days_it_is_given(signed_client):
    signed_client.post_json(ANALYZE, ID_CARD)
    RequestRollup.objects.all().delete()
    today = timezone.now().date().isoformat()

    call_command("rebuild_rollups", "--from", today, "--to", today, stdout=io.StringIO())

    assert figures()["requests"] == 1


def test_the_rebuild_command_refuses_a_date_it_cannot_read():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("rebuild_rollups", "--from", "yesterday")
