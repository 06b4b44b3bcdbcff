"""Passports: the machine readable zone where its check digits hold, the printed (visual) zone
where there is no MRZ or a part of it fails its check.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ocr.mrz import PASSPORT_FIELD_ATTRIBUTES, MrzResult, find_mrz
from ocr.normalize import (
    nfkc,
    normalize_country,
    normalize_date,
    normalize_text,
    without_spaces,
)
from ocr.rules.doctypes import accept, one
from ocr.rules.engine import run_engine
from ocr.rules.lines import GAP, clean_line
from ocr.rules.rule import Candidate, FieldRule, Reader, Reading

# Beliefs (0..1) in each value, by where it was read.
# The printed type line (P CHN E12345678): the issuing state and the number.
TYPE_LINE = 0.85
# An MRZ value under a check digit that holds (or, for names and codes, in a line 2 that holds
# together), and one that does not.
CHECKED_MRZ = 0.99
UNCHECKED_MRZ = 0.5
# An MRZ value this sure is taken over the printed one.
TRUSTED_MRZ = 0.9
# A printed value the MRZ repeats (its check failing) is confirmed by it.
PRINTED_AS_IN_MRZ = 0.95
# The zone holds together where its composite check holds, or all its checks but one do (at
# least this many: four of a passport's five, three of an identity card's four, a visa's three).
MIN_CHECKS_HOLDING = 3

# "P CHN E12345678" under "Type / Country code / Passport No.".
_TYPE_LINE = re.compile(r"^P[A-Z<]?\s+([A-Z]{3}|D)\s+([A-Z0-9]{6,9})$")
_LATIN_NAME_RE = re.compile(r"[A-Z][A-Z' \-]*")
_LATIN_OR_DIGIT_RE = re.compile(r"[A-Z0-9]")
_NUMBER_RE = re.compile(r"[A-Z0-9]{6,9}")
_GENDER_RE = re.compile(r"^\s*(男|女)?\s*/?\s*(M|F)?(?![A-Z])")
_MRZ_LINE_RE = re.compile(r"[A-Z0-9<]{10,}")


def _latin_part(raw: str) -> str | None:
    """The Latin half of a bilingual name (宋/SONG is SONG); a Latin name as it stands."""
    halves = [h.strip() for h in nfkc(raw).upper().split("/")]
    if len(halves) > 2 or not _LATIN_NAME_RE.fullmatch(halves[-1]):
        return None
    if normalize_country(halves[-1]) is not None and len(halves[-1]) > 3:
        return None  # the state's name printed at the top, not a name
    if len(halves) == 2 and _LATIN_OR_DIGIT_RE.search(halves[0]):
        return None
    return normalize_text(halves[-1])


def _read_number(raw: str) -> str | None:
    """A passport number: 6-9 letters and digits, with digits in it."""
    text = without_spaces(nfkc(raw).upper())
    ok = _NUMBER_RE.fullmatch(text) and sum(c.isdigit() for c in text) >= 3
    return text if ok else None


def _passport_gender(raw: str) -> str | None:
    m = _GENDER_RE.match(nfkc(raw).upper())
    if not m or not (m[1] or m[2]):
        return None
    if m[1] and m[2] and (m[1] == "男") != (m[2] == "M"):
        return None
    return "male" if (m[1] == "男" or m[2] == "M") else "female"


def _date_reader(key: str) -> Reader:
    def read(raw: str) -> Reading | None:
        # "北京/BEIJING 27 NOV 2016": the date is what counts.
        value = normalize_date(raw)
        return None if value is None else {key: (value, None)}

    return read


VIZ_RULES = (
    FieldRule(("surname",), ("姓/Surname", "Surname"), one("surname", _latin_part)),
    FieldRule(
        ("givenNames",),
        ("名/Given names", "Given names", "Given name"),
        one("givenNames", _latin_part),
    ),
    FieldRule(
        ("nationality",),
        ("国籍/Nationality", "Nationality"),
        one("nationality", normalize_country),
    ),
    FieldRule(("gender",), ("性别/Sex", "Sex"), one("gender", _passport_gender)),
    FieldRule(
        ("birthDate",), ("出生日期/Date of birth", "Date of birth"), _date_reader("birthDate")
    ),
    FieldRule(
        ("expiryDate",),
        ("有效期至/Date of expiry", "Date of expiry"),
        _date_reader("expiryDate"),
    ),
    FieldRule(
        ("issuingCountry",),
        ("签发国/Issuing State", "Issuing State", "Issuing country"),
        one("issuingCountry", normalize_country),
    ),
    FieldRule(
        ("passportNumber",),
        ("护照号/Passport No.", "Passport No.", "Passport Number"),
        one("passportNumber", _read_number),
    ),
    # Printed items that are not fields.
    FieldRule((), ("出生地点/Place of birth", "Place of birth"), accept(r"^[^\d]+$"), max_after=1),
    FieldRule((), ("签发地点/Place of issue", "Place of issue"), accept(r"^[^\d]+$"), max_after=1),
    FieldRule((), ("签发日期/Date of issue", "Date of issue"), accept(r"\d{4}"), max_after=2),
    FieldRule((), ("签发机关/Authority", "Authority"), accept(r"^[^\d]+$"), max_after=1),
    FieldRule(
        (), ("类型/Type", "Type", "国家码/Country Code", "Country Code", "Code"), accept(r"^$")
    ),
)


def _is_mrz_line(line: str) -> bool:
    text = without_spaces(nfkc(line).upper()).replace("«", "<")
    if not _MRZ_LINE_RE.fullmatch(text):
        return False
    return "<" in text or (len(text) >= 30 and sum(c.isdigit() for c in text) >= 6)


def _zone_apart(lines: Sequence[str]) -> list[str]:
    """The lines, with a zone line OCR merged with a printed one ("14 JAN 2029   P<JPN...") parted
    again: the printed column is a line of its own."""
    out: list[str] = []
    for line in lines:
        columns = clean_line(line).split(GAP)
        zone = [_is_mrz_line(c) for c in columns]
        out += columns if len(columns) > 1 and any(zone) else [line]
    return out


def _visual_zone(lines: Sequence[str]) -> dict[str, Candidate]:
    rest = []
    found: dict[str, Candidate] = {}
    for line in _zone_apart(lines):
        if _is_mrz_line(line):
            continue
        # The type line may be merged with the row of labels over it or a label beside it
        # ("P  CHN  E12345678   姓/Surname"): it is one of the columns.
        columns = clean_line(line).upper().split(GAP)
        typed = [m for m in map(_TYPE_LINE.match, columns) if m]
        if typed and "issuingCountry" not in found:
            found["issuingCountry"] = Candidate(typed[0][1], TYPE_LINE, "pattern")
            found["passportNumber"] = Candidate(typed[0][2], TYPE_LINE, "pattern")
            others = [c for c in clean_line(line).split(GAP) if not _TYPE_LINE.match(c.upper())]
            rest += others
            continue
        rest.append(line)
    rules = [r for r in VIZ_RULES if not set(r.keys) & set(found)]
    result = run_engine(lines=rest, rules=rules)
    return {**result, **found}


_CHECKED = {
    "passportNumber": "passportNumber",
    "birthDate": "birthDate",
    "expiryDate": "expiryDate",
}


def _from_mrz(key: str, mrz: MrzResult) -> Candidate | None:
    value = getattr(mrz, PASSPORT_FIELD_ATTRIBUTES[key]) or None
    if value is None:
        return None
    check = _CHECKED.get(key)
    if check is not None:
        ok = mrz.checks.get(check, False)
    else:
        # Names and codes have no check digit of their own: trust them when the zone holds
        # together.
        holding = sum(mrz.checks.values())
        ok = mrz.checks.get("composite", False) or holding >= max(
            len(mrz.checks) - 1, MIN_CHECKS_HOLDING
        )
    return Candidate(value, CHECKED_MRZ if ok else UNCHECKED_MRZ, "mrz")


def extract_passport(lines: Sequence[str], keys: Sequence[str]) -> dict[str, Candidate | None]:
    """Passport fields: MRZ values whose check holds, else printed values, else unchecked MRZ."""
    mrz = find_mrz(lines)
    visual = _visual_zone(lines)
    out: dict[str, Candidate | None] = {}
    for key in keys:
        from_mrz = (
            _from_mrz(key, mrz) if mrz is not None and key in PASSPORT_FIELD_ATTRIBUTES else None
        )
        printed = visual.get(key)
        if from_mrz is not None and from_mrz.confidence >= TRUSTED_MRZ:
            out[key] = from_mrz
        elif printed is not None:
            agrees = from_mrz is not None and from_mrz.value == printed.value
            belief = PRINTED_AS_IN_MRZ if agrees else printed.confidence
            out[key] = Candidate(printed.value, belief, printed.source)
        else:
            out[key] = from_mrz
    return out
