"""Values whose labels OCR lost entirely, read from the card's printed order.

Some engines drop the small printed labels of a card and keep only the values, in the order the
card prints them. An identity card prints the name, the sex and ethnicity, the birth date, the
address (one or more lines), then the id number; a driving licence its number first, then the
name, sex and nationality, address, dates, class and validity. Where the label engine found none
of those fields but the text holds a resident id number, the lines before it (after it, on a
driving licence) are read in that order, each by its field's reader.
The beliefs stay low (the order is all that says which value is which).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ocr.rules import values as v
from ocr.rules.doctypes import read_gender
from ocr.rules.lines import clean_line, is_noise
from ocr.rules.rule import Candidate

# A value read by its place in the printed order, with no label: the order may be broken.
BY_ORDER = 0.6
# The front fields of an identity card, in printed order (the id number last).
ID_CARD_FRONT = ("name", "gender", "ethnicity", "birthDate", "address")
# A driving licence's fields about its holder: where the label engine found none of them, its
# labels were lost.
DRIVER_LICENSE_PERSON = ("name", "gender", "nationality", "address", "birthDate")
MAX_ETHNICITY_LENGTH = 4
_ID_LABEL_RE = re.compile(r"公民|身份")
_GENDER_ETHNICITY_RE = re.compile(rf"^\s*([男女])\s*([{v.CJK}]{{1,4}})?\s*$")


def _id_line(cleaned: list[str]) -> int | None:
    """The first line holding a resident id number whose check digit holds."""
    for i, line in enumerate(cleaned):
        found = v.read_resident_id(line)
        if found is not None and found[1]:
            return i
    return None


def _front_lines(lines: Sequence[str]) -> list[str]:
    """The lines before the first one holding a resident id number (noise left out); none
    where no line holds one."""
    cleaned = [clean_line(line) for line in lines]
    i = _id_line(cleaned)
    if i is None:
        return []
    front = [text for text in cleaned[:i] if not is_noise(text)]
    # The id number's own label (kept where the others were lost) ends the front.
    cut = next((j for j, text in enumerate(front) if _ID_LABEL_RE.search(text)), None)
    return front[:cut]


def _lines_after_number(lines: Sequence[str]) -> list[str]:
    """The lines after the first one holding a resident id number (a driving licence's number
    is printed first), noise left out; none where no line holds one."""
    cleaned = [clean_line(line) for line in lines]
    i = _id_line(cleaned)
    return [] if i is None else [text for text in cleaned[i + 1 :] if not is_noise(text)]


class _OrderReader:
    """Walks the lines once, each field taking the next line its reader accepts."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.pos = 0
        self.out: dict[str, Candidate] = {}

    def take(self, key: str, read) -> bool:
        for j in range(self.pos, len(self.lines)):
            value = read(self.lines[j])
            if value:
                self.out[key] = Candidate(value, BY_ORDER, "position")
                self.pos = j + 1
                return True
        return False

    def gender_and(self, key: str) -> None:
        """The sex, and ``key`` (the ethnicity, a nationality) beside it or on the next line."""
        for j in range(self.pos, len(self.lines)):
            m = _GENDER_ETHNICITY_RE.match(self.lines[j])
            if m:
                self.out["gender"] = Candidate(read_gender(m[1]) or "", BY_ORDER, "position")
                self.pos = j + 1
                beside = m[2] or self._short_line()
                if beside:
                    self.out[key] = Candidate(beside, BY_ORDER, "position")
                return

    def validity(self) -> None:
        """A validity period: both its ends."""
        for j in range(self.pos, len(self.lines)):
            found = v.read_date_range(self.lines[j])
            if found is not None and found[0] is not None:
                self.out["validFrom"] = Candidate(found[0], BY_ORDER, "position")
                if found[1] is not None:
                    self.out["validUntil"] = Candidate(found[1], BY_ORDER, "position")
                self.pos = j + 1
                return

    def _short_line(self) -> str | None:
        """The next line where it is a few Chinese characters and nothing else (taken)."""
        if self.pos < len(self.lines):
            value = v.read_short_cjk(self.lines[self.pos], max_len=MAX_ETHNICITY_LENGTH)
            if value:
                self.pos += 1
                return value
        return None

    def address(self) -> None:
        if not self.take("address", v.read_address):
            return
        parts = [self.out["address"].value]
        while self.pos < len(self.lines) and v.is_address_tail(self.lines[self.pos]):
            parts.append(v.normalize_text(self.lines[self.pos]) or "")
            self.pos += 1
        self.out["address"] = Candidate("".join(parts), BY_ORDER, "position")


def id_card_by_order(
    lines: Sequence[str], found: dict[str, Candidate | None]
) -> dict[str, Candidate]:
    """The front fields of an identity card read by printed order, where the label engine found
    none of them; {} otherwise."""
    if any(found.get(key) for key in ID_CARD_FRONT):
        return {}
    front = _front_lines(lines)
    if not front:
        return {}
    reader = _OrderReader(front)
    reader.take("name", v.read_person_name)
    reader.gender_and("ethnicity")
    reader.take("birthDate", v.read_date)
    reader.address()
    return reader.out


def driver_license_by_order(
    lines: Sequence[str], found: dict[str, Candidate | None]
) -> dict[str, Candidate]:
    """A driving licence's fields after its number read by printed order (name, sex and
    nationality, address, birth date, first issue date, class, validity), where the label
    engine found none of the holder's; {} otherwise."""
    if any(found.get(key) for key in DRIVER_LICENSE_PERSON):
        return {}
    after = _lines_after_number(lines)
    if not after:
        return {}
    reader = _OrderReader(after)
    reader.take("name", v.read_person_name)
    reader.gender_and("nationality")
    reader.address()
    reader.take("birthDate", v.read_date)
    reader.take("firstIssueDate", v.read_date)
    reader.take("vehicleClass", v.read_vehicle_class)
    reader.validity()
    return reader.out
