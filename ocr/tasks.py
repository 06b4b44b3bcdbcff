from celery import shared_task
from django.db import transaction

from ocr import evaluation_runs
from ocr.models import IdempotencyRecord, RateCounter, UsedNonce
from ocr.retention import purge_request_log as purge


@shared_task(name="ocr.tasks.purge_request_log")
def purge_request_log() -> int:
    return purge()


@shared_task(name="ocr.tasks.purge_used_nonces")
def purge_used_nonces() -> int:
    """Delete expired nonces, rate-limit and quota counters and idempotency records in batches;
    returns how many went."""
    return (
        UsedNonce.objects.delete_expired()
        + RateCounter.objects.delete_expired()
        + IdempotencyRecord.objects.delete_expired()
    )


@shared_task(name="ocr.tasks.run_evaluation")
def run_evaluation(run_id: int) -> None:
    evaluation_runs.run_evaluation(run_id=run_id)


@shared_task(name="ocr.tasks.evaluate_gated_defaults")
def evaluate_gated_defaults() -> int:
    """Re-evaluate each type's default on its gate set (a Celery beat schedule runs it)."""
    runs = evaluation_runs.new_gated_default_runs()
    for run in runs:
        enqueue_evaluation(run.pk)
    return len(runs)


def enqueue_evaluation(run_id: int) -> None:
    """Run evaluation ``run_id`` once the current transaction commits."""
    transaction.on_commit(lambda: run_evaluation.delay(run_id))
