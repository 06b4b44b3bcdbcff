"""Values whose labels OCR lost, read by their shape (and, where shape leaves a choice, by their
place beside another value).

Some engines drop the small printed labels of a card and keep only the values, in the card's
printed order, with the number first, or partly shuffled. Where the text holds a resident id
number whose check digit holds (the anchor: without it nothing is read), the texts outside labels
are read by shape, each field only where exactly one text has its shape:

- the sex (男 / 女), with the ethnicity or nationality beside it (女 汉, 男中国) or on the next
  text; else the one text that is an ethnic group's or a country's name;
- the birth date: the date the id number holds (on an identity card, its one date);
- the address: the one text starting like an address (a province or city), with the wrapped
  ends after it (楼2单元301室);
- on a driving licence, the validity period (both ends on one line), the date of first issue
  (the one other date, where the period is known; or, of three lone dates, the first in time,
  then the period's start and end) and the vehicle class;
- the name: the one text left with a name's shape.

Only fields the label engine left empty are filled, from texts outside labels and apart from the
values it found. The beliefs stay low: no label says which value is which.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ocr.normalize import normalize_country, without_spaces
from ocr.rules import values as v
from ocr.rules.doctypes import DRIVER_LICENSE, ID_CARD, read_gender
from ocr.rules.labels import LabelMatcher
from ocr.rules.lines import GAP, clean_line, is_noise
from ocr.rules.rule import Candidate, FieldRule

# A value read by its shape, with no label: another field's value may share the shape.
BY_SHAPE = 0.6
# The front fields of an identity card (the id number anchors them).
ID_CARD_FRONT = ("name", "gender", "ethnicity", "birthDate", "address")
# The 56 ethnic groups as an identity card prints them (without 族).
_ETHNICITY_NAMES = (
    "汉 蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山 "
    "拉祜 水 东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 "
    "怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺"
)
ETHNICITIES = frozenset(_ETHNICITY_NAMES.split())
# More lines than any card prints: such a text is no card whose labels were lost.
MAX_CARD_LINES = 120
# A text this long inside a value the label engine found is a piece of that value.
MIN_FOUND_PIECE = 3
_GENDER_BESIDE_RE = re.compile(rf"^([男女])\s*([{v.CJK}A-Za-z]{{1,8}})?$")
_CJK_ONLY_RE = re.compile(rf"[{v.CJK}]+")


def read_ethnicity_word(raw: str) -> str | None:
    """One of the 56 ethnic groups (汉, 土家, 汉族), as printed; None for any other text."""
    text = without_spaces(raw)
    return text if text.removesuffix("族") in ETHNICITIES else None


def read_nationality_word(raw: str) -> str | None:
    """A country's name as a nationality is printed (中国, CHINA); None for any other text."""
    text = without_spaces(raw)
    if _CJK_ONLY_RE.fullmatch(text) or text.upper() == "CHINA":
        return text if normalize_country(text) is not None else None
    return None


def single_date(raw: str) -> str | None:
    """The date of a text that is one date (not a period); None for any other text."""
    found = v.read_date_range(raw)
    if found is None or found[0] is not None:
        return None
    return v.read_date(raw)


def period(raw: str) -> tuple[str, str] | None:
    """(start, end) of a text that is a period with both ends; None for any other text."""
    found = v.read_date_range(raw)
    if found is None or found[0] is None or found[1] is None:
        return None
    return found[0], found[1]


@dataclass
class _Text:
    """A text outside every label (a line, a column of a merged line, or the text before a line's
    first label), in printed order."""

    text: str
    taken: bool = False


class ShapeReader:
    """The texts of a document outside labels, and the fields read from them so far."""

    def __init__(
        self,
        lines: Sequence[str],
        rules: Sequence[FieldRule],
        found: dict[str, Candidate | None],
        *,
        read_anchor: Callable[[str], tuple[str, bool] | None] = v.read_resident_id,
    ) -> None:
        """``read_anchor`` reads the code whose check must hold for anything to be read (the
        first line holding it is left out of the texts). Nothing is read from more lines than
        a card prints."""
        self.found = {k: c for k, c in found.items() if c is not None}
        self.out: dict[str, Candidate] = {}
        self.anchor: str | None = None
        self.texts: list[_Text] = []
        if len(lines) > MAX_CARD_LINES:
            return
        matcher = LabelMatcher(rules)
        for raw in lines:
            line = clean_line(raw)
            checked = read_anchor(line)
            if self.anchor is None and checked is not None and checked[1]:
                self.anchor = checked[0]
                continue
            text = matcher.tokenize(line)[0].text
            for part in text.split(GAP):
                for piece in _name_apart(part.strip()):
                    if not is_noise(piece) and not self._is_found(piece):
                        self.texts.append(_Text(piece))

    def _is_found(self, text: str) -> bool:
        """Whether the text is a value the label engine found, or a piece of one (a wrapped
        line; a piece this short may be a value of its own: 汉 in 武汉市公安局)."""
        compact = without_spaces(text)
        return any(
            compact == without_spaces(c.value)
            or (len(compact) >= MIN_FOUND_PIECE and compact in without_spaces(c.value))
            for c in self.found.values()
        )

    def wants(self, key: str) -> bool:
        return key not in self.found and key not in self.out

    def put(self, key: str, value: str) -> None:
        if self.wants(key) and value:
            self.out[key] = Candidate(value, BY_SHAPE, "position")

    def free(self) -> list[int]:
        return [i for i, t in enumerate(self.texts) if not t.taken]

    def only(self, read: Callable[[str], str | None]) -> tuple[int, str] | None:
        """(index, value) of the one free text ``read`` accepts; None where none or several do."""
        hits: list[tuple[int, str]] = []
        for i in self.free():
            value = read(self.texts[i].text)
            if value:
                hits.append((i, value))
                if len(hits) > 1:  # a second one is enough to leave the field empty
                    return None
        return hits[0] if hits else None

    def take(self, key: str, read: Callable[[str], str | None]) -> None:
        hit = self.only(read)
        if hit is not None and self.wants(key):
            self.texts[hit[0]].taken = True
            self.put(key, hit[1])

    def gender_and(self, key: str, read_beside: Callable[[str], str | None]) -> None:
        """The sex, and ``key`` printed beside it (女 汉, 男中国) or as the next text."""
        hit = self.only(lambda t: t if _GENDER_BESIDE_RE.match(without_spaces(t)) else None)
        if hit is None:
            return
        i, text = hit
        m = _GENDER_BESIDE_RE.match(without_spaces(text))
        beside = read_beside(m[2]) if m and m[2] else None
        if m is None or (m[2] and beside is None):
            return
        self.texts[i].taken = True
        self.put("gender", read_gender(m[1]) or "")
        if beside is None:
            after = [j for j in self.free() if j > i][:1]
            beside = read_beside(self.texts[after[0]].text) if after else None
            if beside is not None and self.wants(key):
                self.texts[after[0]].taken = True
        if beside is not None:
            self.put(key, beside)

    def birth_date(self, *, only_date: bool) -> None:
        """The date the anchor number holds; or, where ``only_date``, the one date printed."""
        if not self.wants("birthDate") or self.anchor is None:
            return
        held = f"{self.anchor[6:10]}-{self.anchor[10:12]}-{self.anchor[12:14]}"
        self.take("birthDate", lambda t: d if (d := single_date(t)) == held else None)
        if only_date:
            self.take("birthDate", single_date)

    def dates_in_time_order(self) -> None:
        """A driving licence's three dates after the birth date, none read yet and none a
        period: the first issue comes first in time, then the validity's start, then its end
        (whatever order OCR printed them in)."""
        keys = ("firstIssueDate", "validFrom", "validUntil")
        if not all(self.wants(k) for k in keys):
            return
        hits = [(i, d) for i in self.free() if (d := single_date(self.texts[i].text))]
        if len(hits) != len(keys) or self.only(period) is not None:
            return
        ordered = sorted(d for _, d in hits)
        if ordered[1] == ordered[2]:  # a validity period ends after it starts
            return
        for i, _ in hits:
            self.texts[i].taken = True
        for key, value in zip(keys, ordered, strict=True):
            self.put(key, value)

    def address(self) -> None:
        """The one text starting like an address, with the wrapped ends printed after it."""
        hit = self.only(lambda t: v.read_address(t) if v.is_address_head(t) else None)
        if hit is None or not self.wants("address"):
            return
        i, value = hit
        self.texts[i].taken = True
        parts = [value]
        for j in range(i + 1, len(self.texts)):
            tail = self.texts[j]
            if tail.taken or not _is_wrapped_end(tail.text):
                break
            tail.taken = True
            parts.append(v.normalize_text(tail.text) or "")
        self.put("address", "".join(parts))

    def name(self) -> None:
        """The one text left with a name's shape (not an ethnicity, a country or an address)."""
        self.take("name", _read_name_only)


def _name_apart(text: str) -> list[str]:
    """A name and the sex beside it (张三 男 中国) as two texts; any other text as it is."""
    name, _, rest = text.partition(" ")
    if rest and v.read_person_name(name) and _GENDER_BESIDE_RE.match(without_spaces(rest)):
        return [name, rest]
    return [text] if text else []


def _is_wrapped_end(text: str) -> bool:
    """A wrapped end of an address, told apart from a name: it holds a number or a house word."""
    return v.is_address_tail(text) and (any(c.isdigit() for c in text) or v.is_building_tail(text))


def _read_name_only(raw: str) -> str | None:
    if read_ethnicity_word(raw) or read_nationality_word(raw) or v.read_address(raw):
        return None
    return v.read_person_name(raw)


def id_card_by_shape(
    lines: Sequence[str], found: dict[str, Candidate | None]
) -> dict[str, Candidate]:
    """The front fields of an identity card the label engine left empty, read by shape from the
    texts outside labels; {} where no id number anchors them."""
    reader = ShapeReader(lines, ID_CARD, found)
    if reader.anchor is None or not any(reader.wants(k) for k in ID_CARD_FRONT):
        return {}
    reader.gender_and("ethnicity", read_ethnicity_word)
    reader.take("ethnicity", read_ethnicity_word)
    reader.birth_date(only_date=True)
    reader.address()
    reader.name()
    return reader.out


def driver_license_by_shape(
    lines: Sequence[str], found: dict[str, Candidate | None]
) -> dict[str, Candidate]:
    """A driving licence's fields the label engine left empty, read by shape from the texts
    outside labels; {} where no id number (the licence number) anchors them."""
    reader = ShapeReader(lines, DRIVER_LICENSE, found)
    if reader.anchor is None:
        return {}
    reader.put("licenseNumber", reader.anchor)
    reader.gender_and("nationality", read_nationality_word)
    reader.take("nationality", read_nationality_word)
    reader.birth_date(only_date=False)
    reader.address()
    hit = reader.only(period)
    if hit is not None and reader.wants("validFrom") and reader.wants("validUntil"):
        reader.texts[hit[0]].taken = True
        start, end = period(reader.texts[hit[0]].text) or ("", "")
        reader.put("validFrom", start)
        reader.put("validUntil", end)
    reader.dates_in_time_order()
    if not (reader.wants("validFrom") or reader.wants("validUntil")):
        # The one date left is the first issue's (the period's ends are known); a date the
        # label engine read as the birth date or the period's end is not.
        known = {reader.found[k].value for k in ("birthDate", "validUntil") if k in reader.found}
        reader.take("firstIssueDate", lambda t: d if (d := single_date(t)) not in known else None)
    reader.take("vehicleClass", lambda t: None if read_gender(t) else v.read_vehicle_class(t))
    reader.name()
    return reader.out
