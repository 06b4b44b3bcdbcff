"""The seeded base of the case generator: random values with valid check digits, and the ways
phone OCR lays a label and its value out (split, reordered, spaced, wrapped, noisy)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from stdnum import luhn
from stdnum.cn import ric, uscc

from ocr.casegen.vocabulary import GIVEN, NOISE, PLATE_PREFIX, REGIONS, STREETS, SURNAMES, Region
from ocr.validators import vin_check_digit

# Letters and digits of the codes; each leaves out what its standard forbids (I, O, Q, ...).
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
DIGITS = "0123456789"
# Where a code's check character is computed over (the first 17 characters of a resident id).
ID_BODY_LENGTH = 17
FULL_WIDTH_OFFSET = 0xFEE0


@dataclass(frozen=True)
class Person:
    """A generated person's name: in Chinese characters, and its pinyin surname and given names."""

    chinese: str
    surname: str
    given: str


@dataclass(frozen=True)
class Document:
    """One generated document: its OCR lines, and the value of every field (None: not shown)."""

    lines: list[str]
    expected: dict[str, str | None]


def full_width(text: str) -> str:
    """The full-width form of ASCII letters, digits and punctuation (as some OCR returns)."""
    return "".join(chr(ord(c) + FULL_WIDTH_OFFSET) if "!" <= c <= "~" else c for c in text)


class Layout:
    """One seeded source of values and layouts; the same seed gives the same sequence."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    # --- values -------------------------------------------------------------------------------
    def person(self) -> Person:
        sur, sur_py = self.r.choice(SURNAMES)
        given = [self.r.choice(GIVEN) for _ in range(self.r.choice([1, 2, 2]))]
        return Person(
            chinese=sur + "".join(g for g, _ in given),
            surname=sur_py,
            given="".join(p for _, p in given),
        )

    def date(self, start: int, end: int, *, max_day: int = 31) -> dt.date:
        first = dt.date(start, 1, 1).toordinal()
        day = dt.date.fromordinal(self.r.randint(first, dt.date(end, 12, 28).toordinal()))
        return day.replace(day=min(day.day, max_day))

    def region(self) -> Region:
        return self.r.choice(REGIONS)

    def address(self, region: Region) -> str:
        tail = f"{self.r.randint(1, 399)}号"
        if self.r.random() < 0.6:
            building, unit = self.r.randint(1, 28), self.r.randint(1, 5)
            tail += f"{building}号楼{unit}单元{self.r.randint(101, 2699)}室"
        return region.province + region.district + self.r.choice(STREETS) + tail

    def resident_id(self, region: str, birth: dt.date, male: bool) -> str:
        # The sequence number's parity is the holder's sex (odd: male).
        seq = self.r.randint(0, 99) * 10 + self.r.choice(
            [1, 3, 5, 7, 9] if male else [0, 2, 4, 6, 8]
        )
        body = f"{region}{birth:%Y%m%d}{seq:03d}"
        return body + ric.calc_check_digit(body + "0")

    def credit_code(self, region: str) -> str:
        body = self.r.choice("9") + self.r.choice("123") + region
        body += "".join(self.r.choice(CREDIT_CODE_ALPHABET) for _ in range(9))
        return body + uscc.calc_check_digit(body)

    def card_number(self, prefix: str) -> str:
        length = self.r.choice([16, 19])
        body = prefix + "".join(self.r.choice(DIGITS) for _ in range(length - len(prefix) - 1))
        return body + luhn.calc_check_digit(body)

    def vin(self, wmi: str) -> str:
        vds = "".join(self.r.choice(VIN_ALPHABET) for _ in range(5))
        vis = self.r.choice("ABCDEFGHJKLMNPRSTVWXY123456789") + self.r.choice(
            VIN_ALPHABET[:-10] + DIGITS
        )
        vis += "".join(self.r.choice(DIGITS) for _ in range(6))
        vin = wmi + vds + "0" + vis
        return vin[:8] + vin_check_digit(vin) + vin[9:]

    def plate(self, region: str) -> str:
        tail_len = self.r.choice([5, 5, 5, 6])
        tail = "".join(self.r.choice(PLATE_LETTERS + DIGITS * 2) for _ in range(tail_len))
        return PLATE_PREFIX[region] + self.r.choice("ABCDEFGH") + tail

    # --- layout helpers -----------------------------------------------------------------------
    def spaced(self, label: str) -> str:
        """A Chinese label, sometimes letter-spaced."""
        if self.r.random() < 0.3 and len(label) <= 4:
            return " ".join(label)
        return label

    def sep(self) -> str:
        return self.r.choice(["", " ", " ", "  ", "："])

    def pair(self, label: str, value: str) -> list[str]:
        """A label and its value: one line, two lines, or value first (rarely)."""
        roll = self.r.random()
        label = self.spaced(label)
        if roll < 0.6:
            return [f"{label}{self.sep()}{value}"]
        if roll < 0.9:
            return [label, value]
        return [value, label]

    def wrap(self, label: str, value: str) -> list[str]:
        """A wrapped value: label with the head, continuation after (or just before the label)."""
        label = self.spaced(label)
        if self.r.random() < 0.35:
            return self.pair(label, value)
        cut = self.r.randint(max(4, len(value) // 3), max(5, len(value) - 3))
        head, tail = value[:cut], value[cut:]
        roll = self.r.random()
        if roll < 0.45:
            return [f"{label}{self.sep()}{head}", tail]
        if roll < 0.75:
            return [label, head, tail]
        return [tail, f"{label} {head}"]

    def noisy(self, lines: list[str], *, rate: float = 0.15, fw: float = 0.08) -> list[str]:
        """Insert stray marks, turn some lines full-width, and now and then read two lines as
        one (two columns merged) or two neighbouring lines in the wrong order."""
        lines = list(lines)
        if len(lines) > 4 and self.r.random() < 0.15:
            i = self.r.randrange(1, len(lines) - 1)
            lines[i : i + 2] = [lines[i] + "   " + lines[i + 1]]
        if len(lines) > 4 and self.r.random() < 0.15:
            i = self.r.randrange(1, len(lines) - 1)
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
        out = []
        for line in lines:
            if self.r.random() < rate:
                out.append(self.r.choice(NOISE))
            out.append(full_width(line) if self.r.random() < fw else line)
        if self.r.random() < rate:
            out.append(self.r.choice(NOISE))
        return out

    def ocr_digits(self, code: str) -> str:
        """A code as OCR may read it: digit groups spaced, an O for a 0 or an l for a 1."""
        roll = self.r.random()
        body = code[:ID_BODY_LENGTH]
        if roll < 0.2 and "0" in body:
            i = self.r.choice([i for i, c in enumerate(body) if c == "0"])
            code = code[:i] + "O" + code[i + 1 :]
        elif roll < 0.35 and "1" in body:
            i = self.r.choice([i for i, c in enumerate(body) if c == "1"])
            code = code[:i] + "l" + code[i + 1 :]
        elif roll < 0.5:
            code = f"{code[:6]} {code[6:14]} {code[14:]}"
        return code
