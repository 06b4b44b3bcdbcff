"""Keep test sets in the database: ``testsets import NAME FILE [--gate-for TYPE] [--tolerance X]``
replaces (or creates) a set from a JSON Lines file; ``testsets export NAME FILE`` writes one."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from prompts.models import DocumentType, TestSet

# A test set file is read whole: bound it before reading.
MAX_FILE_BYTES = 50_000_000


class Command(BaseCommand):
    help = "Import a test set from JSON Lines, or export one to JSON Lines."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        load = actions.add_parser("import", help="Create or replace a test set from a file.")
        load.add_argument("name")
        load.add_argument("file")
        load.add_argument("--gate-for", help="Make it the gate test set of this document type.")
        load.add_argument("--tolerance", type=float, help="The gate's tolerance (0.01 = 1 point).")
        dump = actions.add_parser("export", help="Write a test set to a file ('-': stdout).")
        dump.add_argument("name")
        dump.add_argument("file")

    def handle(self, *args, action: str, name: str, file: str, **options) -> None:
        if action == "export":
            self.export(name, file)
        else:
            self.load(name, file, gate_for=options["gate_for"], tolerance=options["tolerance"])

    def export(self, name: str, file: str) -> None:
        test_set = TestSet.objects.filter(name=name).first()
        if test_set is None:
            raise CommandError(f"No test set named {name!r}.")
        text = test_set.export_jsonl()
        if file == "-":
            self.stdout.write(text, ending="")
            return
        Path(file).write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {test_set.cases.count()} case(s) of {name!r} to {file}.")

    def load(self, name: str, file: str, *, gate_for: str | None, tolerance: float | None) -> None:
        path = Path(file)
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise CommandError(f"{file} is larger than {MAX_FILE_BYTES} bytes.")
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {file}: {error}") from error
        if tolerance is not None and not 0 <= tolerance <= 1:
            raise CommandError("--tolerance is a fraction between 0 and 1.")
        doc_type = None
        if gate_for is not None:
            doc_type = DocumentType.objects.filter(key=gate_for).first()
            if doc_type is None:
                raise CommandError(f"No document type {gate_for!r}.")
        with transaction.atomic():
            test_set, _ = TestSet.objects.get_or_create(name=name)
            try:
                count = test_set.import_jsonl(
                    text, known_types=DocumentType.objects.values_list("key", flat=True)
                )
            except ValidationError as error:
                raise CommandError(f"{file}:\n" + "\n".join(error.messages)) from error
            if doc_type is not None:
                doc_type.gate_test_set = test_set
                if tolerance is not None:
                    doc_type.gate_tolerance = tolerance
                doc_type.save(update_fields=["gate_test_set", "gate_tolerance", "updated_at"])
        gate = f"; it gates {gate_for}" if doc_type is not None else ""
        self.stdout.write(f"Test set {name!r} holds {count} case(s){gate}.")
