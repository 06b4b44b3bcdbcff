import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from prompts.transfer import import_templates

# An export is read whole: bound it before reading.
MAX_FILE_BYTES = 20_000_000


class Command(BaseCommand):
    help = (
        "Import prompt templates from a file written by export_prompts: new versions are created, "
        "none is overwritten, isDefault goes through the release gate. Any error: nothing changes "
        "and the command exits non-zero."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--input", required=True, help="File written by export_prompts.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would change; change nothing."
        )

    def handle(self, *args, input: str, dry_run: bool, **options) -> None:
        try:
            path = Path(input)
            if path.stat().st_size > MAX_FILE_BYTES:
                raise CommandError(f"{input} is larger than {MAX_FILE_BYTES} bytes.")
            data = json.loads(path.read_text(encoding="utf-8"))
            report = import_templates(data, dry_run=dry_run)
        except (OSError, ValueError) as error:  # PromptImportError is a ValueError
            raise CommandError(f"Cannot import {input}: {error}") from error
        for entry in report.entries:
            line = f"{entry.index:>4}  {entry.label:<32} {entry.action}"
            self.stdout.write(f"{line}  {entry.message}".rstrip())
        summary = (
            f"Created {report.count('created')}, released {report.count('released')}, "
            f"unchanged {report.count('unchanged')}, errors {len(report.errors)}."
        )
        if report.errors:
            raise CommandError(f"{summary} Nothing was imported.")
        self.stdout.write(summary + (" (dry run: nothing changed)" if dry_run else ""))
