from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ocr.models import Feedback, OcrRequest, RequestStatus
from ocr.retention import purge_request_log as purge_request_log_now
from ocr.tasks import purge_request_log


def logged(days_ago: int) -> OcrRequest:
    return OcrRequest.objects.create(
        status=RequestStatus.SUCCESS, created_at=timezone.now() - timedelta(days=days_ago)
    )


@pytest.mark.django_db
def test_purge_deletes_rows_older_than_the_retention(settings):
    settings.QV_LOG_RETENTION_DAYS = 30
    old, recent = logged(31), logged(29)

    deleted = purge_request_log.delay().get()

    assert deleted == 1
    assert list(OcrRequest.objects.all()) == [recent]
    assert not OcrRequest.objects.filter(pk=old.pk).exists()


@pytest.mark.django_db
def test_purge_deletes_in_batches_of_bounded_size(settings):
    old = [logged(100 + number) for number in range(5)]
    Feedback.objects.create(request=old[0], corrected_fields=[], field_count=3)
    recent = logged(1)

    with CaptureQueriesContext(connection) as queries:
        deleted = purge_request_log_now(older_than_days=90, batch_size=2)

    assert deleted == 5
    assert list(OcrRequest.objects.all()) == [recent]
    assert not Feedback.objects.exists()
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE FROM")]
    log_deletes = [sql for sql in deletes if '"ocr_ocrrequest"' in sql]
    assert len(log_deletes) == 3


@pytest.mark.django_db
def test_purge_reads_only_ids_of_expired_rows():
    logged(100)

    with CaptureQueriesContext(connection) as queries:
        purge_request_log_now(older_than_days=90)

    selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert all('"ocr_ocrrequest"."fields"' not in sql for sql in selects)
