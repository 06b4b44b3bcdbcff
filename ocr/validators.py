"""Validators of field values and cross-checks between the fields of one document.

``validate_value`` runs one named validator (the ``validator`` of a FieldSpec) on a canonical value;
``validate_document`` runs them over a document's fields and adds the cross-checks (a resident id
against the birth date and gender printed beside it; a passport's MRZ against its visual zone).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from stdnum import luhn
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from ocr.mrz import PASSPORT_FIELD_ATTRIBUTES, MrzResult
from prompts.document_types import DocumentTypeKey, FieldSpec


@dataclass
class Check:
    """Outcome of validating one value: valid, with errors (why not) and warnings (worth a look)."""

    valid: bool
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # The value differs from the print: a look-alike read as the character its position holds.
    repaired: bool = False

    def as_dict(self) -> dict:
        """{"valid": ..., "errors": [...]} plus "warnings" when there are any and
        "repaired": true for a value read with a look-alike repair."""
        out: dict = {"valid": self.valid, "errors": list(self.errors)}
        if self.warnings:
            out["warnings"] = list(self.warnings)
        if self.repaired:
            out["repaired"] = True
        return out

    def fail(self, error: str) -> None:
        """Mark invalid with one more error (kept once)."""
        self.valid = False
        if error not in self.errors:
            self.errors.append(error)


_ID_CHECK_CHAR_RE = re.compile(r"[0-9X]")
_PASSPORT_NUMBER_RE = re.compile(r"[A-Z0-9]{5,9}")
_MRZ_SPACING_RE = re.compile(r"[\s<-]")


@functools.lru_cache(maxsize=1024)
def _known_region(head: str) -> bool:
    """Whether the region code of a resident id was in use in its birth year. ``head`` is the
    id's first 14 characters (region code and birth date): all that the look-up reads.

    Cached: one request checks the same id number several times, and the look-up walks a table.
    """
    try:
        ric.get_birth_place(head)
    except (ValidationError, KeyError):
        # python-stdnum raises KeyError for codes its table lists without a county (127101).
        return False
    return True


def _resident_id(value: str) -> Check:
    """GB 11643: 17 digits and a check digit (0-9 or X); the embedded birth date must be real."""
    number = value.strip().upper()
    if len(number) != 18:
        return Check(False, ["must be 18 characters"])
    if not number[:17].isdigit() or not _ID_CHECK_CHAR_RE.fullmatch(number[17]):
        return Check(False, ["must be 17 digits and a digit or X"])
    check = Check(True)
    if ric.calc_check_digit(number) != number[17]:
        check.fail("check digit does not match")
    try:
        birth = ric.get_birth_date(number)
    except ValidationError:
        check.fail("embedded birth date is not a real date")
        return check
    if birth > dt.date.today() or birth.year < 1890:
        check.fail("embedded birth date is out of range")
    if not _known_region(number[:14]):
        # Region codes are retired and added over the years: worth a look, not a failure.
        check.warnings.append("region code is unknown or retired")
    return check


def _credit_code(value: str) -> Check:
    """GB 32100 unified social credit code: 18 characters and a mod-31 check character."""
    number = value.strip().upper()
    if len(number) != 18:
        return Check(False, ["must be 18 characters"])
    try:
        uscc.validate(number)
    except ValidationError as exc:
        if "checksum" in type(exc).__name__.lower():
            return Check(False, ["check character does not match"])
        return Check(False, ["has characters not allowed in a credit code"])
    return Check(True)


def _luhn(value: str) -> Check:
    """Bank card number: 13 to 19 digits with a Luhn check digit."""
    number = value.strip()
    if not number.isdigit():
        return Check(False, ["must be digits only"])
    if not 13 <= len(number) <= 19:
        return Check(False, ["must be 13 to 19 digits"])
    if not luhn.is_valid(number):
        return Check(False, ["check digit does not match"])
    return Check(True)


_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def is_vin_alphabet(text: str) -> bool:
    """Whether every character may stand in a VIN (digits and letters but I, O and Q)."""
    return all(c in _VIN_VALUES for c in text)


def vin_check_digit(vin: str) -> str:
    """ISO 3779 / GB 16735 check digit (position 9) of a 17-character VIN."""
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    return "X" if total % 11 == 10 else str(total % 11)


def _vin(value: str) -> Check:
    """VIN: 17 characters without I, O or Q, with the check digit in position 9."""
    vin = value.strip().upper()
    if len(vin) != 17:
        return Check(False, ["must be 17 characters"])
    if not is_vin_alphabet(vin):
        return Check(False, ["has characters not allowed in a VIN (I, O, Q)"])
    if vin[8] != vin_check_digit(vin):
        return Check(False, ["check digit does not match"])
    return Check(True)


def _passport_number(value: str) -> Check:
    """A passport number alone can only be checked for shape; its MRZ check is a cross-check."""
    if not _PASSPORT_NUMBER_RE.fullmatch(value.strip().upper()):
        return Check(False, ["must be 5 to 9 letters or digits"])
    return Check(True)


VALIDATORS: dict[str, Callable[[str], Check]] = {
    "cn_resident_id": _resident_id,
    "cn_unified_credit_code": _credit_code,
    "luhn": _luhn,
    "vin_check_digit": _vin,
    "mrz_check_digits": _passport_number,
}


def validate_value(*, validator: str, value: str) -> Check:
    """Run the named validator on a canonical value; an unknown validator name passes."""
    func = VALIDATORS.get(validator)
    return func(value) if func else Check(True)


def _resident_id_cross_check(
    *, fields: dict[str, str | None], id_key: str, checks: dict[str, Check]
) -> None:
    """birthDate and gender must agree with the resident id number they are printed with."""
    number = (fields.get(id_key) or "").upper()
    if len(number) != 18 or not number[:17].isdigit():
        return
    try:
        embedded = ric.get_birth_date(number).isoformat()
    except ValidationError:
        return
    birth = fields.get("birthDate")
    if birth and birth != embedded:
        checks.setdefault("birthDate", Check(True)).fail("does not match the id number")
        checks[id_key].fail("birth date does not match birthDate")
    gender = fields.get("gender")
    if gender in ("male", "female"):
        embedded_gender = "male" if int(number[16]) % 2 else "female"
        if gender != embedded_gender:
            checks.setdefault("gender", Check(True)).fail("does not match the id number")
            checks[id_key].fail("gender digit does not match gender")


# The field holding the resident id number of the document types printed with one, whose birth
# date and sex fields the number embeds.
RESIDENT_ID_FIELDS: dict[str, str] = {
    DocumentTypeKey.ID_CARD: "idNumber",
    DocumentTypeKey.DRIVER_LICENSE: "licenseNumber",
}

_MRZ_CHECK_ERRORS = {
    "passportNumber": ("passportNumber", "MRZ check digit of the passport number does not match"),
    "birthDate": ("birthDate", "MRZ check digit of the birth date does not match"),
    "expiryDate": ("expiryDate", "MRZ check digit of the expiry date does not match"),
    "personalNumber": ("passportNumber", "MRZ check digit of the personal number does not match"),
    "composite": ("passportNumber", "MRZ composite check digit does not match"),
}


def _passport_cross_check(
    *, fields: dict[str, str | None], mrz: MrzResult, checks: dict[str, Check], warnings: list[str]
) -> None:
    """Every MRZ check digit holds, and the visual zone (the extracted fields) agrees with it;
    a zone of another format than a passport's TD3 is named in a warning."""
    if mrz.format != "TD3":
        warnings.append(
            f"The machine readable zone is of format {mrz.format} (an identity card, travel "
            "permit or visa), not a passport's TD3: passportNumber is the document's number."
        )
    for name, ok in mrz.checks.items():
        if ok:
            continue
        key, error = _MRZ_CHECK_ERRORS[name]
        if fields.get(key):
            checks.setdefault(key, Check(True)).fail(error)
        else:
            warnings.append(error)
    for key, attr in PASSPORT_FIELD_ATTRIBUTES.items():
        value = fields.get(key)
        in_mrz = getattr(mrz, attr)
        if not value or not in_mrz:
            continue
        same = _MRZ_SPACING_RE.sub("", value.upper()) == _MRZ_SPACING_RE.sub("", in_mrz.upper())
        if not same:
            checks.setdefault(key, Check(True)).fail("does not match the MRZ")
        elif key in mrz.repaired:
            # The zone printed a look-alike where the value stands (74O812 for a birth date).
            checks.setdefault(key, Check(True)).repaired = True


def validate_document(
    *,
    document_type: str,
    fields: dict[str, str | None],
    specs: Sequence[FieldSpec],
    mrz: MrzResult | None = None,
) -> tuple[dict[str, Check], list[str]]:
    """Validate a document's canonical fields.

    Returns ({field key: Check} for every non-null field that has a validator or a cross-check,
    [document warnings]). Field warnings (e.g. a retired region code) are inside the Checks.
    """
    checks: dict[str, Check] = {}
    warnings: list[str] = []
    for spec in specs:
        value = fields.get(spec.key)
        if value and spec.validator:
            checks[spec.key] = validate_value(validator=spec.validator, value=value)

    if document_type in RESIDENT_ID_FIELDS:
        id_key = RESIDENT_ID_FIELDS[document_type]
        if fields.get(id_key) and id_key in checks:
            for key in ("birthDate", "gender"):
                if fields.get(key):
                    checks.setdefault(key, Check(True))
            _resident_id_cross_check(fields=fields, id_key=id_key, checks=checks)
    elif document_type == DocumentTypeKey.PASSPORT:
        if mrz is not None:
            for key in PASSPORT_FIELD_ATTRIBUTES:
                if fields.get(key):
                    checks.setdefault(key, Check(True))
            _passport_cross_check(fields=fields, mrz=mrz, checks=checks, warnings=warnings)
        elif fields.get("passportNumber"):
            warnings.append("no machine readable zone: passport check digits could not be tested")
    return checks, warnings


# The fields printed on the back of a resident identity card (the front holds the others).
ID_CARD_BACK = frozenset({"issuingAuthority", "validFrom", "validUntil"})


def is_back_side_only(*, document_type: str, values: dict[str, str | None]) -> bool:
    """Whether the text is the back of an identity card alone: back fields, no front ones."""
    if document_type != DocumentTypeKey.ID_CARD:
        return False
    found = {key for key, value in values.items() if value is not None}
    return bool(found) and found <= ID_CARD_BACK


# The fields that say until when a document is valid.
_EXPIRY_KEYS = ("validUntil", "expiryDate")


def _expired(value: str, *, today: dt.date) -> bool:
    """Whether a canonical validUntil, date or yearMonth value lies before ``today``."""
    if value == "long-term":
        return False
    try:
        if len(value) == len("2029-08"):
            year, month = (int(part) for part in value.split("-"))
            # A card is valid to the end of its month.
            return (year, month) < (today.year, today.month)
        return dt.date.fromisoformat(value) < today
    except ValueError:
        return False


def state_warnings(
    *, document_type: str, fields: dict[str, str | None], today: dt.date | None = None
) -> list[str]:
    """Warnings about the document itself: it has expired; only the back of an identity card
    was read."""
    today = today or dt.date.today()
    warnings = []
    for key in _EXPIRY_KEYS:
        value = fields.get(key)
        if value and _expired(value, today=today):
            warnings.append(f"The document has expired ({key} {value}).")
    if is_back_side_only(document_type=document_type, values=fields):
        warnings.append(
            "Only the back of the identity card was read: the front holds the name, birth date "
            "and id number."
        )
    return warnings
