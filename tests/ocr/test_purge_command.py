import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from ocr.models import OcrRequest, RequestStatus


def logged(days_ago: int) -> OcrRequest:
    return OcrRequest.objects.create(
        status=RequestStatus.SUCCESS, created_at=timezone.now() - timedelta(days=days_ago)
    )


@pytest.mark.django_db
def test_purge_request_log_deletes_rows_past_the_retention_and_says_how_many(settings):
    settings.QV_LOG_RETENTION_DAYS = 30
    logged(31)
    recent = logged(29)
    out = io.StringIO()

    call_command("purge_request_log", stdout=out)

    assert list(OcrRequest.objects.all()) == [recent]
    assert out.getvalue().strip() == "Deleted 1 request log rows."


@pytest.mark.django_db
def test_purge_request_log_takes_the_age_from_the_command_line(settings):
    settings.QV_LOG_RETENTION_DAYS = 30
    logged(8)
    recent = logged(6)

    call_command("purge_request_log", "--older-than-days", "7", stdout=io.StringIO())

    assert list(OcrRequest.objects.all()) == [recent]


@pytest.mark.django_db
def test_purge_request_log_refuses_a_negative_age():
    with pytest.raises(CommandError, match="0 or more"):
        call_command("purge_request_log", "--older-than-days", "-1")
