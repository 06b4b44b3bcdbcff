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

``index_text(lines)`` indexes a document (each index is built when first used);
``is_grounded(value=..., format=..., text=...)`` answers per field.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from ocr.lookalikes import GROUNDING_FOLD, ONE_LOOKALIKES, ZERO_LOOKALIKES, digit_fixer
from ocr.mrz import MrzResult, find_mrz
from ocr.normalize import COUNTRY_NAMES, normalize_date, normalize_year_month

_MONTH = r"(?:JAN|FEB|MAR|APR|MAY|JUNE?|JULY?|AUG|SEPT?|OCT|NOV|DEC)[A-Z]*\.?(?:/[A-Z]+\.?)?"
_NUMERIC_DATE_PATTERNS = (
    re.compile(r"(?<!\d)\d{4}\s*[年./\-]\s*\d{1,2}\s*[月./\-]\s*\d{1,2}(?!\d)\s*日?"),
    re.compile(r"(?<!\d)\d{1,2}[./\-]\d{1,2}[./\-]\d{4}(?!\d)"),
    re.compile(r"(?<!\d)\d{8}(?!\d)"),
)
_MONTH_NAME_RE = re.compile(_MONTH)
# Each holds a month's name: they need not look where no month is named (most documents).
_NAMED_MONTH_DATE_PATTERNS = (
    re.compile(rf"(?<!\d)\d{{1,2}}\s*[-/ ]?\s*{_MONTH}\s*[-/ ]?\s*\d{{4}}(?!\d)"),
    re.compile(rf"{_MONTH}\s*\d{{1,2}}\s*,?\s*\d{{4}}(?!\d)"),
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


_NOT_KEPT_RE = re.compile(r"[^\w()]|_")
# O read as 0 and L/I/| as 1 where they touch digits, in NFKC upper-case text: the look-alikes of
# printed numbers, upper-cased like the text they are looked for in.
_fix_digits = digit_fixer(ones=ONE_LOOKALIKES.upper(), zeros=ZERO_LOOKALIKES.upper())
_DIGIT_RE = re.compile(r"\d")
_NON_DIGITS_RE = re.compile(r"\D")
_NON_LETTERS_RE = re.compile(r"[^A-Z]+")
_MALE_RE = re.compile(r"(?<![A-Z])(M|MALE)(?![A-Z])")
_FEMALE_RE = re.compile(r"(?<![A-Z])(F|FEMALE)(?![A-Z])")
_DEBIT_RE = re.compile(r"借记|储蓄|DEBIT")
_CREDIT_RE = re.compile(r"信用|贷记|CREDIT")
_LONG_TERM_RE = re.compile(r"长期|LONGTERM|PERMANENT")


def _upper(text: str) -> str:
    return unicodedata.normalize("NFKC", text).upper()


def compact(text: str) -> str:
    """NFKC, upper case, keeping only letters, digits, CJK and parentheses."""
    return _NOT_KEPT_RE.sub("", _upper(text))


def fold(text: str) -> str:
    """``compact`` with OCR look-alike letters read as the digits they resemble."""
    return compact(text).translate(GROUNDING_FOLD)


def _scan(windows: str, patterns: Sequence[re.Pattern], normalize) -> set[str]:
    # A date is met in its line and again in both windows that line is part of: normalise each
    # printed form once.
    printed = {match.group() for pattern in patterns for match in pattern.finditer(windows)}
    return {value for value in map(normalize, printed) if value}


_COUNTRY_PRINTS = {compact(name): code for name, code in COUNTRY_NAMES.items()}


@dataclass(frozen=True)
class OcrText:
    """The OCR lines of one document, indexed for grounding.

    Each index is built the first time a value is looked for in it: a document's formats need
    only a few of them (no card types on an identity card, no dates on a bank card).
    """

    lines: tuple[str, ...]

    @cached_property
    def _upper_lines(self) -> tuple[str, ...]:
        return tuple(_upper(line) for line in self.lines)

    @cached_property
    def compact_lines(self) -> tuple[str, ...]:
        return tuple(_NOT_KEPT_RE.sub("", line) for line in self._upper_lines)

    @cached_property
    def compact_all(self) -> str:
        return "".join(self.compact_lines)

    @cached_property
    def folded_lines(self) -> tuple[str, ...]:
        return tuple(line.translate(GROUNDING_FOLD) for line in self.compact_lines)

    @cached_property
    def folded_all(self) -> str:
        return "".join(self.folded_lines)

    @cached_property
    def _fixed_lines(self) -> tuple[str, ...]:
        return tuple(_fix_digits(line) for line in self._upper_lines)

    @cached_property
    def _windows(self) -> str:
        """Each line, and each pair of neighbouring lines joined (a value may wrap once), with
        digit look-alikes fixed, where it holds a digit (every date does); NUL between them.

        Fixing a pair is fixing its lines: the space between them neither normalises nor counts
        as a digit. The date and year-month patterns match no NUL and, as at the end of a text,
        see no digit in it: each finds in one pass what it finds in the windows one by one.
        """
        lines = self._fixed_lines
        windows = [*lines, *(f"{a} {b}" for a, b in itertools.pairwise(lines))]
        return "\0".join(window for window in windows if _DIGIT_RE.search(window))

    @cached_property
    def _mrz(self) -> MrzResult | None:
        return find_mrz(self.lines)

    @cached_property
    def digit_runs(self) -> frozenset[str]:
        # The digits of a pair of lines are the digits of one line then the other's.
        digits = [_NON_DIGITS_RE.sub("", line) for line in self._fixed_lines]
        runs = {*digits, *(a + b for a, b in itertools.pairwise(digits))}
        runs.discard("")
        return frozenset(runs)

    @cached_property
    def dates(self) -> frozenset[str]:
        patterns = _NUMERIC_DATE_PATTERNS
        if _MONTH_NAME_RE.search(self._windows):
            patterns += _NAMED_MONTH_DATE_PATTERNS
        dates = _scan(self._windows, patterns, normalize_date)
        if self._mrz is not None:
            dates |= {d for d in (self._mrz.birth_date, self._mrz.expiry_date) if d}
        return frozenset(dates)

    @cached_property
    def year_months(self) -> frozenset[str]:
        return frozenset(_scan(self._windows, _YEAR_MONTH_PATTERNS, normalize_year_month))

    @cached_property
    def genders(self) -> frozenset[str]:
        found: set[str] = set()
        for text in self._upper_lines:
            if "男" in text or _MALE_RE.search(text):
                found.add("male")
            if "女" in text or _FEMALE_RE.search(text):
                found.add("female")
        if self._mrz is not None and self._mrz.sex:
            found.add(self._mrz.sex)
        return frozenset(found)

    @cached_property
    def countries(self) -> frozenset[str]:
        """Codes printed as a word of their own (P CHN E1234) and codes of printed country
        names."""
        found = {
            code for name, code in _COUNTRY_PRINTS.items() if name and name in self.compact_all
        }
        for text in self._upper_lines:
            found |= {word for word in _NON_LETTERS_RE.split(text) if len(word) == 3}
        if self._mrz is not None:
            found |= {c for c in (self._mrz.nationality, self._mrz.issuing_country) if c}
        return frozenset(found)

    @cached_property
    def card_types(self) -> frozenset[str]:
        # A line naming its card type names it in the text joined up, so the whole text says it.
        found = set()
        if _DEBIT_RE.search(self.compact_all):
            found.add("debit")
        if _CREDIT_RE.search(self.compact_all):
            found.add("credit")
        return frozenset(found)

    @cached_property
    def long_term(self) -> bool:
        return bool(_LONG_TERM_RE.search(self.compact_all))


SUSPECT_CACHE_LINES = 4096

# Lines that read as instructions to a model or as assignments of field values, not as print: an
# identity document never says "ignore the previous instructions" or "idNumber=...".
_INSTRUCTION_RES = (
    re.compile(
        r"\b(?:ignore|disregard|forget|override)\b.{0,60}?"
        r"\b(?:instructions?|prompts?|rules?|above|previous|prior|earlier)\b",
        re.I,
    ),
    re.compile(r"^\W*(?:system|assistant|developer|user)\s*[:：>]", re.I),
    re.compile(
        r"\b(?:you are now|act as|new instructions?|system prompt|developer mode|jailbreak)\b",
        re.I,
    ),
    re.compile(r"\b(?:answer|respond|reply|output|return|print|set|use)\b.{0,40}[=＝]", re.I),
    re.compile(r"<\|[a-z_]+\|>|\[/?INST\]", re.I),
    re.compile(r"(?:忽略|无视|忘记|不要理会).{0,20}(?:指令|提示|说明|规则|要求|内容)"),
    re.compile(r"(?:请|必须)(?:将|把)?.{0,16}(?:输出|回答|返回|填写|设为|改为)"),
    re.compile(r"系统(?:提示|指令|消息)"),
)
# An assignment to a field: a Latin key then = (name=, idNumber =), or a camelCase key or a
# quoted key then a colon ("idNumber": ..., birthDate: ...). "Name: ZHANG" on a passport is print.
_ASSIGNMENT_RES = (
    re.compile(r"(?<![A-Za-z])[A-Za-z_]{2,}\s*[=＝]\s*\S"),
    re.compile(r"(?<![A-Za-z])[a-z]+[A-Z][A-Za-z]*\s*[:：]\s*\S"),
    re.compile(r"[\"'][A-Za-z_]{2,}[\"']\s*[:：]"),
)


# Each check of a document asks about the same lines (the extractor, detection, reconciling,
# scoring): remembered, a line's verdict costs its regular expressions once.
@functools.lru_cache(maxsize=SUSPECT_CACHE_LINES)
def is_suspect_line(line: str) -> bool:
    """Whether a line reads as an instruction or a field assignment rather than as print: its
    values are not the document's, whoever reads them."""
    text = unicodedata.normalize("NFKC", line)
    return any(p.search(text) for p in (*_INSTRUCTION_RES, *_ASSIGNMENT_RES))


def suspect_lines(lines: Sequence[str]) -> tuple[int, ...]:
    """The indexes of the lines that read as instructions or field assignments."""
    return tuple(i for i, line in enumerate(lines) if is_suspect_line(line))


def trusted_lines(lines: Sequence[str]) -> tuple[str, ...]:
    """``lines`` with every suspect line blanked (the others keep their places)."""
    suspect = set(suspect_lines(lines))
    return tuple("" if i in suspect else line for i, line in enumerate(lines))


def index_text(lines: Sequence[str]) -> OcrText:
    """The grounding indexes of one document's OCR lines (built as they are first used)."""
    return OcrText(lines=tuple(line for line in lines if isinstance(line, str)))


def is_printed_as_is(*, value: str, text: OcrText) -> bool:
    """Whether ``value`` stands in the text character for character (case, white space and
    punctuation aside): False for a value read with a look-alike repair (O read as 0)."""
    wanted = compact(value)
    return bool(wanted) and wanted in text.compact_all


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
        digits = _NON_DIGITS_RE.sub("", value)
        return bool(digits) and any(digits in run for run in text.digit_runs)
    if format == "code":
        return _pieced(fold(value), all_text=text.folded_all, lines=text.folded_lines)
    return _pieced(compact(value), all_text=text.compact_all, lines=text.compact_lines)
