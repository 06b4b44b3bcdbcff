"""Value readers for the rules extractor: each takes raw OCR text and returns the canonical value,
or None when the text does not look like that kind of value.

The readers are deliberately strict about shape: the extractor pairs labels with nearby lines by
asking "could this line be the value of that field?", so a loose reader would steal other lines.
Codes are repaired for OCR look-alikes (O/0, I/l/1, B/8, S/5, Z/2) only where the printed
character cannot stand at its position (a letter where the code holds digits, a letter outside the
code's alphabet); a code whose check fails otherwise is returned as printed.
"""

from __future__ import annotations

import re

from stdnum import luhn
from stdnum.cn import ric, uscc

from ocr.lookalikes import (
    CARD_NUMBER_LOOKALIKES,
    CODE_TO_DIGIT,
    ID_CHECK_X_LOOKALIKES,
    NOT_IN_CREDIT_CODE,
    NOT_IN_PLATE_SERIAL,
    NOT_IN_VIN,
)
from ocr.normalize import (
    nfkc,
    normalize_code,
    normalize_date,
    normalize_text,
    normalize_valid_until,
)
from ocr.validators import is_vin_alphabet, vin_check_digit

CJK = "\u3400-\u9fff\uf900-\ufaff"

PROVINCES = (
    "北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|"
    "广东|海南|四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门"
)
PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"

# The readers run on every line a label might lead to: their patterns are compiled once.
_TO_CHECK_X = str.maketrans(dict.fromkeys(ID_CHECK_X_LOOKALIKES, "X"))
_SPACING_RE = re.compile(r"[\s·•・‧]")
_RESIDENT_ID_RE = re.compile(r"(?<![0-9A-Z])[0-9A-Z|]{17}[0-9XK×xA-Z](?![0-9A-Z])")
_RESIDENT_ID_SHAPE_RE = re.compile(r"\d{17}[\dX]")
_CODE_18_RE = re.compile(r"(?<![0-9A-Z])[0-9A-Z]{18}(?![0-9A-Z])")
# The credit code's alphabet (GB 32100 leaves out I, O, S, V and Z); its region code is digits.
_CREDIT_CODE_SHAPE_RE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}")
# The registering department (first character): 1-9, A-G or Y.
_CREDIT_CODE_FIRST = "123456789ABCDEFGY"
_VIN_CHECK_CHARS = "0123456789X"
_CODE_17_RE = re.compile(r"(?<![0-9A-Z])[0-9A-Z]{17}(?![0-9A-Z])")
_CARD_NUMBER_RE = re.compile(rf"[0-9{re.escape(CARD_NUMBER_LOOKALIKES)} ]{{13,30}}")
# A text longer than this cannot normalise into the 30 ASCII characters of a card number
# (NFKC joins at most a few characters into one, and never into ASCII): it is not read at all,
# which spares the normalising of the long texts the bank card reader tries.
_MAX_CARD_NUMBER_TEXT = 4 * 30
_CARD_GROUP_JOINS_RE = re.compile(r"(?<=\S)[\-.—–](?=\S)")
_PLATE_RE = re.compile(rf"([{PLATE_PROVINCES}])([A-Z])([A-Z0-9]{{5,6}})([挂学警港澳领试超]?)")
_VEHICLE_CLASS_RE = re.compile(r"(?:[A-DFMNP][1-3]?){1,4}[A-Z]?")
_ENGINE_NUMBER_RE = re.compile(r"[A-Z0-9\-]{4,20}")
_DIGIT_RE = re.compile(r"\d")
_RANGE_DATE_RE = re.compile(
    r"\d{4}\s*[年./\-]\s*\d{1,2}\s*[月./\-]\s*\d{1,2}\s*日?|\d{4}\.\d{4}(?!\d)|\d{8}|长期"
)
# OCR reads a date's dot as a comma (2035,03,01), and drops one (2035.0301).
_COMMA_RE = re.compile(r"(?<=\d)[,，](?=\d)")
_DROPPED_DOT_RE = re.compile(r"^(\d{4})\.(\d{4})$")
_CJK_CHAR_RE = re.compile(f"[{CJK}]")
_CJK_RUN_RE = re.compile(f"[{CJK}]+")
_CJK_NAME_RE = re.compile(rf"[{CJK}]{{1,5}}(?:[·•][{CJK}]{{1,8}})?")
_LATIN_NAME_RE = re.compile(r"[A-Z][A-Za-z'\-]*(?: [A-Z][A-Za-z'\-]*){0,3}")
_ADDRESS_TAIL_CHARS_RE = re.compile(rf"[{CJK}0-9A-Za-z\-()#]+")
_TRAILING_ID_RE = re.compile(r"\s+\d{17}[\dXx]\s*$")
_YEAR_RE = re.compile(r"\d{4}\s*年")
_BRACKET_RE = re.compile(r"[()]")
_LONG_NUMBER_RE = re.compile(r"\d{3,}")
_MONEY_UNIT_RE = re.compile(r"[万亿元圆]")
_AMOUNT_RE = re.compile(r"[\d零壹贰叁肆伍陆柒捌玖拾佰仟一二三四五六七八九十百千]")
_AUTHORITY_CHARS_RE = re.compile(rf"[{CJK}()]{{4,30}}")
_AUTHORITY_END_RE = re.compile(r"(局|所|厅|队|处|署|委)$")
_VEHICLE_TYPE_CHARS_RE = re.compile(rf"[{CJK}]{{2,12}}")
_VEHICLE_WORD_RE = re.compile(r"车|挂|摩托")
_MODEL_CODE_RE = re.compile(r"[A-Z]{2,}\d")
_CODE_CHARS_RE = re.compile(r"[0-9A-Z\-/" + CJK + "]{2,40}")
_LATIN_OR_DIGIT_RE = re.compile(r"[0-9A-Z]")


def compact_upper(raw: str) -> str:
    """NFKC, upper case, without white space or middle dots."""
    return _SPACING_RE.sub("", nfkc(raw).upper())


def read_resident_id(raw: str) -> tuple[str, bool] | None:
    """(18-character resident id, check digit holds) from OCR text, or None when not one.
    Read as printed first (a number beside other digits: 单元1 110105...), then with the
    spaces between its digit groups dropped."""
    m = _RESIDENT_ID_RE.search(nfkc(raw).upper()) or _RESIDENT_ID_RE.search(compact_upper(raw))
    if not m:
        return None
    body = m.group()[:17].translate(CODE_TO_DIGIT)
    last = m.group()[17].translate(_TO_CHECK_X)
    if last != "X":
        last = last.translate(CODE_TO_DIGIT)
    number = body + last
    if not _RESIDENT_ID_SHAPE_RE.fullmatch(number):
        return None
    if sum(c.isdigit() for c in m.group()) < 14:
        return None
    return number, ric.calc_check_digit(number) == number[17]


def read_credit_code(raw: str) -> tuple[str, bool] | None:
    """(unified social credit code, check character holds) from OCR text, or None.

    Only characters that cannot stand at their position are read as their look-alikes: a letter
    in the category digit or the six-digit region code, a letter the registering department's
    code never is, and I, O, S, V, Z (outside the code's alphabet) anywhere. A
    code whose check character fails is returned as printed, never changed until it passes.
    """
    text = compact_upper(raw)
    m = _CODE_18_RE.search(text)
    if not m:
        return None
    code = m.group().translate(NOT_IN_CREDIT_CODE)
    head = code[0] if code[0] in _CREDIT_CODE_FIRST else code[0].translate(CODE_TO_DIGIT)
    code = head + code[1:8].translate(CODE_TO_DIGIT) + code[8:]
    if not _CREDIT_CODE_SHAPE_RE.fullmatch(code):
        return None
    return code, uscc.is_valid(code)


def read_vin(raw: str) -> tuple[str, bool] | None:
    """(17-character VIN, check digit holds) from OCR text, or None.

    I, O and Q (never in a VIN) are read as 1 and 0, and a letter other than X in the check
    digit's position as the digit it stands for; nothing else is changed, so a VIN whose check
    digit fails is returned as printed.
    """
    text = compact_upper(raw)
    m = _CODE_17_RE.search(text)
    if not m:
        return None
    vin = m.group().translate(NOT_IN_VIN)
    if vin[8] != "X":
        vin = vin[:8] + vin[8].translate(CODE_TO_DIGIT) + vin[9:]
    if sum(c.isdigit() for c in vin) < 3 or not is_vin_alphabet(vin):
        return None
    return vin, vin[8] in _VIN_CHECK_CHARS and vin_check_digit(vin) == vin[8]


def read_card_number(raw: str) -> tuple[str, bool] | None:
    """(13-19 digit card number, Luhn holds) from a line that is a card number, or None."""
    if len(raw) > _MAX_CARD_NUMBER_TEXT:
        return None
    # Digit groups joined by hyphens or dots read as groups apart.
    text = _CARD_GROUP_JOINS_RE.sub(" ", nfkc(raw).upper())
    if not _CARD_NUMBER_RE.fullmatch(text):
        return None
    if sum(c.isdigit() for c in text) < 12:
        return None
    digits = text.replace(" ", "").translate(CODE_TO_DIGIT)
    if not digits.isdigit() or not 13 <= len(digits) <= 19:
        return None
    return digits, luhn.is_valid(digits)


def read_plate(raw: str) -> str | None:
    """Licence plate (京A12345, 京AD12345 for new-energy cars) without the middle dot."""
    text = compact_upper(raw)
    m = _PLATE_RE.fullmatch(text)
    if not m:
        return None
    tail = m[3].translate(NOT_IN_PLATE_SERIAL)
    return m[1] + m[2] + tail + m[4]


def read_vehicle_class(raw: str) -> str | None:
    """准驾车型 such as C1, A2, B1B2, C1E, D."""
    text = compact_upper(raw)
    if _VEHICLE_CLASS_RE.fullmatch(text):
        return text
    return None


def read_engine_number(raw: str) -> str | None:
    """An engine number: 4-20 letters and digits (with at least one digit)."""
    text = compact_upper(raw)
    if not _ENGINE_NUMBER_RE.fullmatch(text) or not _DIGIT_RE.search(text):
        return None
    return None if normalize_date(text) is not None else text


def read_date(raw: str) -> str | None:
    """A printed date as YYYY-MM-DD, or None."""
    return normalize_date(raw)


def read_date_range(raw: str) -> tuple[str | None, str | None] | None:
    """(from, until) of a validity period such as 2007.09.03-2017.09.03, 2020.04.04-长期,
    2021-07-28 至 2027-07-28 (a comma read for a dot, or a dot dropped: 2007.0903-2017,0903), or
    a single end date; None when the text holds no date."""
    text = _COMMA_RE.sub(".", nfkc(raw))
    dates = [_DROPPED_DOT_RE.sub(r"\1\2", d) for d in _RANGE_DATE_RE.findall(text)]
    values = [normalize_valid_until(d) for d in dates]
    values = [v for v in values if v]
    if not values:
        return None
    if len(values) == 1:
        return None, values[0]
    start = values[0] if values[0] != "long-term" else None
    return start, values[-1]


def _cjk_ratio(text: str) -> float:
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return 0.0
    # Chinese characters are never white space: count them in the text as it stands.
    return len(_CJK_CHAR_RE.findall(text)) / len(chars)


def read_person_name(raw: str) -> str | None:
    """A person's name: 2-6 Chinese characters (a · may join a transliterated name) or a Latin
    name of one to four words."""
    text = normalize_text(raw)
    if not text:
        return None
    if _CJK_NAME_RE.fullmatch(text) and len(text) >= 2:
        return text
    if _LATIN_NAME_RE.fullmatch(text) and len(text) >= 3:
        return text
    return None


def read_short_cjk(raw: str, *, max_len: int = 8) -> str | None:
    """Up to ``max_len`` Chinese characters and nothing else (ethnicity, use character)."""
    text = normalize_text(raw)
    if text and len(text) <= max_len and _CJK_RUN_RE.fullmatch(text):
        return text
    return None


_SCOPE_MARKS = re.compile(r"[、；;。，,]|依法须经")
_ADDRESS_WORDS = re.compile(
    r"省|市|区|县|旗|盟|州|镇|乡|村|路|街|道|巷|弄|里|号|室|层|楼|栋|幢|座|单元|组|大厦|广场|园|小区"
)
ADDRESS_HEAD = re.compile(rf"^(?:{PROVINCES})|^[{CJK}]{{2,4}}[省市]")
# The start of an address's building, unit or room part: 楼2单元, 2单元, 号楼3单元, A座1203室.
_BUILDING_TAIL_START = re.compile(r"^[0-9A-Z]{0,4}(?:号楼|号|楼|栋|幢|座|单元|室|层|户)")
_ADDRESS_TAIL = re.compile(r"号|室|层|楼|栋|幢|座|单元|户|组|弄|^\d")


def looks_like_scope(text: str) -> bool:
    """True for a line of a business scope paragraph (lists joined by 、 and ；)."""
    return bool(_SCOPE_MARKS.search(text))


def read_address(raw: str) -> str | None:
    """An address (or its first line): Chinese text naming a place (without an id number OCR
    read onto its end)."""
    text = normalize_text(_TRAILING_ID_RE.sub("", raw))
    if not text or looks_like_scope(text) or len(text) < 4:
        return None
    if _cjk_ratio(text) < 0.4 or not _ADDRESS_WORDS.search(text):
        return None
    return text


def is_address_head(text: str) -> bool:
    """Does this text start an address (a province or city name first)?"""
    return bool(ADDRESS_HEAD.search(normalize_text(text) or ""))


def is_address_tail(text: str) -> bool:
    """Could this text continue a wrapped address (house number, room, floor ...)? It needs
    Chinese text (a date or an id number on the next line is not an address)."""
    norm = normalize_text(text) or ""
    if not norm or looks_like_scope(norm) or is_address_head(norm):
        return False
    if not _ADDRESS_TAIL_CHARS_RE.fullmatch(norm) or not _CJK_CHAR_RE.search(norm):
        return False
    if normalize_date(norm) is not None:
        return False
    return bool(_ADDRESS_TAIL.search(norm) or _ADDRESS_WORDS.search(norm))


def is_building_tail(text: str) -> bool:
    """Does this text go on with the building, unit or room of an address whose head ends with a
    house number (楼2单元301室 after 光华路8号, 2单元1501室 after 6号楼)?"""
    norm = normalize_text(text) or ""
    return bool(_BUILDING_TAIL_START.match(norm)) and is_address_tail(norm)


def looks_like_scope_continuation(text: str) -> bool:
    """A wrapped line of a business scope: list punctuation, brackets, or a long run of text."""
    norm = normalize_text(text) or ""
    if is_address_head(norm) or _YEAR_RE.search(norm):
        return False
    return looks_like_scope(norm) or bool(_BRACKET_RE.search(norm)) or len(norm) >= 12


_COMPANY_TYPE_START = re.compile(
    r"^(有限责任公司|股份有限公司|个人独资企业|(有限|普通)?合伙企业|个体工商户|全民所有制|集体所有制|"
    r"外商投资|农民专业合作社|其他有限责任公司|分公司)"
)


def read_company_name(raw: str) -> str | None:
    """A company or organisation name: mostly Chinese, at least four characters, and not one of
    the company types (有限责任公司(自然人独资) is a type, not a name)."""
    text = normalize_text(raw)
    if not text or looks_like_scope(text) or len(text) < 4 or _COMPANY_TYPE_START.match(text):
        return None
    if _cjk_ratio(text) < 0.6 or _LONG_NUMBER_RE.search(text):
        return None
    return text


_COMPANY_TYPE = re.compile(r"公司|企业|合伙|个体|独资|合作社|分支|集体|全民|股份|有限|外商|联营")


def read_company_type(raw: str) -> str | None:
    """A company type such as 有限责任公司(自然人独资) or 个人独资企业."""
    text = normalize_text(raw)
    if text and _COMPANY_TYPE.search(text) and not looks_like_scope(text.replace("、", "")):
        return text
    return None


def read_capital(raw: str) -> str | None:
    """Registered capital as printed: 100万元, 壹佰万元整, 500万元人民币."""
    text = normalize_text(raw)
    if text and _MONEY_UNIT_RE.search(text) and _AMOUNT_RE.search(text):
        return text
    return None


def read_authority(raw: str) -> str | None:
    """An issuing authority such as 北京市公安局朝阳分局."""
    text = normalize_text(raw)
    if text and _AUTHORITY_CHARS_RE.fullmatch(text) and _AUTHORITY_END_RE.search(text):
        return text
    return None


def read_vehicle_type(raw: str) -> str | None:
    """A vehicle type such as 小型轿车 or 轻型普通货车."""
    text = normalize_text(raw)
    if text and _VEHICLE_TYPE_CHARS_RE.fullmatch(text) and _VEHICLE_WORD_RE.search(text):
        return text
    return None


def read_model(raw: str) -> str | None:
    """A brand and model such as 丰田牌TV7250HEV."""
    text = normalize_text(raw)
    if text and len(text) >= 3 and (("牌" in text) or _MODEL_CODE_RE.search(text)):
        return text
    return None


def read_any_text(raw: str) -> str | None:
    """Any text that is not a scope paragraph line."""
    text = normalize_text(raw)
    if text and not looks_like_scope(text):
        return text
    return None


def read_code(raw: str) -> str | None:
    """A code of letters and digits (2 or more characters)."""
    text = normalize_code(raw)
    if text and _CODE_CHARS_RE.fullmatch(text) and _LATIN_OR_DIGIT_RE.search(text):
        return text
    return None
