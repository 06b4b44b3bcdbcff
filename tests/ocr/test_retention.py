from datetime import timedelta

import pytest
from django.utils import timezone

from ocr.models import OcrRequest, RequestStatus
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
