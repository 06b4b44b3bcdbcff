"""Keeping the request log no longer than it is needed.

Rows are deleted in batches of ``PURGE_BATCH`` oldest first, each batch in a transaction of its
own: memory and lock time stay bounded however much has expired, and an interrupted purge keeps
what it did. The rollups (``ocr.rollups``) are a table of their own and keep every hour's
figures.
"""

from datetime import timedelta

from django.conf import settings
from django.db import router, transaction
from django.utils import timezone

from ocr.models import Feedback, OcrRequest

PURGE_BATCH = 5000


def purge_request_log(*, older_than_days: int | None = None, batch_size: int = PURGE_BATCH) -> int:
    """Delete log rows (and their feedback) past the retention period; returns rows deleted."""
    days = settings.QV_LOG_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - timedelta(days=days)
    using = router.db_for_write(OcrRequest)
    expired = OcrRequest.objects.before(cutoff).order_by("created_at", "id")
    deleted = 0
    while True:
        ids = list(expired.values_list("id", flat=True)[:batch_size])
        if not ids:
            return deleted
        with transaction.atomic(using=using):
            Feedback.objects.filter(request_id__in=ids).delete()
            # Without loading the rows: their only dependants, the feedback, are gone already.
            deleted += OcrRequest.objects.filter(id__in=ids)._raw_delete(using)
