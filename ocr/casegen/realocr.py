"""What real phone OCR engines (PaddleOCR, RapidOCR, Tesseract, cloud services) do to a card's
lines beyond the generator's own layouts, as transformations of a generated document.

Each transformation takes the seeded random source, the document type and the lines (and the
expected values, which it never changes) and returns new lines, or None where it does not apply.
``real_ocr`` applies one or two of those that apply. Made by ``generate_cases --real-ocr``.
"""

from __future__ import annotations

import random
import re
import unicodedata
import zlib
from collections.abc import Callable

from ocr.casegen.cardzones import card_zone
from ocr.casegen.layout import Document
from ocr.casegen.lostlabels import label_row_values, lose_every_label, wrap_after_house_number

_CJK = "\u3400-\u9fff"
# PaddleOCR reads a label and the value beside it as one word.
_LABEL_SPACE_RE = re.compile(rf"(?<=[{_CJK}])\s+|\s+(?=[{_CJK}])")
_DATE_RANGE_RE = re.compile(r"(\d{4})\.(\d{2})\.(\d{2})(\s*[-—]\s*)(\d{4})\.(\d{2})\.(\d{2})")
_MMYY_RE = re.compile(r"(VALID THRU|有效期)\s+(\d{2})/(\d{2})$")
_CARD_GROUPS_RE = re.compile(r"^\d{4}( \d{4}){3,4}$|^\d{4}( \d{4}){2} \d{3,4}$")
_RESIDENT_ID_RE = re.compile(r"\d{17}[\dX]")
_MRZ_RE = re.compile(r"^[A-Z0-9<]{30,}$")
# Garbled forms of the characters of bank names, as a low-resolution logo reads.
_GARBLED = str.maketrans({"国": "困", "银": "锒", "行": "彳", "商": "啇", "建": "健", "工": "エ"})
# Banks whose prefix the shipped BIN table names with the name the generator prints.
_BIN_NAMED = {
    "中国工商银行",
    "中国农业银行",
    "中国银行",
    "中国建设银行",
    "交通银行",
    "招商银行",
    "中国邮政储蓄银行",
    "兴业银行",
    "中国民生银行",
}
_ID_FRONT_LABELS = re.compile(r"^(?:姓\s*名|性\s*别|民\s*族|出\s*生|住\s*址)\s*[:：]?\s*")
_SPACED_LABELS = re.compile(r"(?:性\s*别|民\s*族)\s*")

Lines = list[str]
Transformation = Callable[[random.Random, str, Lines, dict], Lines | None]


def glue_labels(r: random.Random, doc: str, lines: Lines, expected: dict) -> Lines | None:
    """Labels glued to their values, several pairs run together (性别女民族汉)."""
    if (
        doc not in ("idCard", "driverLicense", "businessLicense", "vehicleLicense")
        or len(lines) < 3
    ):
        return None
    return [
        _LABEL_SPACE_RE.sub("", line) if line[:1] and line[0] >= "\u3400" else line
        for line in lines
    ]


def split_licence_labels(r: random.Random, doc: str, lines: Lines, expected: dict) -> Lines | None:
    """A business licence's two-character labels split (住 / 所, 名称 read as 称, 类 alone)."""
    if doc != "businessLicense":
        return None
    out: Lines = []
    for line in lines:
        if line.startswith("住所") and len(line) > 3:
            out += ["住", "所" + line[2:]]
        elif line.startswith("名称") and len(line) > 3:
            out.append("称" + line[2:])
        elif line.startswith("类型") and len(line) > 3:
            out += ["类", line[2:].strip(" ：")]
        else:
            out.append(line)
    return out if out != lines else None


def truncate_id_label(r: random.Random, doc: str, lines: Lines, expected: dict) -> Lines | None:
    """The id number's label cut short, the number on the next line."""
    for i, line in enumerate(lines):
        if line.startswith("公民身份号码") and len(line) > 8:
            return [*lines[:i], "公民身份号", line[6:].strip(" ："), *lines[i + 1 :]]
    return None


def drop_front_labels(r: random.Random, doc: str, lines: Lines, expected: dict) -> Lines | None:
    """An identity card's small front labels lost, the values kept in printed order."""
    if doc != "idCard" or not expected.get("name") or "   " in "".join(lines) or len(lines) < 4:
        return None
    out = []
    for line in lines:
        text = _SPACED_LABELS.sub("", _ID_FRONT_LABELS.sub("", line)).strip()
        if text:
            out.append(text)
    # Only where the values stand in printed order (an address's end read before its start
    # would need the label to place it).
    if expected["address"] not in "".join(out).replace(" ", ""):
        return None
    return out


_DRIVER_LABELS = re.compile(
    r"姓名|性别|国籍|住址|出生日期|初次领证日期|准驾车型|有效期限|有效起始日期|有效期|"
    r"Date of First Issue|Date of Birth|Nationality|Address|Name|Sex|Class|Valid (?:Period|From)"
)


def drop_driver_labels(r: random.Random, doc: str, lines: Lines, expected: dict) -> Lines | None:
    """A driving licence's labels lost (Chinese and English), the values kept in printed order."""
    if doc != "driverLicense" or "   " in "".join(lines) or not expected.get("address"):
        return None
    out = []
    for raw in lines:
        line = unicodedata.normalize("NFKC", raw)
        if _DRIVER_LABELS.fullmatch(line.replace(" ", "")):
            continue
        text = line if line.startswith(("证号", "中华")) else _DRIVER_LABELS.sub(" ", line)
        text = re.sub(r"\s+", " ", text).strip(" ：:")
        if text and not text.startswith("Driving"):
            out.append(text)
    # Only where the values stand in printed order, the validity period on one line.
    joined = "".join(out).replace(" ", "")
    period = [line for line in out if "至" in line]
    if expected["address"] not in joined or not period:
        return None
    return out


def id_number_first(r: random.Random, doc: str, lines: Lines, expected: dict) -> Lines | None:
    """Lines out of reading order: the id number's line read first."""
    if doc != "idCard":
        return None
    for i, line in enumerate(lines):
        if _RESIDENT_ID_RE.search(line.replace(" ", "")) and "公民" in line:
            return [line, *lines[:i], *lines[i + 1 :]]
    return None


def one_string(r: random.Random, doc: str, lines: Lines, expected: dict) -> Lines | None:
    """Both sides of a card (or the whole card) returned as one string."""
    labelled = any(line.startswith("姓") for line in lines)
    if doc != "idCard" or "   " in "".join(lines) or not labelled:
        return None
    return [" ".join(line for line in lines if len(line.strip()) > 1)]


def date_range_punctuation(
    r: random.Random, doc: str, lines: Lines, expected: dict
) -> Lines | None:
    """A validity period with a comma for a dot and a dropped dot (2015.0301-2035,0301)."""
    out = [_DATE_RANGE_RE.sub(r"\1.\2\3\4\5,\6\7", line) for line in lines]
    return out if out != lines else None


def card_hyphens(r: random.Random, doc: str, lines: Lines, expected: dict) -> Lines | None:
    """A card number's digit groups joined by hyphens."""
    out = [line.replace(" ", "-") if _CARD_GROUPS_RE.match(line) else line for line in lines]
    return out if out != lines else None


def expiry_split(r: random.Random, doc: str, lines: Lines, expected: dict) -> Lines | None:
    """VALID / THRU / MMYY on three lines, or O read for 0 in the expiry."""
    for i, line in enumerate(lines):
        m = _MMYY_RE.search(line)
        if m and m[1] == "VALID THRU":
            if r.random() < 0.5:
                return [*lines[:i], "VALID", "THRU", f"{m[2]}{m[3]}", *lines[i + 1 :]]
            shown = f"{m[2]}/{m[3]}".replace("0", "O")
            return [*lines[:i], f"VALID THRU {shown}", *lines[i + 1 :]]
    return None


def bank_name_split(r: random.Random, doc: str, lines: Lines, expected: dict) -> Lines | None:
    """The bank's name split over two lines (中国工商 / 银行)."""
    bank = expected.get("bankName")
    if doc != "bankCard" or not bank or bank not in lines or len(bank) < 5:
        return None
    i = lines.index(bank)
    return [*lines[:i], bank[:-2], bank[-2:], *lines[i + 1 :]]


def garbled_bank(r: random.Random, doc: str, lines: Lines, expected: dict) -> Lines | None:
    """The bank's logo read as garbage, its English name lost: only the number names the bank."""
    bank = expected.get("bankName")
    if doc != "bankCard" or bank not in _BIN_NAMED or bank not in lines:
        return None
    out = [bank.translate(_GARBLED) if line == bank else line for line in lines]
    return [line for line in out if not re.fullmatch(r"[A-Z ]*BANK[A-Z ]*", line)]


def mrz_noise(r: random.Random, doc: str, lines: Lines, expected: dict) -> Lines | None:
    """The MRZ in lower case, fillers read as K and a stray mark inside a line."""
    zone = [i for i, line in enumerate(lines) if _MRZ_RE.match(line.replace(" ", ""))]
    if doc != "passport" or len(zone) != 2 or any(" " in lines[i] for i in zone):
        return None
    out = list(lines)
    first, second = zone
    out[first] = re.sub(r"(?<=<<)<<<<(?=<*$)", "KK<<", out[first], count=1)
    out[second] = out[second][:20] + "." + out[second][20:]
    if r.random() < 0.5:
        out[first], out[second] = out[first].lower(), out[second].lower()
    return out


TRANSFORMATIONS: tuple[Transformation, ...] = (
    glue_labels,
    split_licence_labels,
    truncate_id_label,
    drop_front_labels,
    drop_driver_labels,
    id_number_first,
    one_string,
    date_range_punctuation,
    card_hyphens,
    expiry_split,
    bank_name_split,
    garbled_bank,
    mrz_noise,
    label_row_values,
    lose_every_label,
    wrap_after_house_number,
)


def real_ocr(r: random.Random, document_type: str, document: Document) -> Document:
    """The document as a real engine might return it: one or two transformations that apply."""
    lines = list(document.lines)
    order = list(TRANSFORMATIONS)
    r.shuffle(order)
    applied = 0
    for transform in order:
        changed = transform(r, document_type, lines, document.expected)
        if changed is not None:
            lines = changed
            applied += 1
            if applied == 2 or r.random() < 0.5:
                break
    # Drawn from a source of its own, seeded by the case: the cases made before identity cards
    # were drawn stay as they were.
    seed = zlib.crc32("\n".join(lines).encode())
    card = card_zone(random.Random(seed), document_type, lines, document.expected)
    return Document(lines=card or lines, expected=document.expected)
