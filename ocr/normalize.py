"""Canonical forms of field values (see prompts/data/document_types.json "formats").

Every ``normalize_<format>(raw)`` returns the canonical string, or None when the raw text cannot be
made canonical. They are used on OCR text and on a language model's answers, so they accept the
usual printed variants (full-width characters, 1990年1月1日, 01 JAN 1990, 男, F, 长期, 08/29 ...).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable

from ocr.lookalikes import ONE_LOOKALIKES, ONE_ZERO_TO_DIGIT, ZERO_LOOKALIKES, digit_fixer

# Marks that OCR leaves around a value: bars, dashes, quotes, dots, stray punctuation.
_EDGE_MARKS = "|丨¦—–-_~'‘’\"`·•・,，。:：;；!！、 "
# Tokens that are noise when they stand apart from the value at its ends ("一 张三", "北京 |").
_EDGE_TOKENS = frozenset({"一", "I", "l", "l1", "1l", "::", "丨", "|", "国徽"})
_MIDDLE_DOTS = "·•・‧∙⋅"
_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_LATIN_OR_DIGIT_RE = re.compile(r"[A-Za-z0-9]")


def nfkc(raw: str) -> str:
    """NFKC (full-width to half-width) with every run of white space made one space, stripped."""
    # str.split's white space is re's \s (both are Unicode's), at a third of the cost of a sub.
    return " ".join(unicodedata.normalize("NFKC", raw).split())


def without_spaces(text: str) -> str:
    """`text` with every white space character taken out."""
    return "".join(text.split())


def _join_spaces(text: str) -> str:
    """Drop white space unless it separates two Latin letters or digits (words keep one space)."""
    parts = text.split(" ")
    out = parts[0]
    for part in parts[1:]:
        if not part:
            continue
        if out and _LATIN_OR_DIGIT_RE.match(out[-1]) and _LATIN_OR_DIGIT_RE.match(part[0]):
            out += " " + part
        else:
            out += part
    return out


def normalize_text(raw: str) -> str | None:
    """Text as printed: NFKC, lines joined, spaces inside Chinese text removed, marks trimmed."""
    text = nfkc(raw.replace("\n", " "))
    tokens = text.split(" ")
    while tokens and (tokens[0] in _EDGE_TOKENS or not tokens[0].strip(_EDGE_MARKS)):
        tokens.pop(0)
    while tokens and (tokens[-1] in _EDGE_TOKENS or not tokens[-1].strip(_EDGE_MARKS)):
        tokens.pop()
    text = _join_spaces(" ".join(tokens)).strip(_EDGE_MARKS)
    return text or None


_MONTHS = {
    "JAN": 1,
    "FEB": 2,
    "MAR": 3,
    "APR": 4,
    "MAY": 5,
    "JUN": 6,
    "JUL": 7,
    "AUG": 8,
    "SEP": 9,
    "OCT": 10,
    "NOV": 11,
    "DEC": 12,
}
_MONTH_RE = r"(JAN|FEB|MAR|APR|MAY|JUNE?|JULY?|AUG|SEPT?|OCT|NOV|DEC)[A-Z]*\.?"
# Dates are read from every line and every model answer: their patterns are compiled once.
# O/o read as 0 and l/I/| as 1 where they sit between digits or date separators.
_digits_fixed = digit_fixer(ones=ONE_LOOKALIKES, zeros=ZERO_LOOKALIKES)
_YMD_RE = re.compile(r"(\d{4})[年./\-](\d{1,2})[月./\-](\d{1,2})日?")
_DMY_RE = re.compile(r"(?<!\d)(\d{1,2})[./\-](\d{1,2})[./\-](\d{4})(?!\d)")
_DAY_MONTH_NAME_RE = re.compile(
    rf"(?<!\d)(\d{{1,2}})\s*[-/ ]?\s*{_MONTH_RE}(?:/[A-Z]+\.?)?\s*[-/ ]?\s*(\d{{4}})"
)
_MONTH_NAME_DAY_RE = re.compile(rf"{_MONTH_RE}\s*(\d{{1,2}})\s*,?\s*(\d{{4}})")
_YYYYMMDD_RE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_YYMMDD_RE = re.compile(r"(\d{2})(\d{2})(\d{2})")
_YEAR_MONTH_RE = re.compile(r"(?<!\d)(\d{4})[年./\-](\d{1,2})(?!\d)")
_MONTH_YEAR_RE = re.compile(r"(?<!\d)(\d{1,2})[./\-](\d{4})(?!\d)")
_MONTH_YY_RE = re.compile(r"(?<!\d)(\d{1,2})[./\-](\d{2})(?!\d)")
_LONG_TERM_RE = re.compile(r"(?i)long[\s-]?term|permanent")
_MALE_RE = re.compile(r"(?<![A-Z])(M|MALE)(?![A-Z])")
_FEMALE_RE = re.compile(r"(?<![A-Z])(F|FEMALE)(?![A-Z])")


def _date(year: int, month: int, day: int) -> str | None:
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def century_year(yy: int, *, kind: str, today: dt.date | None = None) -> int:
    """Expand an MRZ two-digit year: birth dates lie in the past, expiry dates may lie ahead."""
    today = today or dt.date.today()
    year = 2000 + yy
    if kind == "birth":
        return year if year <= today.year else year - 100
    return year if year <= today.year + 50 else year - 100


def normalize_date(raw: str, *, kind: str | None = None) -> str | None:
    """YYYY-MM-DD from 1990年1月1日, 1990.01.01, 1990/1/1, 19900101, 01 JAN 1990, JAN 01 1990.

    ``kind`` ("birth" or "expiry") also allows an MRZ YYMMDD and decides its century.
    """
    text = nfkc(raw).upper()
    if not text:
        return None
    text = _digits_fixed(text)
    compact = text.replace(" ", "")
    m = _YMD_RE.search(compact)
    if m:
        return _date(int(m[1]), int(m[2]), int(m[3]))
    m = _DMY_RE.search(compact)
    if m:
        first, second = int(m[1]), int(m[2])
        # Day first (as ICAO and most of the world print it) unless that cannot be a date.
        if second > 12 >= first:
            return _date(int(m[3]), first, second)
        return _date(int(m[3]), second, first)
    m = _DAY_MONTH_NAME_RE.search(text)
    if m:
        return _date(int(m[3]), _MONTHS[m[2][:3]], int(m[1]))
    m = _MONTH_NAME_DAY_RE.search(text)
    if m:
        return _date(int(m[3]), _MONTHS[m[1][:3]], int(m[2]))
    m = _YYYYMMDD_RE.fullmatch(compact)
    if m:
        return _date(int(m[1]), int(m[2]), int(m[3]))
    m = _YYMMDD_RE.fullmatch(compact)
    if m and kind:
        return _date(century_year(int(m[1]), kind=kind), int(m[2]), int(m[3]))
    return None


def normalize_year_month(raw: str) -> str | None:
    """YYYY-MM from a card's MM/YY (08/29 is 2029-08), YYYY/MM, MM/YYYY or 2029年8月."""
    text = _digits_fixed(nfkc(raw).upper()).replace(" ", "")
    m = _YEAR_MONTH_RE.search(text)
    if m and 1 <= int(m[2]) <= 12:
        return f"{int(m[1]):04d}-{int(m[2]):02d}"
    m = _MONTH_YEAR_RE.search(text)
    if m and 1 <= int(m[1]) <= 12:
        return f"{int(m[2]):04d}-{int(m[1]):02d}"
    m = _MONTH_YY_RE.search(text)
    if m and 1 <= int(m[1]) <= 12:
        return f"{2000 + int(m[2]):04d}-{int(m[1]):02d}"
    return None


def normalize_valid_until(raw: str) -> str | None:
    """A date, or "long-term" where the document says 长期."""
    text = nfkc(raw)
    if "长期" in text or _LONG_TERM_RE.fullmatch(text):
        return "long-term"
    return normalize_date(text, kind="expiry")


def normalize_gender(raw: str) -> str | None:
    """male/female from 男/女, 男性, M/F, MALE/FEMALE (also "男/M")."""
    text = nfkc(raw).upper()
    male = "男" in text or _MALE_RE.search(text) is not None
    female = "女" in text or _FEMALE_RE.search(text) is not None
    if male == female:
        return None
    return "male" if male else "female"


# Printed names of states and their MRZ codes: a modest table of the common ones.
COUNTRY_NAMES: dict[str, str] = {
    "中国": "CHN",
    "中华人民共和国": "CHN",
    "CHINA": "CHN",
    "CHINESE": "CHN",
    "PEOPLE'S REPUBLIC OF CHINA": "CHN",
    "PEOPLES REPUBLIC OF CHINA": "CHN",
    "P.R.CHINA": "CHN",
    "PRC": "CHN",
    "中国香港": "HKG",
    "HONG KONG": "HKG",
    "中国澳门": "MAC",
    "MACAO": "MAC",
    "MACAU": "MAC",
    "中国台湾": "TWN",
    "TAIWAN": "TWN",
    "日本": "JPN",
    "JAPAN": "JPN",
    "JAPANESE": "JPN",
    "韩国": "KOR",
    "KOREA": "KOR",
    "REPUBLIC OF KOREA": "KOR",
    "KOREAN": "KOR",
    "美国": "USA",
    "UNITED STATES": "USA",
    "UNITED STATES OF AMERICA": "USA",
    "AMERICA": "USA",
    "AMERICAN": "USA",
    "USA": "USA",
    "英国": "GBR",
    "UNITED KINGDOM": "GBR",
    "UNITED KINGDOM OF GREAT BRITAIN AND NORTHERN IRELAND": "GBR",
    "GREAT BRITAIN AND NORTHERN IRELAND": "GBR",
    "GREAT BRITAIN": "GBR",
    "BRITISH CITIZEN": "GBR",
    "BRITISH": "GBR",
    "德国": "D",
    "GERMANY": "D",
    "DEUTSCHLAND": "D",
    "GERMAN": "D",
    "法国": "FRA",
    "FRANCE": "FRA",
    "FRENCH": "FRA",
    "FRANCAISE": "FRA",
    "意大利": "ITA",
    "ITALY": "ITA",
    "ITALIANA": "ITA",
    "西班牙": "ESP",
    "SPAIN": "ESP",
    "ESPANA": "ESP",
    "加拿大": "CAN",
    "CANADA": "CAN",
    "CANADIAN": "CAN",
    "澳大利亚": "AUS",
    "AUSTRALIA": "AUS",
    "AUSTRALIAN": "AUS",
    "新西兰": "NZL",
    "NEW ZEALAND": "NZL",
    "俄罗斯": "RUS",
    "RUSSIA": "RUS",
    "RUSSIAN FEDERATION": "RUS",
    "新加坡": "SGP",
    "SINGAPORE": "SGP",
    "马来西亚": "MYS",
    "MALAYSIA": "MYS",
    "泰国": "THA",
    "THAILAND": "THA",
    "越南": "VNM",
    "VIET NAM": "VNM",
    "VIETNAM": "VNM",
    "菲律宾": "PHL",
    "PHILIPPINES": "PHL",
    "印度尼西亚": "IDN",
    "INDONESIA": "IDN",
    "印度": "IND",
    "INDIA": "IND",
    "巴西": "BRA",
    "BRAZIL": "BRA",
    "墨西哥": "MEX",
    "MEXICO": "MEX",
    "荷兰": "NLD",
    "NETHERLANDS": "NLD",
    "瑞典": "SWE",
    "SWEDEN": "SWE",
    "瑞士": "CHE",
    "SWITZERLAND": "CHE",
    "爱尔兰": "IRL",
    "IRELAND": "IRL",
    "UTOPIA": "UTO",
}
_NOT_NAME_RE = re.compile(r"[^A-Z\u4e00-\u9fff]")
_COUNTRY_KEYS = {_NOT_NAME_RE.sub("", k): v for k, v in COUNTRY_NAMES.items()}
_NAME_SEPARATORS_RE = re.compile(r"[/|]")
_COUNTRY_CODE_RE = re.compile(r"[A-Z]{3}|D")
_CODE_SPACING_RE = re.compile(rf"[\s{_MIDDLE_DOTS}]")
_NON_DIGITS_RE = re.compile(r"\D")
_CREDIT_RE = re.compile(r"信用|贷记|CREDIT")
_DEBIT_RE = re.compile(r"借记|储蓄|DEBIT")


def normalize_country(raw: str) -> str | None:
    """The MRZ code (CHN, UTO, D) from a code or a printed name (中国, CHINA, JAPAN ...)."""
    text = nfkc(raw).upper()
    # "中国/CHINESE" and "CHN<" both reduce to their parts.
    for part in [text, *_NAME_SEPARATORS_RE.split(text)]:
        key = _NOT_NAME_RE.sub("", part)
        if key in _COUNTRY_KEYS:
            return _COUNTRY_KEYS[key]
    code = text.strip(" <")
    if _COUNTRY_CODE_RE.fullmatch(code):
        return code
    return None


def normalize_code(raw: str) -> str | None:
    """Upper case, with no white space and no middle dots (京A·12345 is 京A12345)."""
    text = nfkc(raw).upper()
    text = _CODE_SPACING_RE.sub("", text).strip(_EDGE_MARKS)
    return text or None


def normalize_digits(raw: str) -> str | None:
    """Digits only (6222 0212 ... is 62220212...); O and l/I read for 0 and 1 among digits."""
    text = nfkc(raw)
    if sum(c.isdigit() for c in text) < max(1, len(without_spaces(text)) // 2):
        return None
    text = text.translate(ONE_ZERO_TO_DIGIT)
    digits = _NON_DIGITS_RE.sub("", text)
    return digits or None


def normalize_card_type(raw: str) -> str | None:
    """debit (借记卡, 储蓄卡, DEBIT) or credit (信用卡, 贷记卡, 准贷记卡, CREDIT)."""
    text = nfkc(raw).upper()
    if _CREDIT_RE.search(text):
        return "credit"
    if _DEBIT_RE.search(text):
        return "debit"
    return None


NORMALIZERS: dict[str, Callable[[str], str | None]] = {
    "text": normalize_text,
    "date": normalize_date,
    "yearMonth": normalize_year_month,
    "validUntil": normalize_valid_until,
    "gender": normalize_gender,
    "country": normalize_country,
    "code": normalize_code,
    "digits": normalize_digits,
    "debit or credit": normalize_card_type,
}


def normalize_value(*, format: str, raw: str) -> str | None:
    """Canonical form of ``raw`` in ``format``; unknown formats are treated as text."""
    if raw is None:
        return None
    return NORMALIZERS.get(format, normalize_text)(str(raw))
