"""Delete the expired nonces of signed requests, the rate limiter's and quotas' past counters
and expired idempotency records (the Celery beat task does the same)."""

from django.core.management.base import BaseCommand, CommandParser

from ocr.models import IdempotencyRecord, RateCounter, UsedNonce

DEFAULT_BATCH_SIZE = 5000


class Command(BaseCommand):
    help = (
        "Delete expired nonces, past rate-limit and quota counters and expired idempotency "
        "records from the database, in batches."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)

    def handle(self, *args, batch_size: int, **options) -> None:
        batch_size = max(1, batch_size)
        nonces = UsedNonce.objects.delete_expired(batch_size=batch_size)
        counters = RateCounter.objects.delete_expired(batch_size=batch_size)
        records = IdempotencyRecord.objects.delete_expired(batch_size=batch_size)
        self.stdout.write(
            f"Deleted {nonces} expired nonce(s), {counters} rate counter(s) "
            f"and {records} idempotency record(s)."
        )
