"""Fill the request log and its rollups with realistic traffic, for demos and benchmarks."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from analytics import traffic

MAX_ROWS = 10_000_000


class Command(BaseCommand):
    help = (
        "Write N realistic request-log rows spread over the last D days, with some feedback, "
        "through the same writers as live traffic (the rollups follow)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--rows", type=int, required=True)
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--seed", type=int, default=None, help="For the same rows again.")

    def handle(self, *args, rows: int, days: int, seed: int | None, **options) -> None:
        if not 0 < rows <= MAX_ROWS:
            raise CommandError(f"--rows must be between 1 and {MAX_ROWS:,}.")
        if not 0 < days <= 3650:
            raise CommandError("--days must be between 1 and 3650.")
        with tqdm(total=rows, unit="rows", disable=options["verbosity"] == 0) as bar:
            made = traffic.generate(rows=rows, days=days, seed=seed, progress=bar.update)
        self.stdout.write(f"Wrote {made.requests} requests and {made.feedback} feedback.")
