"""Delete the expired nonces of signed requests and the rate limiter's past counters (the Celery
beat task does the same)."""

from django.core.management.base import BaseCommand, CommandParser

from ocr.models import RateCounter, UsedNonce

DEFAULT_BATCH_SIZE = 5000


class Command(BaseCommand):
    help = "Delete expired nonces and past rate-limit counters from the database, in batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)

    def handle(self, *args, batch_size: int, **options) -> None:
        batch_size = max(1, batch_size)
        nonces = UsedNonce.objects.delete_expired(batch_size=batch_size)
        counters = RateCounter.objects.delete_expired(batch_size=batch_size)
        self.stdout.write(f"Deleted {nonces} expired nonce(s) and {counters} rate counter(s).")
