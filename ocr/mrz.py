"""ICAO 9303 TD3 (passport) machine readable zone: finding it in OCR lines, repairing, parsing.

Phone OCR splits the two 44-character lines, inserts spaces, reads « or K for the filler <,
gives one filler too many or too few, and confuses O/0, I/1 and friends. ``find_mrz`` undoes
that where the check digits prove the repair right, and ``MrzResult.checks`` says which hold.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import operator
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from ocr.lookalikes import (
    MRZ_FILLER_LOOKALIKES,
    MRZ_SEX_LOOKALIKES,
    MRZ_TO_DIGIT,
    MRZ_TO_LETTER,
)
from ocr.normalize import normalize_date

TD3_LENGTH = 44
# Passport field keys and the MrzResult attributes that hold them.
PASSPORT_FIELD_ATTRIBUTES = {
    "passportNumber": "passport_number",
    "surname": "surname",
    "givenNames": "given_names",
    "nationality": "nationality",
    "birthDate": "birth_date",
    "gender": "sex",
    "expiryDate": "expiry_date",
    "issuingCountry": "issuing_country",
}
_WEIGHTS = (7, 3, 1)


def _char_value(char: str) -> int:
    if char.isdigit():
        return int(char)
    if "A" <= char <= "Z":
        return ord(char) - 55
    return 0


class _CharValues(dict):
    """The values of the MRZ alphabet, computed once; any other character's when asked."""

    def __missing__(self, char: str) -> int:
        return _char_value(char)


_CHAR_VALUES = _CharValues({c: _char_value(c) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<"})


def check_digit(data: str) -> str:
    """ICAO 9303 check digit (weights 7-3-1; A=10 ... Z=35, '<'=0)."""
    # Summed without a Python-level loop: the repairs test thousands of check digits a document.
    values = map(_CHAR_VALUES.__getitem__, data)
    return str(sum(map(operator.mul, values, itertools.cycle(_WEIGHTS))) % 10)


# Frozen: find_mrz hands the same cached result to every caller.
@dataclass(frozen=True)
class MrzResult:
    """The parsed TD3 zone. Dates are ISO strings (None when not a date); sex is male/female."""

    line1: str
    line2: str
    document_code: str
    issuing_country: str
    surname: str
    given_names: str
    passport_number: str
    nationality: str
    birth_date: str | None
    sex: str | None
    expiry_date: str | None
    personal_number: str
    checks: dict[str, bool] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        """True when every check digit (number, birth, expiry, personal number, composite) holds."""
        return bool(self.checks) and all(self.checks.values())


_SPACE_RE = re.compile(r"\s+")
_TO_FILLER = str.maketrans(dict.fromkeys(MRZ_FILLER_LOOKALIKES, "<"))
# Stray marks at the ends (a bar, a dot) are not part of the zone.
_EDGE_MARKS_RE = re.compile(r"^[^A-Z0-9<]+|[^A-Z0-9<]+$")
_FILLER_K_RE = re.compile(r"(?<=<)K(?=<)|(?<=<)K$")
_LINE2_RE = re.compile(r"[A-Z0-9<]{44}")
# A K among the trailing fillers of line 1 is a misread filler, not a one-letter name; so is a
# run of three or more Ks ending it (no name ends so).
_TRAILING_K_RE = re.compile(r"(?<=<)[<K]*K[<K]*$|K{3,}[<K]*$")
# Characters that are not of the zone, read inside a line that is one (a dot, a comma, a bar).
_NOT_MRZ_RE = re.compile(r"[^A-Z0-9<]")
# A line is taken as a zone line with stray marks in it when this share of it is zone characters.
MIN_ZONE_SHARE = 0.85
# Positions of line 2 that hold digits (number, dates and check digits).
_DIGIT_POSITIONS = (9, *range(13, 20), *range(21, 28), 43)


def _clean(line: str) -> str:
    text = unicodedata.normalize("NFKC", line).upper()
    text = _SPACE_RE.sub("", text.translate(_TO_FILLER))
    inside = _NOT_MRZ_RE.sub("", text)
    zone_like = "<" in inside or len(inside) >= TD3_LENGTH - 4
    if zone_like and len(inside) >= MIN_ZONE_SHARE * len(text):
        # A zone line with stray marks read into it: the marks are not part of it.
        return inside
    return _EDGE_MARKS_RE.sub("", text)


def _checks(line2: str) -> dict[str, bool]:
    personal = line2[28:42]
    personal_ok = line2[42] == check_digit(personal) or (
        line2[42] == "<" and set(personal) <= {"<"}
    )
    composite = line2[0:10] + line2[13:20] + line2[21:43]
    return {
        "passportNumber": line2[9] == check_digit(line2[0:9]),
        "birthDate": line2[19] == check_digit(line2[13:19]),
        "expiryDate": line2[27] == check_digit(line2[21:27]),
        "personalNumber": personal_ok,
        "composite": line2[43] == check_digit(composite),
    }


def _fix_line2_chars(line2: str) -> str:
    """Read each position as the character class TD3 puts there (digits in dates and checks)."""
    chars = list(line2)
    for i in _DIGIT_POSITIONS:
        chars[i] = chars[i].translate(MRZ_TO_DIGIT)
        if chars[i] == "K":
            chars[i] = "<"
    for i in range(10, 13):
        chars[i] = chars[i].translate(MRZ_TO_LETTER)
    if chars[20] not in "MFX<":
        chars[20] = MRZ_SEX_LOOKALIKES.get(chars[20], chars[20])
    # A K inside a run of fillers is a misread filler.
    return _FILLER_K_RE.sub("<", "".join(chars))


def _length_variants(line2: str) -> list[str]:
    """Ways to bring a line of 43 or 45 characters to 44 by one filler more or less."""
    if len(line2) == TD3_LENGTH:
        return [line2]
    variants: list[str] = []
    if len(line2) == TD3_LENGTH + 1:
        variants = [line2[:i] + line2[i + 1 :] for i, c in enumerate(line2) if c == "<"]
    elif len(line2) == TD3_LENGTH - 1:
        variants = [
            line2[:i] + "<" + line2[i:]
            for i in range(len(line2) + 1)
            if "<" in line2[max(0, i - 1) : i + 1]
        ]
    return list(dict.fromkeys(variants))


def _score(line2: str) -> int:
    return sum(_checks(line2).values())


def repair_line2(raw: str) -> str | None:
    """Best 44-character reading of a TD3 second line, or None when it is not one."""
    variants = [_fix_line2_chars(v) for v in _length_variants(raw)]
    variants = [v for v in variants if _LINE2_RE.fullmatch(v)]
    if not variants:
        return None
    return max(variants, key=_score)


def _names(line1: str) -> tuple[str, str]:
    # Names hold letters only: a digit there is a letter misread.
    body = _TRAILING_K_RE.sub(lambda m: "<" * len(m.group()), line1[5:].translate(MRZ_TO_LETTER))
    surname, _, given = body.partition("<<")
    surname = " ".join(p for p in surname.split("<") if p)
    given = " ".join(p for p in given.split("<") if p)
    return surname, given


def parse_td3(line1: str, line2: str) -> MrzResult:
    """Parse two cleaned TD3 lines (line2 exactly 44 characters) into an MrzResult."""
    surname, given = _names(line1)
    sex = {"M": "male", "F": "female"}.get(line2[20])
    birth = normalize_date(line2[13:19], kind="birth") if line2[13:19].isdigit() else None
    expiry = normalize_date(line2[21:27], kind="expiry") if line2[21:27].isdigit() else None
    return MrzResult(
        line1=line1,
        line2=line2,
        document_code=line1[0:2].replace("<", ""),
        issuing_country=line1[2:5].replace("<", "").translate(MRZ_TO_LETTER),
        surname=surname,
        given_names=given,
        passport_number=line2[0:9].replace("<", ""),
        nationality=line2[10:13].replace("<", ""),
        birth_date=birth,
        sex=sex,
        expiry_date=expiry,
        personal_number=line2[28:42].replace("<", ""),
        checks=_checks(line2),
    )


_LINE1_RE = re.compile(r"P[A-Z<][A-Z<]{3}")
_MRZ_CHARS_RE = re.compile(r"[A-Z0-9<]+")


def _mrz_like(text: str) -> bool:
    return bool(_MRZ_CHARS_RE.fullmatch(text)) and ("<" in text or len(text) >= 20)


def _zone_piece(text: str) -> bool:
    """A line that can be a piece of an MRZ: fillers in it, or long with many digits."""
    return _mrz_like(text) and ("<" in text or sum(c.isdigit() for c in text) >= 6)


def _rank(result: MrzResult) -> int:
    return sum(result.checks.values())


def _best_split(stream: str) -> MrzResult | None:
    """The reading of two joined TD3 lines whose check digits hold best."""
    best: tuple[int, str, str] | None = None
    for split in (TD3_LENGTH, TD3_LENGTH + 1, TD3_LENGTH - 1):
        line1, rest = stream[:split], stream[split:]
        for tail in dict.fromkeys([rest, rest[:TD3_LENGTH], rest[: TD3_LENGTH + 1]]):
            line2 = repair_line2(tail)
            if line2 is None:
                continue
            # Ranked by the check digits alone (what parse_td3 would record); only the winner
            # is parsed.
            score = _score(line2)
            if best is None or score > best[0]:
                best = (score, line1, line2)
    return None if best is None else parse_td3(best[1], best[2])


def find_mrz(lines: Sequence[str]) -> MrzResult | None:
    """Find and parse a TD3 zone in OCR lines, or return None where there is none.

    The zone may be split over several lines, have spaces, fillers read as « or K, and one
    filler too many or too few; line 2 is repaired where the check digits show how.
    """
    # A request asks for the zone of the same lines up to five times (detection, the rules,
    # grounding, reconciling, validation). The day is part of the key because it decides the
    # century of a two-digit MRZ year.
    return _find_mrz(tuple(lines), dt.date.today())


@functools.lru_cache(maxsize=256)
def _find_mrz(lines: tuple[str, ...], today: dt.date) -> MrzResult | None:
    cleaned = [_clean(line) for line in lines]
    for start, text in enumerate(cleaned):
        if not _LINE1_RE.match(text) or "<" not in text or not _mrz_like(text):
            continue
        # Join the following MRZ-like lines (a split line is rejoined by length); OCR may
        # also have read a piece of the zone before line 1, so try the zone's lines in order.
        after = [c for c in cleaned[start + 1 :] if c and _mrz_like(c)]
        around = [c for i, c in enumerate(cleaned) if i != start and _zone_piece(c)]
        streams = []
        for pieces in (after, around):
            stream = text
            for piece in pieces:
                stream += piece
                if len(stream) >= 2 * TD3_LENGTH + 1:
                    break
            streams.append(stream)
        best: MrzResult | None = None
        # Both ways of joining usually give the same stream: read it once.
        for stream in dict.fromkeys(streams):
            result = _best_split(stream)
            if result is not None and (best is None or _rank(result) > _rank(best)):
                best = result
        if best is not None:
            return best
    return None
