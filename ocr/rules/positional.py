"""Values whose labels OCR lost entirely, read from the card's printed order.

Some engines drop the small printed labels of an identity card and keep only the values, in the
order the card prints them: the name, the sex and ethnicity, the birth date, the address (one or
more lines), the id number. Where the label engine found none of those fields but the text holds
a resident id number, the lines before it are read in that order, each by its field's reader.
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
MAX_ETHNICITY_LENGTH = 4
_ID_LABEL_RE = re.compile(r"公民|身份")
_GENDER_ETHNICITY_RE = re.compile(rf"^\s*([男女])\s*([{v.CJK}]{{1,4}})?\s*$")


def _front_lines(lines: Sequence[str]) -> list[str]:
    """The lines before the first one holding a resident id number (noise left out); none
    where no line holds one."""
    cleaned = [clean_line(line) for line in lines]
    for i, line in enumerate(cleaned):
        found = v.read_resident_id(line)
        if found is not None and found[1]:
            front = [text for text in cleaned[:i] if not is_noise(text)]
            # The id number's own label (kept where the others were lost) ends the front.
            cut = next((j for j, text in enumerate(front) if _ID_LABEL_RE.search(text)), None)
            return front[:cut]
    return []


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

    def gender_and_ethnicity(self) -> None:
        for j in range(self.pos, len(self.lines)):
            m = _GENDER_ETHNICITY_RE.match(self.lines[j])
            if m:
                self.out["gender"] = Candidate(read_gender(m[1]) or "", BY_ORDER, "position")
                self.pos = j + 1
                # The ethnicity beside the sex, or alone on the next line.
                ethnicity = m[2] or self._short_line()
                if ethnicity:
                    self.out["ethnicity"] = Candidate(ethnicity, BY_ORDER, "position")
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
    reader.gender_and_ethnicity()
    reader.take("birthDate", v.read_date)
    reader.address()
    return reader.out
