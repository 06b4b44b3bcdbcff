"""ICAO 9303 TD1 (three lines of 30: identity cards, travel permits) and TD2 (two lines of 36:
identity cards, visas) machine readable zones, as phone OCR reads them.

OCR splits a line in two, joins two, inserts spaces, reads « or K for the filler <, gives one
filler too many or too few and confuses O/0, I/1 and friends. Each position is read by the
character class the format puts there (``ocr.mrz_parts.read_by_class``); where the lines can be cut
more than one way, the cut whose check digits hold best wins.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ocr.mrz_parts import (
    FIRST_LINE_SPANS,
    SECOND_LINE_SPANS,
    MrzResult,
    check_digit,
    length_variants,
    parse_names,
    read_by_class,
    repaired_fields,
    repaired_names,
)
from ocr.normalize import normalize_date

TD1_LENGTH = 30
TD2_LENGTH = 36
# A TD1 or TD2 zone is taken only where this many of its check digits hold and both its dates
# are dates: unlike a passport's, its first line has no letter of its own (P) that marks it.
MIN_CHECKS_HOLDING = 2
# The first line opens with the document code (A, C or I for identity documents, V for a visa,
# then a letter or a filler) and the issuing state, whose digits are misread letters.
_OPENING_RE = re.compile(r"[ACIV][A-Z<][A-Z0-9<]{3}")
_ZONE_LINE_RE = re.compile(r"[A-Z0-9<]+")


@dataclass(frozen=True)
class _Format:
    """One card format: its name, line length and the character class of every position of its
    checked lines (see ``read_by_class``)."""

    name: str
    length: int
    classes: tuple[str, ...]


TD1 = _Format(
    "TD1",
    TD1_LENGTH,
    (
        "LLLLL" + "A" * 9 + "C" + "A" * 15,
        "D" * 6 + "C" + "S" + "D" * 6 + "C" + "LLL" + "A" * 11 + "C",
    ),
)
TD2 = _Format(
    "TD2",
    TD2_LENGTH,
    ("LLLLL" + "N" * 31, "A" * 9 + "C" + "LLL" + "D" * 6 + "C" + "S" + "D" * 6 + "C" + "A" * 8),
)
_SEXES = {"M": "male", "F": "female"}
# A visa of TD2 size.
MRV_B = "MRV-B"


def _is_visa(line1: str) -> bool:
    # A visa's second line has no composite check digit: its last position is optional data.
    return line1.startswith("V")


def _td1_checks(line1: str, line2: str) -> dict[str, bool]:
    composite = line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29]
    return {
        "passportNumber": line1[14] == check_digit(line1[5:14]),
        "birthDate": line2[6] == check_digit(line2[0:6]),
        "expiryDate": line2[14] == check_digit(line2[8:14]),
        "composite": line2[29] == check_digit(composite),
    }


def _td2_checks(line1: str, line2: str) -> dict[str, bool]:
    checks = {
        "passportNumber": line2[9] == check_digit(line2[0:9]),
        "birthDate": line2[19] == check_digit(line2[13:19]),
        "expiryDate": line2[27] == check_digit(line2[21:27]),
    }
    if not _is_visa(line1):
        checks["composite"] = line2[35] == check_digit(line2[0:10] + line2[13:20] + line2[21:35])
    return checks


def _date(text: str, kind: str) -> str | None:
    return normalize_date(text, kind=kind) if text.isdigit() else None


def _state(code: str) -> str:
    return code.replace("<", "")


# Where the passport fields stand in a TD1 zone's first two lines.
_TD1_FIRST_SPANS = {**FIRST_LINE_SPANS, "passportNumber": (5, 14)}
_TD1_SECOND_SPANS = {
    "birthDate": (0, 6),
    "gender": (7, 8),
    "expiryDate": (8, 14),
    "nationality": (15, 18),
}


def parse_td1(
    line1: str, line2: str, line3: str, *, printed: tuple[str, str] | None = None
) -> MrzResult:
    """Parse three TD1 lines (the first two read by class, exactly 30 characters); ``printed``
    holds the first two as printed, before they were read by position (the lines themselves
    where omitted)."""
    surname, given = parse_names(line3)
    printed1, printed2 = printed or (line1, line2)
    repaired = repaired_fields(printed1, line1, _TD1_FIRST_SPANS)
    repaired |= repaired_fields(printed2, line2, _TD1_SECOND_SPANS) | repaired_names(line3)
    return MrzResult(
        line1=line1,
        line2=line2,
        line3=line3,
        format=TD1.name,
        document_code=line1[0:2].replace("<", ""),
        issuing_country=_state(line1[2:5]),
        surname=surname,
        given_names=given,
        passport_number=line1[5:14].replace("<", ""),
        nationality=_state(line2[15:18]),
        birth_date=_date(line2[0:6], "birth"),
        sex=_SEXES.get(line2[7]),
        expiry_date=_date(line2[8:14], "expiry"),
        personal_number=line1[15:30].replace("<", ""),
        checks=_td1_checks(line1, line2),
        repaired=frozenset(repaired),
    )


def parse_td2(line1: str, line2: str, *, printed: tuple[str, str] | None = None) -> MrzResult:
    """Parse two TD2 lines (read by class, exactly 36 characters); ``printed`` as for
    ``parse_td1``."""
    surname, given = parse_names(line1[5:])
    printed1, printed2 = printed or (line1, line2)
    repaired = repaired_fields(printed1, line1, FIRST_LINE_SPANS)
    repaired |= repaired_fields(printed2, line2, SECOND_LINE_SPANS) | repaired_names(printed1[5:])
    return MrzResult(
        line1=line1,
        line2=line2,
        format=MRV_B if _is_visa(line1) else TD2.name,
        document_code=line1[0:2].replace("<", ""),
        issuing_country=_state(line1[2:5]),
        surname=surname,
        given_names=given,
        passport_number=line2[0:9].replace("<", ""),
        nationality=_state(line2[10:13]),
        birth_date=_date(line2[13:19], "birth"),
        sex=_SEXES.get(line2[20]),
        expiry_date=_date(line2[21:27], "expiry"),
        personal_number=line2[28:35].replace("<", ""),
        checks=_td2_checks(line1, line2),
        repaired=frozenset(repaired),
    )


# A line as printed (one filler more or less) and as read by the class of each position.
_Line = tuple[str, str]


def _readings(raw: str, fmt: _Format, index: int) -> list[_Line]:
    """The ways to read ``raw`` as checked line ``index`` of ``fmt``: one filler more or less,
    each position read by its class."""
    variants = length_variants(raw, fmt.length)
    readings = {read_by_class(v, fmt.classes[index]): v for v in reversed(variants)}
    return [(printed, read) for read, printed in readings.items() if len(read) == fmt.length]


def _cuts(stream: str, start: int, bounds: Sequence[int], length: int) -> list[int]:
    """Where the line starting at ``start`` may end: where an OCR line ends at its length or one
    filler either way (OCR's own line ends are trusted: a cut elsewhere would let the check
    digits of a shifted reading hold by chance); its length, one filler either way, where none
    does (a line split or joined)."""
    if start + length in bounds:
        return [start + length]
    near = [b for b in bounds if start + length - 1 <= b <= start + length + 1]
    return near or [start + length - 1, start + length, start + length + 1]


def _parsed(fmt: _Format, first: _Line, second: _Line, names: str) -> MrzResult:
    printed = (first[0], second[0])
    if fmt is TD1:
        return parse_td1(first[1], second[1], names, printed=printed)
    return parse_td2(first[1], second[1], printed=printed)


def _score(fmt: _Format, first: str, second: str) -> int:
    checks = _td1_checks(first, second) if fmt is TD1 else _td2_checks(first, second)
    return sum(checks.values())


# The best cut of a stream into a zone's lines: the check digits holding, the first and second
# lines, the names line.
_Cut = tuple[int, _Line, _Line, str]


def _best_td1(stream: str, bounds: Sequence[int]) -> _Cut | None:
    best: _Cut | None = None
    for end1 in _cuts(stream, 0, bounds, TD1_LENGTH):
        firsts = _readings(stream[:end1], TD1, 0)
        for end2 in _cuts(stream, end1, bounds, TD1_LENGTH):
            seconds = _readings(stream[end1:end2], TD1, 1)
            names = stream[end2 : end2 + TD1_LENGTH + 1]
            for first in firsts:
                for second in seconds:
                    score = _score(TD1, first[1], second[1])
                    if best is None or score > best[0]:
                        best = (score, first, second, names)
    return best


def _best_td2(stream: str, bounds: Sequence[int]) -> _Cut | None:
    best: _Cut | None = None
    # The names line may have lost fillers at its end: line 2 is cut where an OCR line begins
    # too, and read from there.
    starts = sorted({*_cuts(stream, 0, bounds, TD2_LENGTH), *(b for b in bounds if b >= 10)})
    for end1 in starts:
        printed = stream[:end1][:TD2_LENGTH].ljust(TD2_LENGTH, "<")
        first = (printed, read_by_class(printed, TD2.classes[0]))
        for end2 in _cuts(stream, end1, bounds, TD2_LENGTH):
            for second in _readings(stream[end1:end2], TD2, 1):
                score = _score(TD2, first[1], second[1])
                if best is None or score > best[0]:
                    best = (score, first, second, "")
    return best


def read_card_zone(pieces: Sequence[str]) -> MrzResult | None:
    """The TD1 or TD2 zone whose first line opens ``pieces`` (cleaned OCR lines in order, the
    zone's pieces after it), or None where no cut of them has enough check digits holding."""
    if not pieces or not _OPENING_RE.match(pieces[0]):
        return None
    stream, bounds = "", []
    for piece in pieces:
        stream += piece
        bounds.append(len(stream))
        if len(stream) > 3 * TD1_LENGTH + 3:
            break
    if not _ZONE_LINE_RE.fullmatch(stream):
        return None
    found = [
        (fmt, best)
        for fmt in (TD1, TD2)
        for best in [_best_td1(stream, bounds) if fmt is TD1 else _best_td2(stream, bounds)]
        if best is not None
    ]
    if not found:
        return None
    fmt, (score, first, second, names) = max(found, key=lambda item: item[1][0])
    if score < MIN_CHECKS_HOLDING:
        return None
    result = _parsed(fmt, first, second, names)
    return result if result.birth_date and result.expiry_date else None
