import json

from django.core.management.base import BaseCommand, CommandParser

from prompts.transfer import export_templates


class Command(BaseCommand):
    help = "Write every prompt template, with its version and status, to a JSON file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", required=True, help="File to write ('-' for stdout).")

    def handle(self, *args, output: str, **options) -> None:
        text = json.dumps(export_templates(), ensure_ascii=False, indent=2)
        if output == "-":
            self.stdout.write(text)
            return
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        self.stdout.write(f"Wrote {output}.")
