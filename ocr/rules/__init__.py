"""The built-in, model-free extractor (provider "rules").

``extract(document_type=..., lines=..., fields=...)`` returns a Candidate (canonical value, the
extractor's own confidence, and its source) or None for every field key; None means the text does
not hold the field: values are never guessed. ``detect_document_type(lines=...)`` names the type.

Identity cards, driver's and vehicle licences and business licences go through the label engine
(``ocr.rules.engine``) with the rules in ``ocr.rules.doctypes``, and the fields it leaves empty
are read by the shape of the values outside labels where a checked number anchors the document
(``ocr.rules.positional``, ``ocr.rules.shapes``: labels OCR lost); bank cards are read by shape
(``ocr.rules.bankcard``); passports from the MRZ and the printed zone (``ocr.rules.passport``).
Any other type, and fields staff add to a shipped type, are found by their FieldSpec labels.
"""

from __future__ import annotations

from collections.abc import Sequence

from ocr.grounding import trusted_lines
from ocr.rules.bankcard import extract_bank_card
from ocr.rules.detect import detect_document_type
from ocr.rules.doctypes import generic_rule, rules_for
from ocr.rules.engine import run_engine
from ocr.rules.labels import restore_split_labels
from ocr.rules.passport import extract_passport
from ocr.rules.positional import driver_license_by_shape, id_card_by_shape
from ocr.rules.rule import Candidate
from ocr.rules.shapes import business_license_by_shape, vehicle_license_by_shape
from prompts.document_types import DocumentTypeKey, FieldSpec

__all__ = ["Candidate", "detect_document_type", "extract"]

_BANK_CARD_KEYS = ("cardNumber", "bankName", "cardType", "expiryDate", "cardholderName")
_PASSPORT_KEYS = (
    "passportNumber",
    "surname",
    "givenNames",
    "nationality",
    "birthDate",
    "gender",
    "expiryDate",
    "issuingCountry",
)


# Readers of the values of a card whose labels OCR lost, by their shape.
_BY_SHAPE = {
    DocumentTypeKey.ID_CARD: id_card_by_shape,
    DocumentTypeKey.DRIVER_LICENSE: driver_license_by_shape,
    DocumentTypeKey.VEHICLE_LICENSE: vehicle_license_by_shape,
    DocumentTypeKey.BUSINESS_LICENSE: business_license_by_shape,
}


def _special(
    document_type: str, lines: Sequence[str], fields: Sequence[FieldSpec]
) -> tuple[dict[str, Candidate | None], list[FieldSpec]]:
    """Fields the shape readers (bank card, passport) find, and the fields left for labels."""
    keys = [f.key for f in fields]
    if document_type == DocumentTypeKey.BANK_CARD:
        found = extract_bank_card(lines)
        done = {k: found[k] for k in keys if k in _BANK_CARD_KEYS}
    elif document_type == DocumentTypeKey.PASSPORT:
        done = extract_passport(lines, [k for k in keys if k in _PASSPORT_KEYS])
    else:
        return {}, list(fields)
    return done, [f for f in fields if f.key not in done]


def extract(
    *, document_type: str, lines: Sequence[str], fields: Sequence[FieldSpec]
) -> dict[str, Candidate | None]:
    """Every key of ``fields`` mapped to a Candidate, or to None where the text does not hold it.
    Lines that read as instructions or field assignments are not print: nothing is read there."""
    lines = trusted_lines(lines)
    found, rest = _special(document_type, lines, fields)
    if rest:
        if found:
            rules, patterns = [generic_rule(f) for f in rest], []
        else:
            rules, patterns = rules_for(document_type, rest)
        result = run_engine(
            lines=restore_split_labels(lines, rules), rules=rules, patterns=patterns
        )
        found.update({f.key: result.get(f.key) for f in rest})
    by_shape = _BY_SHAPE.get(document_type)
    if by_shape is not None:
        wanted = {f.key for f in fields}
        read = by_shape(lines, found).items()
        found.update({k: c for k, c in read if k in wanted and found.get(k) is None})
    return {f.key: found.get(f.key) for f in fields}
