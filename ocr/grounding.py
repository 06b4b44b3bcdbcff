"""Grounding: is a canonical field value really in the OCR text?

A language model can answer a value the document does not hold: a plausible name, a date, a
"debit" inferred from a card's issuer. Every value the model gives is therefore looked for in the
OCR lines, allowing for the ways the canonical form differs from print:

- text: NFKC, white space and punctuation ignored ("张 三" holds 张三; a value may wrap over lines);
- date / validUntil: any printed date form that normalises to it (1990年1月1日, 1990.01.01,
  01 JAN 1990, 19900101, the MRZ's YYMMDD), and 长期 for long-term;
- yearMonth: 08/29, 2029/08, 2029年8月;
- gender: 男/女, M/F, MALE/FEMALE, the MRZ sex;
- country: the code itself, or a printed name that maps to it (中国, CHINA, JAPAN);
- code / digits: upper case, spaces and middle dots ignored, OCR look-alikes folded (O/0, I/1 ...);
- debit or credit: 借记卡/储蓄卡/DEBIT, 信用卡/贷记卡/CREDIT.

``index_text(lines)`` builds the indexes once per document; ``is_grounded(value=..., format=...,
text=...)`` answers per field.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from ocr.mrz import find_mrz
from ocr.normalize import (
    COUNTRY_NAMES,
    normalize_card_type,
    normalize_date,
    normalize_year_month,
)

# Look-alikes OCR (and models) swap in codes; both sides are folded the same way.
_FOLD = str.maketrans(
    {"O": "0", "Q": "0", "I": "1", "L": "1", "|": "1", "Z": "2", "S": "5", "B": "8", "G": "6"}
)
_MONTH = r"(?:JAN|FEB|MAR|APR|MAY|JUNE?|JULY?|AUG|SEPT?|OCT|NOV|DEC)[A-Z]*\.?(?:/[A-Z]+\.?)?"
_DATE_PATTERNS = (
    re.compile(r"(?<!\d)\d{4}\s*[年./\-]\s*\d{1,2}\s*[月./\-]\s*\d{1,2}(?!\d)\s*日?"),
    re.compile(r"(?<!\d)\d{1,2}[./\-]\d{1,2}[./\-]\d{4}(?!\d)"),
    re.compile(rf"(?<!\d)\d{{1,2}}\s*[-/ ]?\s*{_MONTH}\s*[-/ ]?\s*\d{{4}}(?!\d)"),
    re.compile(rf"{_MONTH}\s*\d{{1,2}}\s*,?\s*\d{{4}}(?!\d)"),
    re.compile(r"(?<!\d)\d{8}(?!\d)"),
)
_YEAR_MONTH_PATTERNS = (
    re.compile(r"(?<!\d)\d{1,2}\s*[./\-]\s*\d{2}(?!\d)"),
    re.compile(r"(?<!\d)\d{4}\s*[年./\-]\s*\d{1,2}(?!\d)"),
    re.compile(r"(?<!\d)\d{1,2}\s*[./\-]\s*\d{4}(?!\d)"),
)
# A value whose lines came out of order (an address wrapping around a label line) may be put
# together from a few pieces of different lines; short values must stand in the text as they are,
# so that an invented name cannot be assembled from stray characters.
MAX_PIECES = 4
MIN_PIECE = 3
MIN_PIECED_VALUE = 8


def compact(text: str) -> str:
    """NFKC, upper case, keeping only letters, digits, CJK and parentheses."""
    text = unicodedata.normalize("NFKC", text).upper()
    return re.sub(r"[^\w()]|_", "", text)


def fold(text: str) -> str:
    """``compact`` with OCR look-alike letters read as the digits they resemble."""
    return compact(text).translate(_FOLD)


def _digits_fixed(text: str) -> str:
    """NFKC upper case with O read as 0 and l/I/| as 1 where they touch digits."""
    text = unicodedata.normalize("NFKC", text).upper()
    text = re.sub(r"(?<=\d)[LI|]|[LI|](?=\d)", "1", text)
    return re.sub(r"(?<=[\d年月./\-])O|O(?=[\d年月日./\-])", "0", text)


@dataclass(frozen=True)
class OcrText:
    """The OCR lines of one document, indexed for grounding."""

    lines: tuple[str, ...]
    compact_lines: tuple[str, ...]
    compact_all: str
    folded_lines: tuple[str, ...]
    folded_all: str
    digit_runs: frozenset[str]
    dates: frozenset[str]
    year_months: frozenset[str]
    genders: frozenset[str]
    countries: frozenset[str]
    card_types: frozenset[str]
    long_term: bool


def _windows(lines: Sequence[str]) -> list[str]:
    """Each line, and each pair of neighbouring lines joined (a value may wrap once)."""
    out = list(lines)
    out += [f"{a} {b}" for a, b in itertools.pairwise(lines)]
    return out


def _scan(texts: Sequence[str], patterns: Sequence[re.Pattern], normalize) -> set[str]:
    found: set[str] = set()
    for text in texts:
        fixed = _digits_fixed(text)
        for pattern in patterns:
            for match in pattern.finditer(fixed):
                value = normalize(match.group())
                if value:
                    found.add(value)
    return found


def _genders(lines: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for line in lines:
        text = unicodedata.normalize("NFKC", line).upper()
        if "男" in text or re.search(r"(?<![A-Z])(M|MALE)(?![A-Z])", text):
            found.add("male")
        if "女" in text or re.search(r"(?<![A-Z])(F|FEMALE)(?![A-Z])", text):
            found.add("female")
    return found


_COUNTRY_PRINTS = {compact(name): code for name, code in COUNTRY_NAMES.items()}


def _countries(lines: Sequence[str], compact_all: str) -> set[str]:
    """Codes printed as a word of their own (P CHN E1234) and codes of printed country names."""
    found = {code for name, code in _COUNTRY_PRINTS.items() if name and name in compact_all}
    for line in lines:
        words = re.split(r"[^A-Z]+", unicodedata.normalize("NFKC", line).upper())
        found |= {word for word in words if len(word) == 3}
    return found


def index_text(lines: Sequence[str]) -> OcrText:
    """Build the grounding indexes of one document's OCR lines."""
    lines = tuple(line for line in lines if isinstance(line, str))
    compact_lines = tuple(compact(line) for line in lines)
    folded_lines = tuple(fold(line) for line in lines)
    compact_all = "".join(compact_lines)
    windows = _windows(lines)
    digit_runs = set()
    for text in windows:
        digits = re.sub(r"\D", "", _digits_fixed(text))
        if digits:
            digit_runs.add(digits)
    dates = _scan(windows, _DATE_PATTERNS, normalize_date)
    genders = _genders(lines)
    countries = _countries(lines, compact_all)
    mrz = find_mrz(lines)
    if mrz is not None:
        dates |= {d for d in (mrz.birth_date, mrz.expiry_date) if d}
        if mrz.sex:
            genders.add(mrz.sex)
        countries |= {c for c in (mrz.nationality, mrz.issuing_country) if c}
    card_types = {t for t in (normalize_card_type(line) for line in lines) if t}
    if re.search(r"借记|储蓄|DEBIT", compact_all):
        card_types.add("debit")
    if re.search(r"信用|贷记|CREDIT", compact_all):
        card_types.add("credit")
    return OcrText(
        lines=lines,
        compact_lines=compact_lines,
        compact_all=compact_all,
        folded_lines=folded_lines,
        folded_all="".join(folded_lines),
        digit_runs=frozenset(digit_runs),
        dates=frozenset(dates),
        year_months=frozenset(_scan(windows, _YEAR_MONTH_PATTERNS, normalize_year_month)),
        genders=frozenset(genders),
        countries=frozenset(countries),
        card_types=frozenset(card_types),
        long_term=bool(re.search(r"长期|LONGTERM|PERMANENT", compact_all)),
    )


def _pieced(value: str, *, all_text: str, lines: Sequence[str]) -> bool:
    """True when ``value`` is in the text as it stands, or put together from a few pieces of
    different lines (an address that wraps around a label line)."""
    if not value:
        return False
    if value in all_text:
        return True
    if len(value) < MIN_PIECED_VALUE:
        return False
    rest = value
    for _ in range(MAX_PIECES):
        best = 0
        for line in lines:
            # The longest prefix of what is left that this line holds.
            low, high = 0, min(len(rest), len(line))
            while low < high:
                mid = (low + high + 1) // 2
                if rest[:mid] in line:
                    low = mid
                else:
                    high = mid - 1
            best = max(best, low)
        if best == len(rest) and best >= MIN_PIECE - 1:
            return True
        if best < MIN_PIECE:
            return False
        rest = rest[best:]
    return False


def is_grounded(*, value: str | None, format: str, text: OcrText) -> bool:
    """Whether the canonical ``value`` of a field in ``format`` is held by the OCR text.

    None is trivially grounded (nothing is claimed). Unknown formats are treated as text.
    """
    if value is None:
        return True
    if format == "date":
        return value in text.dates
    if format == "validUntil":
        return text.long_term if value == "long-term" else value in text.dates
    if format == "yearMonth":
        return value in text.year_months
    if format == "gender":
        return value in text.genders
    if format == "country":
        return value in text.countries
    if format == "debit or credit":
        return value in text.card_types
    if format == "digits":
        digits = re.sub(r"\D", "", value)
        return bool(digits) and any(digits in run for run in text.digit_runs)
    if format == "code":
        return _pieced(fold(value), all_text=text.folded_all, lines=text.folded_lines)
    return _pieced(compact(value), all_text=text.compact_all, lines=text.compact_lines)
