import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from prompts.transfer import import_templates


class Command(BaseCommand):
    help = "Create or update prompt templates from a file written by export_prompts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--input", required=True, help="File written by export_prompts.")

    def handle(self, *args, input: str, **options) -> None:
        try:
            with open(input, encoding="utf-8") as handle:
                data = json.load(handle)
            counts = import_templates(data)
        except (OSError, ValueError) as error:  # PromptImportError is a ValueError
            raise CommandError(f"Cannot import {input}: {error}") from error
        self.stdout.write(
            f"Created {counts['created']}, updated {counts['updated']}, "
            f"skipped {counts['skipped']} (unknown document type)."
        )
