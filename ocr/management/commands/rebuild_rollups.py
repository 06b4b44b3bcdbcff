"""Sum the rollups of a range of days again from the request log."""

from datetime import UTC, date, datetime, time, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ocr import rollups


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"{text!r} is not a date as YYYY-MM-DD.") from error


class Command(BaseCommand):
    help = (
        "Replace the rollups of the days FROM to TO (UTC, both included) with sums from the "
        "request log. Days the retention purge may have thinned keep their rollups."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--from", dest="start", required=True, help="YYYY-MM-DD")
        parser.add_argument("--to", dest="end", default=None, help="YYYY-MM-DD (default: today)")

    def handle(self, *args, start: str, end: str | None, **options) -> None:
        first = parse_day(start)
        last = parse_day(end) if end else timezone.now().date()
        if last < first:
            raise CommandError("--to is before --from.")
        begin = datetime.combine(first, time(), tzinfo=UTC)
        finish = datetime.combine(last + timedelta(days=1), time(), tzinfo=UTC)
        rebuilt_from, rebuilt_to, read = rollups.rebuild(start=begin, end=finish)
        if rebuilt_from > begin:
            self.stdout.write(
                f"Days before {rebuilt_from:%Y-%m-%d} are past the log's retention and keep "
                "their rollups."
            )
        self.stdout.write(
            f"Rebuilt {rebuilt_from:%Y-%m-%d %H:00} to {rebuilt_to:%Y-%m-%d %H:00} UTC "
            f"from {read} log rows."
        )
