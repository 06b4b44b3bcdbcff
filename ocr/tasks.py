from celery import shared_task

from ocr.models import RateCounter, UsedNonce
from ocr.retention import purge_request_log as purge


@shared_task(name="ocr.tasks.purge_request_log")
def purge_request_log() -> int:
    return purge()


@shared_task(name="ocr.tasks.purge_used_nonces")
def purge_used_nonces() -> int:
    """Delete expired nonces and rate-limit counters in batches; returns how many went."""
    return UsedNonce.objects.delete_expired() + RateCounter.objects.delete_expired()
