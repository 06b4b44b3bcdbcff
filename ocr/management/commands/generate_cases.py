"""Write a synthetic test set (JSON Lines, the format ``evaluate`` reads) made by ocr.casegen."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ocr.casegen import DOC_TYPES, SAMPLE_PER_TYPE, SAMPLE_SEED, generate_cases, render_cases


class Command(BaseCommand):
    help = (
        "Generate synthetic OCR cases, the same number of each document type; the same "
        "arguments always give the same file. The defaults remake the shipped sample set."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--per-type",
            type=int,
            default=SAMPLE_PER_TYPE,
            help=f"Cases of each of the {len(DOC_TYPES)} document types (default: %(default)s).",
        )
        parser.add_argument(
            "--seed", type=int, default=SAMPLE_SEED, help="Random seed (default: %(default)s)."
        )
        parser.add_argument("--output", help="Write to this file (default: standard output).")
        parser.add_argument(
            "--real-ocr",
            action="store_true",
            help="Also lay each case out as real OCR engines do (glued or split labels, rows "
            "of labels with their values run together, lost labels, addresses wrapped after a "
            "house number, OCR punctuation, garbled bank names, noisy MRZs, identity cards' TD1 "
            "and TD2 zones sent as passports).",
        )

    def handle(
        self, *args, per_type: int, seed: int, output: str | None, real_ocr: bool, **options
    ) -> None:
        if per_type < 1:
            raise CommandError("--per-type must be 1 or more.")
        text = render_cases(generate_cases(per_type * len(DOC_TYPES), seed=seed, real=real_ocr))
        if output is None:
            self.stdout.write(text, ending="")
            return
        path = Path(output)
        if not path.parent.is_dir():
            raise CommandError(f"No directory {path.parent} to write {path.name} into.")
        # newline="\n": the same bytes on every platform, so the shipped file can be compared.
        with path.open("w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        self.stderr.write(f"Wrote {per_type * len(DOC_TYPES)} cases to {path}.")
