"""``manage.py purge_request_log``: the retention purge, without Celery beat.

For a scheduler outside the service (a Kubernetes CronJob, cron, ``make purge``); the beat
schedule runs the same function through ``ocr.tasks.purge_request_log``. Running it twice, or
at the same time as the task, deletes nothing twice.
"""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ocr.retention import purge_request_log


class Command(BaseCommand):
    help = (
        "Delete request log rows older than the retention period (QV_LOG_RETENTION_DAYS), as the "
        "beat schedule does; for deployments that run it from a scheduler of their own."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than-days", type=int, default=None, help="Default: QV_LOG_RETENTION_DAYS."
        )

    def handle(self, *args, older_than_days: int | None, **options) -> str:
        if older_than_days is not None and older_than_days < 0:
            raise CommandError("--older-than-days must be 0 or more.")
        deleted = purge_request_log(older_than_days=older_than_days)
        return f"Deleted {deleted} request log rows."
