"""Machine readable zones (ICAO 9303) in OCR lines: finding one, repairing it, parsing it.

A passport's zone is TD3 (two lines of 44), a visa's of that size MRV-A; identity cards, travel
permits and visas that phones send as passports carry TD1 (three lines of 30) or TD2 (two lines of
36; MRV-B for a visa), read by ``ocr.mrz_cards``. Phone OCR splits lines, inserts spaces, reads «
or K for the filler <, gives one filler too many or too few, merges a zone line with a printed
one, and confuses O/0, I/1 and friends. ``find_mrz`` undoes that where the check digits prove the
repair right, and ``MrzResult.checks`` says which hold.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Sequence

from ocr.mrz_cards import read_card_zone
from ocr.mrz_parts import (
    FIRST_LINE_SPANS,
    PASSPORT_FIELD_ATTRIBUTES,
    SECOND_LINE_SPANS,
    TD3_LENGTH,
    MrzResult,
    check_digit,
    clean_line,
    length_variants,
    may_hold_zone,
    mrz_like,
    parse_names,
    read_by_class,
    repaired_fields,
    repaired_names,
    zone_piece,
)
from ocr.normalize import normalize_date

__all__ = [
    "PASSPORT_FIELD_ATTRIBUTES",
    "TD3_LENGTH",
    "MrzResult",
    "check_digit",
    "find_mrz",
    "parse_td3",
    "repair_line2",
]

_LINE2_RE = re.compile(r"[A-Z0-9<]{44}")
_ZONE_CHARS_RE = re.compile(r"[A-Z0-9<]+")
# The character class of each position of line 2 (see ocr.mrz_parts.read_by_class): number,
# check, nationality, birth date, check, sex, expiry date, check, personal number, its check
# (a filler where there is none) and the composite check.
_LINE2_CLASSES = "A" * 9 + "C" + "LLL" + "D" * 6 + "C" + "S" + "D" * 6 + "C" + "A" * 14 + "CC"
# A visa of this size (MRV-A, its first line opening with V) has optional data in place of the
# personal number and both its check digits.
_VISA_LINE2_CLASSES = _LINE2_CLASSES[:28] + "A" * 16
# Two columns OCR merged into one line stay apart by a gap this wide.
_GAP_RE = re.compile(r"\s{3,}")


def _checks(line2: str, *, visa: bool = False) -> dict[str, bool]:
    checks = {
        "passportNumber": line2[9] == check_digit(line2[0:9]),
        "birthDate": line2[19] == check_digit(line2[13:19]),
        "expiryDate": line2[27] == check_digit(line2[21:27]),
    }
    if visa:
        return checks
    personal = line2[28:42]
    personal_ok = line2[42] == check_digit(personal) or (
        line2[42] == "<" and set(personal) <= {"<"}
    )
    composite = line2[0:10] + line2[13:20] + line2[21:43]
    return {
        **checks,
        "personalNumber": personal_ok,
        "composite": line2[43] == check_digit(composite),
    }


def _score(line2: str, *, visa: bool = False) -> int:
    return sum(_checks(line2, visa=visa).values())


def _repair_line2(raw: str, *, visa: bool = False) -> tuple[str, str] | None:
    """(as printed, as read) of the best 44-character reading of a TD3 second line."""
    classes = _VISA_LINE2_CLASSES if visa else _LINE2_CLASSES
    pairs = [(v, read_by_class(v, classes)) for v in length_variants(raw, TD3_LENGTH)]
    pairs = [pair for pair in pairs if _LINE2_RE.fullmatch(pair[1])]
    return max(pairs, key=lambda pair: _score(pair[1], visa=visa), default=None)


def repair_line2(raw: str) -> str | None:
    """Best 44-character reading of a TD3 second line, or None when it is not one."""
    repaired = _repair_line2(raw)
    return None if repaired is None else repaired[1]


def parse_td3(line1: str, line2: str, *, printed2: str | None = None) -> MrzResult:
    """Parse two cleaned TD3 lines (line2 exactly 44 characters) into an MrzResult;
    ``printed2`` is line 2 as printed, before it was read by position (line2 itself where
    omitted)."""
    surname, given = parse_names(line1[5:])
    visa = line1.startswith("V")
    issuing = read_by_class(line1[2:5], "LLL")
    repaired = repaired_fields(line2 if printed2 is None else printed2, line2, SECOND_LINE_SPANS)
    repaired |= repaired_fields(line1, line1[:2] + issuing, FIRST_LINE_SPANS)
    repaired |= repaired_names(line1[5:])
    sex = {"M": "male", "F": "female"}.get(line2[20])
    birth = normalize_date(line2[13:19], kind="birth") if line2[13:19].isdigit() else None
    expiry = normalize_date(line2[21:27], kind="expiry") if line2[21:27].isdigit() else None
    return MrzResult(
        line1=line1,
        line2=line2,
        document_code=line1[0:2].replace("<", ""),
        issuing_country=issuing.replace("<", ""),
        surname=surname,
        given_names=given,
        passport_number=line2[0:9].replace("<", ""),
        nationality=line2[10:13].replace("<", ""),
        birth_date=birth,
        sex=sex,
        expiry_date=expiry,
        personal_number=line2[28:42].replace("<", ""),
        checks=_checks(line2, visa=visa),
        format=MRV_A if visa else "TD3",
        repaired=frozenset(repaired),
    )


# A passport's first line opens with P; a visa of the same size (MRV-A) with V.
_LINE1_RE = re.compile(r"[PV][A-Z<][A-Z<]{3}")
MRV_A = "MRV-A"


def _rank(result: MrzResult) -> int:
    return sum(result.checks.values())


def _best_split(stream: str) -> MrzResult | None:
    """The reading of two joined TD3 lines whose check digits hold best."""
    visa = stream.startswith("V")
    best: tuple[int, str, tuple[str, str]] | None = None
    for split in (TD3_LENGTH, TD3_LENGTH + 1, TD3_LENGTH - 1):
        line1, rest = stream[:split], stream[split:]
        for tail in dict.fromkeys([rest, rest[:TD3_LENGTH], rest[: TD3_LENGTH + 1]]):
            line2 = _repair_line2(tail, visa=visa)
            if line2 is None:
                continue
            # Ranked by the check digits alone (what parse_td3 would record); only the winner
            # is parsed.
            score = _score(line2[1], visa=visa)
            if best is None or score > best[0]:
                best = (score, line1, line2)
    if best is None:
        return None
    _, line1, (printed2, line2) = best
    return parse_td3(line1, line2, printed2=printed2)


def _unmerged(lines: Sequence[str]) -> list[str]:
    """The lines with a zone line OCR merged with a printed one (14 JAN 2029   P<JPN...) parted
    again at the gap between them."""
    out: list[str] = []
    for line in lines:
        parts = [p for p in _GAP_RE.split(line.strip()) if p]
        zone = [mrz_like(clean_line(p)) for p in parts]
        out += parts if len(parts) > 1 and any(zone) and not all(zone) else [line]
    return out


def find_mrz(lines: Sequence[str]) -> MrzResult | None:
    """Find and parse a machine readable zone in OCR lines, or return None where there is none.

    A passport's TD3 zone is looked for first, then an identity card's or visa's TD1 or TD2. The
    zone may be split over several lines, have spaces, fillers read as « or K, and one filler
    too many or too few; its lines are repaired where the check digits show how.
    """
    if not may_hold_zone(lines):
        return None
    # A request asks for the zone of the same lines up to five times (detection, the rules,
    # grounding, reconciling, validation). The day is part of the key because it decides the
    # century of a two-digit MRZ year.
    return _find_mrz(tuple(lines), dt.date.today())


def _card_piece(text: str) -> bool:
    """A piece of a card's short zone line: OCR splits a 30-character line into pieces too
    short to tell by length, and a date line's piece may hold no filler."""
    return zone_piece(text) or (
        bool(_ZONE_CHARS_RE.fullmatch(text)) and sum(c.isdigit() for c in text) >= 4
    )


def _streams(cleaned: list[str], start: int, limit: int, *, card: bool = False) -> list[list[str]]:
    """The zone's pieces from line ``start`` on: the lines after it, and (OCR may have read a
    piece of the zone before its first line) all the zone's pieces around it in order."""
    after = [c for c in cleaned[start + 1 :] if c and (_card_piece(c) if card else mrz_like(c))]
    is_piece = _card_piece if card else zone_piece
    around = [c for i, c in enumerate(cleaned) if i != start and is_piece(c)]
    streams = []
    for pieces in (after, around):
        taken, length = [cleaned[start]], len(cleaned[start])
        for piece in pieces:
            if length >= limit:
                break
            taken.append(piece)
            length += len(piece)
        streams.append(taken)
    return streams


@functools.lru_cache(maxsize=256)
def _find_mrz(lines: tuple[str, ...], today: dt.date) -> MrzResult | None:
    cleaned = [clean_line(line) for line in _unmerged(lines)]
    # A card's names line may open with P (PENG<<BO<<<): a passport's first line to the TD3
    # search, which then reads garbage whose check digits fail. The reading whose check digits
    # hold best wins; a passport's on a tie.
    found = [r for r in (_find_td3(cleaned), _find_card_zone(cleaned)) if r is not None]
    return max(found, key=_rank, default=None)


def _find_td3(cleaned: list[str]) -> MrzResult | None:
    for start, text in enumerate(cleaned):
        if not _LINE1_RE.match(text) or "<" not in text or not mrz_like(text):
            continue
        # Join the following MRZ-like lines (a split line is rejoined by length).
        best: MrzResult | None = None
        # Both ways of joining usually give the same stream: read it once.
        streams = ["".join(s) for s in _streams(cleaned, start, 2 * TD3_LENGTH + 1)]
        for stream in dict.fromkeys(streams):
            result = _best_split(stream)
            if result is not None and (best is None or _rank(result) > _rank(best)):
                best = result
        if best is not None:
            return best
    return None


# Enough of a zone for three TD1 lines (or two TD2 lines) with a filler too many in each.
_CARD_ZONE_LENGTH = 93


def _find_card_zone(cleaned: list[str]) -> MrzResult | None:
    best: MrzResult | None = None
    for start, text in enumerate(cleaned):
        if "<" not in text or not mrz_like(text):
            continue
        for pieces in _streams(cleaned, start, _CARD_ZONE_LENGTH, card=True):
            result = read_card_zone(pieces)
            if result is not None and (best is None or _rank(result) > _rank(best)):
                best = result
    return best
