"""The shipped document types: their keys, field specifications and the file they come from.

Plain Python apart from Django's choices (no configured project needed): the rules extractor,
the validators and the evaluation command use these as they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.db.models import TextChoices

DOCUMENT_TYPES_PATH = Path(__file__).resolve().parent / "data" / "document_types.json"


class DocumentTypeKey(TextChoices):
    """The keys of the shipped document types, as the API names them."""

    ID_CARD = "idCard", "Resident ID card"
    PASSPORT = "passport", "Passport"
    DRIVER_LICENSE = "driverLicense", "Driving licence"
    BANK_CARD = "bankCard", "Bank card"
    BUSINESS_LICENSE = "businessLicense", "Business licence"
    VEHICLE_LICENSE = "vehicleLicense", "Vehicle licence"


class FieldFormat(TextChoices):
    TEXT = "text", "Text"
    DATE = "date", "Date"
    YEAR_MONTH = "yearMonth", "Year and month"
    VALID_UNTIL = "validUntil", "Date or long-term"
    GENDER = "gender", "Gender"
    COUNTRY = "country", "Country code"
    CODE = "code", "Code"
    DIGITS = "digits", "Digits"
    CARD_TYPE = "debit or credit", "Debit or credit"


class FieldValidator(TextChoices):
    NONE = "", "None"
    CN_RESIDENT_ID = "cn_resident_id", "Resident ID (GB 11643)"
    CN_UNIFIED_CREDIT_CODE = "cn_unified_credit_code", "Unified social credit code (GB 32100)"
    LUHN = "luhn", "Luhn"
    MRZ_CHECK_DIGITS = "mrz_check_digits", "MRZ check digits (ICAO 9303)"
    VIN_CHECK_DIGIT = "vin_check_digit", "VIN check digit (ISO 3779)"


@dataclass(frozen=True)
class FieldSpec:
    """One field of a document type: its key, printed label, canonical format and validator."""

    key: str
    label: str
    format: str
    required: bool = False
    sensitive: bool = False
    validator: str = ""


@cache
def shipped_type_data() -> tuple[dict[str, Any], ...]:
    """Return the shipped types as the JSON file holds them (name, fields, cross checks)."""
    return tuple(json.loads(DOCUMENT_TYPES_PATH.read_text(encoding="utf-8"))["types"])


@cache
def shipped_document_types() -> dict[str, list[FieldSpec]]:
    """Return {type key: [FieldSpec, ...]} of the shipped types."""
    return {
        doc["key"]: [
            FieldSpec(
                key=f["key"],
                label=f["label"],
                format=f["format"],
                required=bool(f.get("required", False)),
                sensitive=bool(f.get("sensitive", False)),
                validator=f.get("validator", ""),
            )
            for f in doc["fields"]
        ]
        for doc in shipped_type_data()
    }
