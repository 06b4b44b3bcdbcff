"""Keeping the request log no longer than it is needed."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from ocr.models import OcrRequest


def purge_request_log(*, older_than_days: int | None = None) -> int:
    """Delete log rows (and their feedback) past the retention period; returns rows deleted."""
    days = settings.QV_LOG_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - timedelta(days=days)
    _, by_model = OcrRequest.objects.before(cutoff).delete()
    return by_model.get(OcrRequest._meta.label, 0)
