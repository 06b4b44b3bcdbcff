"""Delete the expired nonces of signed requests (the Celery beat task does the same)."""

from django.core.management.base import BaseCommand, CommandParser

from ocr.models import UsedNonce

DEFAULT_BATCH_SIZE = 5000


class Command(BaseCommand):
    help = "Delete expired nonces from the replay guard's table, in batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)

    def handle(self, *args, batch_size: int, **options) -> None:
        deleted = UsedNonce.objects.delete_expired(batch_size=max(1, batch_size))
        self.stdout.write(f"Deleted {deleted} expired nonce(s).")
