"""Passports whose holder sent an identity card, a travel permit or a visa instead: the TD3 zone
swapped for the TD1 (three lines of 30) or TD2 (two lines of 36) zone of the same person and
document, read with the noise phone OCR adds to a zone.

The expected values stay those of the passport: every one of them is in the new zone too.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import unicodedata

from ocr.mrz import check_digit

# A piece of a zone as the generator lays it out (spaced, split, with a stray mark).
_ZONE_PIECE_RE = re.compile(r"[A-Z0-9<]*<[A-Z0-9<]*|[A-Z0-9<.,]{20,}")
# A date or check digit read as the letter it looks like; a letter of a code or a name read as
# the digit it looks like.
_DIGIT_AS_LETTER = {"0": "O", "1": "I", "5": "S", "8": "B", "2": "Z", "6": "G"}
_LETTER_AS_DIGIT = {letter: digit for digit, letter in _DIGIT_AS_LETTER.items()}
STRAY_MARKS = (".", ",", "|", "'")
# The kind of noise that splits a line in two.
SPLIT = 4
# The share of passports with a whole zone that are identity cards, travel permits or visas.
CARD_SHARE = 0.3


def _folded(line: str) -> str:
    return unicodedata.normalize("NFKC", line).upper().replace("«", "<").replace(" ", "")


def _names(expected: dict, length: int) -> str | None:
    surname, given = expected["surname"], expected["givenNames"]
    text = surname.replace(" ", "<") + "<<" + given.replace(" ", "<")
    return text.ljust(length, "<") if len(text) <= length else None


def _dates(expected: dict) -> tuple[str, str, str]:
    birth = dt.date.fromisoformat(expected["birthDate"]).strftime("%y%m%d")
    expiry = dt.date.fromisoformat(expected["expiryDate"]).strftime("%y%m%d")
    sex = "M" if expected["gender"] == "male" else "F"
    return birth, sex, expiry


def td1_zone(expected: dict, *, optional: str = "<" * 15) -> list[str] | None:
    """The three TD1 lines of an identity card with the passport's values; None where the names
    do not fit."""
    names = _names(expected, 30)
    number, code = expected["passportNumber"], expected["issuingCountry"]
    if names is None or len(number) != 9:
        return None
    birth, sex, expiry = _dates(expected)
    line1 = f"I<{code}{number}{check_digit(number)}{optional}"
    body = f"{birth}{check_digit(birth)}{sex}{expiry}{check_digit(expiry)}{code}" + "<" * 11
    composite = line1[5:30] + body[0:7] + body[8:15] + body[18:29]
    return [line1, body + check_digit(composite), names]


def td2_zone(expected: dict) -> list[str] | None:
    """The two TD2 lines of an identity card with the passport's values; None where the names
    do not fit."""
    names = _names(expected, 31)
    number, code = expected["passportNumber"], expected["issuingCountry"]
    if names is None or len(number) != 9:
        return None
    birth, sex, expiry = _dates(expected)
    line2 = f"{number}{check_digit(number)}{code}{birth}{check_digit(birth)}{sex}"
    line2 += f"{expiry}{check_digit(expiry)}" + "<" * 7
    composite = line2[0:10] + line2[13:20] + line2[21:35]
    return [f"I<{code}{names}", line2 + check_digit(composite)]


def _look_alike(r: random.Random, line: str, positions: range, table: dict[str, str]) -> str:
    """One character of ``positions`` that has a look-alike in ``table`` read as it."""
    candidates = [i for i in positions if i < len(line) and line[i] in table]
    if not candidates:
        return line
    i = r.choice(candidates)
    return line[:i] + table[line[i]] + line[i + 1 :]


def _noisy(r: random.Random, zone: list[str], td1: bool) -> list[str]:
    """The zone with one or two kinds of OCR noise: look-alikes where they cannot stand, spaces,
    lower case, a line split in two, filler runs read as K or «, a stray mark."""
    dates = range(0, 15) if td1 else range(13, 28)
    dates_line = 1
    names_line = 2 if td1 else 0
    out = list(zone)
    # A line split in two last: the other kinds find the lines where the format puts them.
    for kind in sorted(r.sample(range(7), r.choice([1, 2])), key=lambda k: k == SPLIT):
        if kind == 0:
            out[dates_line] = _look_alike(r, out[dates_line], dates, _DIGIT_AS_LETTER)
        elif kind == 1:
            name_positions = range(0, 30) if td1 else range(5, 36)
            out[names_line] = _look_alike(r, out[names_line], name_positions, _LETTER_AS_DIGIT)
        elif kind == 2:
            i = r.randrange(len(out))
            cut = r.randint(8, len(out[i]) - 8)
            out[i] = out[i][:cut] + " " + out[i][cut:]
        elif kind == 3:
            out = [line.lower() for line in out]
        elif kind == SPLIT:
            i = r.randrange(len(out))
            cut = r.randint(10, len(out[i]) - 10)
            out[i : i + 1] = [out[i][:cut], out[i][cut:]]
        elif kind == 5:
            run = r.choice(["<KK<", "<««<", "<K<<"])
            out = [re.sub(r"<<<<(?=<*$)", run, line, count=1) for line in out]
        else:
            i = r.randrange(len(out))
            cut = r.randint(5, len(out[i]) - 5)
            out[i] = out[i][:cut] + r.choice(STRAY_MARKS) + out[i][cut:]
    return out


def card_zone(r: random.Random, doc: str, lines: list[str], expected: dict) -> list[str] | None:
    """A passport's TD3 zone swapped for the noisy TD1 or TD2 zone of an identity card of the
    same person; None where there is no whole zone or the names do not fit."""
    zone = [i for i, line in enumerate(lines) if _ZONE_PIECE_RE.fullmatch(_folded(line))]
    if doc != "passport" or len(zone) < 2 or not _folded(lines[zone[0]]).startswith("P<"):
        return None
    if r.random() >= CARD_SHARE:
        return None
    td1 = r.random() < 0.5
    card = td1_zone(expected) if td1 else td2_zone(expected)
    if card is None:
        return None
    return [*lines[: zone[0]], *_noisy(r, card, td1), *lines[zone[-1] + 1 :]]
