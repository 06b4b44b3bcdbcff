from celery import shared_task

from ocr.retention import purge_request_log as purge


@shared_task(name="ocr.tasks.purge_request_log")
def purge_request_log() -> int:
    return purge()
