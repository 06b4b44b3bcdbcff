"""What every ICAO 9303 machine readable zone format shares: its alphabet and check digits, the
parsed result, and the reading of OCR noise by the character class of each position.

A look-alike is read as another character only where the printed one cannot stand at its position
(a letter where the format puts a digit, a digit where it puts a letter); a character that can
stand there is kept as printed, even where its check digit then fails.
"""

from __future__ import annotations

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
from ocr.normalize import without_spaces

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
    """The parsed zone. Dates are ISO strings (None when not a date); sex is male/female.

    ``format`` is TD3 (a passport's two lines of 44), TD2 (two of 36) or TD1 (three of 30, an
    identity card's or a travel permit's), or a visa's MRV-A (of TD3 size) or MRV-B (of TD2
    size); ``line1`` and ``line2`` are the zone's first two lines and ``line3`` a TD1's names
    line.
    """

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
    format: str = "TD3"
    line3: str = ""
    # The passport fields whose value was read with a look-alike (a letter printed where the
    # format puts a digit, a digit where it puts a letter).
    repaired: frozenset[str] = frozenset()

    @property
    def valid(self) -> bool:
        """True when every check digit of the format (number, birth, expiry, the personal
        number's in TD3, composite) holds."""
        return bool(self.checks) and all(self.checks.values())


_TO_FILLER = str.maketrans(dict.fromkeys(MRZ_FILLER_LOOKALIKES, "<"))
# Stray marks at the ends (a bar, a dot) are not part of the zone.
_EDGE_MARKS_RE = re.compile(r"^[^A-Z0-9<]+|[^A-Z0-9<]+$")
# A K inside a run of fillers (or ending the line after one) is a misread filler.
FILLER_K_RE = re.compile(r"(?<=<)K(?=<)|(?<=<)K$")
# A K among the trailing fillers of a names line is a misread filler, not a one-letter name; so
# is a run of three or more Ks ending it (no name ends so).
_TRAILING_K_RE = re.compile(r"(?<=<)[<K]*K[<K]*$|K{3,}[<K]*$")
# Characters that are not of the zone, read inside a line that is one (a dot, a comma, a bar).
_NOT_MRZ_RE = re.compile(r"[^A-Z0-9<]")
# A line is taken as a zone line with stray marks in it when this share of it is zone characters.
MIN_ZONE_SHARE = 0.85
# A line this long is a zone line even without a filler in it.
MIN_FILLERLESS_ZONE_LINE = 26
_MRZ_CHARS_RE = re.compile(r"[A-Z0-9<]+")


def clean_line(line: str) -> str:
    """An OCR line in the zone's alphabet: upper case, no spaces, guillemets read as fillers,
    stray marks dropped where the line is a zone line."""
    text = without_spaces(_fillers_read(line).upper())
    inside = _NOT_MRZ_RE.sub("", text)
    zone_like = "<" in inside or len(inside) >= MIN_FILLERLESS_ZONE_LINE
    if zone_like and len(inside) >= MIN_ZONE_SHARE * len(text):
        # A zone line with stray marks read into it: the marks are not part of it.
        return inside
    return _EDGE_MARKS_RE.sub("", text)


def may_hold_zone(lines: Sequence[str]) -> bool:
    """Whether any of `lines` has a filler once cleaned (``clean_line``), as every zone has: the
    cheap test that spares the search on text without one."""
    return any("<" in _fillers_read(line) for line in lines)


def _fillers_read(line: str) -> str:
    """`line` in NFKC with the marks OCR reads in place of the filler read as ``<``."""
    return unicodedata.normalize("NFKC", line).translate(_TO_FILLER)


def mrz_like(text: str) -> bool:
    """A cleaned line that can be a whole zone line: zone characters, fillers in it or long."""
    return bool(_MRZ_CHARS_RE.fullmatch(text)) and ("<" in text or len(text) >= 20)


def zone_piece(text: str) -> bool:
    """A line that can be a piece of an MRZ: fillers in it, or long with many digits."""
    return mrz_like(text) and ("<" in text or sum(c.isdigit() for c in text) >= 6)


# The character class of each position of a zone line, one letter a position:
# D a digit; C a check digit (a digit, or a filler where there is nothing to check); L a letter
# or a filler (codes of states and documents); S the sex (M, F, X or a filler); A a letter, a digit
# or a filler (document numbers, optional data); N a name (letters and fillers).
_SEX = "MFX<"


def read_by_class(line: str, classes: str) -> str:
    """``line`` with each character that cannot stand at its position read as the look-alike
    that can; characters that can stand there are kept as printed."""
    chars = list(line)
    for i, (char, kind) in enumerate(zip(line, classes, strict=False)):
        if kind == "D" or kind == "C":
            chars[i] = "<" if kind == "C" and char == "K" else char.translate(MRZ_TO_DIGIT)
        elif kind in "LN":
            chars[i] = char.translate(MRZ_TO_LETTER)
        elif kind == "S" and char not in _SEX:
            chars[i] = MRZ_SEX_LOOKALIKES.get(char, char)
    return FILLER_K_RE.sub("<", "".join(chars))


def length_variants(line: str, length: int) -> list[str]:
    """Ways to bring a line one character too long or too short to ``length`` by one filler
    more or less; the line itself where it has the length."""
    if len(line) == length:
        return [line]
    variants: list[str] = []
    if len(line) == length + 1:
        variants = [line[:i] + line[i + 1 :] for i, c in enumerate(line) if c == "<"]
    elif len(line) == length - 1:
        variants = [
            line[:i] + "<" + line[i:]
            for i in range(len(line) + 1)
            if "<" in line[max(0, i - 1) : i + 1]
        ]
    return list(dict.fromkeys(variants))


def parse_names(field_text: str) -> tuple[str, str]:
    """(surname, given names) of a names field (SURNAME<<GIVEN<NAMES<<<)."""
    # Names hold letters only: a digit there is a letter misread.
    body = _TRAILING_K_RE.sub(lambda m: "<" * len(m.group()), field_text.translate(MRZ_TO_LETTER))
    surname, _, given = body.partition("<<")
    surname = " ".join(p for p in surname.split("<") if p)
    given = " ".join(p for p in given.split("<") if p)
    return surname, given


# Where the passport fields stand in the second line of TD3 and TD2 zones, and the issuing state
# in the first line of every format.
SECOND_LINE_SPANS = {
    "nationality": (10, 13),
    "birthDate": (13, 19),
    "gender": (20, 21),
    "expiryDate": (21, 27),
}
FIRST_LINE_SPANS = {"issuingCountry": (2, 5)}


def repaired_fields(printed: str, read: str, spans: dict[str, tuple[int, int]]) -> set[str]:
    """The fields (by their span of the line) where ``read`` took a look-alike for a character of
    ``printed``; a K read as a filler is not one (no value holds it)."""
    changed = {
        i for i, (p, r) in enumerate(zip(printed, read, strict=False)) if p != r and p + r != "K<"
    }
    return {key for key, (start, end) in spans.items() if changed & set(range(start, end))}


def repaired_names(field_text: str) -> set[str]:
    """The names (surname, givenNames) of a printed names field that hold a digit read as a
    letter."""
    surname, _, given = field_text.partition("<<")
    return {
        key
        for key, part in (("surname", surname), ("givenNames", given))
        if any(c.isdigit() for c in part)
    }
