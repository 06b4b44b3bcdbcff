"""Synthetic OCR cases for all six document types, in phone-OCR layouts.

``generate_cases(n, seed=...)`` makes new documents (random names, addresses and dates; resident
ids with a correct GB 11643 check digit, credit codes with a correct check character, Luhn card
numbers, VINs and MRZs with correct check digits) and renders each in a randomly chosen layout:
labels split from their values, values before their labels, letter-spaced and bilingual labels,
several pairs on one line, two columns read out of order, wrapped addresses (continuations before
the label too), full-width lines, spaced digit groups, O/0 and l/1 swaps in ids, noise lines,
split or spaced MRZs with a filler too many, and optional fields left out (expected null).

The same ``n`` and seed always give the same cases. The repository ships one such set,
``SAMPLE_SET`` (``datasets/sample.jsonl``), made by::

    python manage.py generate_cases --per-type 20 --seed 2025 --output datasets/sample.jsonl
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

from ocr.casegen.assets import AssetDocuments
from ocr.casegen.identity import IdentityDocuments
from ocr.casegen.layout import Document
from ocr.casegen.realocr import real_ocr
from ocr.casegen.vocabulary import DOC_TYPES

__all__ = [
    "DOC_TYPES",
    "SAMPLE_PER_TYPE",
    "SAMPLE_SEED",
    "SAMPLE_SET",
    "CaseGenerator",
    "generate_cases",
    "render_cases",
]

# The shipped sample set and how it was made; a test regenerates it and compares the bytes.
SAMPLE_SET = Path(__file__).resolve().parents[2] / "datasets" / "sample.jsonl"
SAMPLE_SEED = 2025
SAMPLE_PER_TYPE = 20
DEFAULT_SEED = 7


class CaseGenerator(IdentityDocuments, AssetDocuments):
    """One seeded generator of documents of every type."""

    def document(self, document_type: str) -> Document:
        """A new document of ``document_type`` (one of ``DOC_TYPES``)."""
        makers = {
            "idCard": self.id_card,
            "passport": self.passport,
            "driverLicense": self.driver_license,
            "bankCard": self.bank_card,
            "businessLicense": self.business_license,
            "vehicleLicense": self.vehicle_license,
        }
        return makers[document_type]()


def generate_cases(n: int, *, seed: int = DEFAULT_SEED, real: bool = False) -> list[dict]:
    """``n`` cases, the six types in turn (``DOC_TYPES`` order), each a dict in the test-set
    format: ``{"id", "documentType", "rawTexts", "expected"}``; ids are ``gen-TYPE-NNN``.
    ``real`` also puts each through what real OCR engines do (``ocr.casegen.realocr``): glued
    and split labels, rows of labels with their values run together, lost labels (every label of
    a card, its values partly shuffled), addresses wrapped after a house number, lines out of
    order, one string for a card, OCR punctuation,
    hyphens and look-alikes in numbers, garbled bank names, noisy MRZs, and some passports
    swapped for the noisy TD1 or TD2 zone of an identity card (``ocr.casegen.cardzones``)."""
    gen = CaseGenerator(seed)
    cases = []
    for i in range(n):
        doc = DOC_TYPES[i % len(DOC_TYPES)]
        made = gen.document(doc)
        if real:
            made = real_ocr(gen.r, doc, made)
        cases.append(
            {
                "id": f"gen-{doc}-{i:03d}",
                "documentType": doc,
                "rawTexts": [unicodedata.normalize("NFC", line) for line in made.lines],
                "expected": made.expected,
            }
        )
    return cases


def render_cases(cases: list[dict]) -> str:
    """``cases`` as JSON Lines: one case a line, UTF-8 text as is, a newline after each."""
    return "".join(json.dumps(case, ensure_ascii=False) + "\n" for case in cases)
