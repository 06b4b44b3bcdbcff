"""A row of labels ("性别 民族", "性别民族") and the values printed after it in the same order,
split among the labels.

OCR keeps the spaces between values only sometimes: "女 汉" is two values, but "女汉" has to be
cut where every part reads as its label's value (and every part but the last is short, as the
sex is). A text is split only where exactly one cut fits: two that both fit leave the row
unread.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from ocr.rules.labels import Piece
from ocr.rules.lines import GAP, is_noise
from ocr.rules.rule import FieldRule, Reading

# Cutting a text into parts is tried up to this many characters (a row's values are short).
MAX_SPLIT_CHARACTERS = 24
# Cut between characters, every value but the last is this short (the sex: 男, 女): a longer
# one (个人独资 in 个人独资企业, 广东 in 广东省深圳市) may as well be the start of the last.
MAX_LEADING_CHARACTERS = 1
# Joining words into values is tried up to this many words (a row's values are few; a longer
# text is a card read as one string, whose joins would be too many to try).
MAX_SPLIT_TOKENS = 8
# Rows of more labels than this are not split by characters (the cuts grow too many).
MAX_SPLIT_LABELS = 4


def _reads(rules: Sequence[FieldRule], parts: Sequence[str]) -> list[Reading] | None:
    """Each part's reading by its rule, where every one reads."""
    readings = []
    for rule, part in zip(rules, parts, strict=True):
        reading = rule.read(part)
        if reading is None:
            return None
        readings.append(reading)
    return readings


def _only_fit(
    rules: Sequence[FieldRule], units: list[str], sep: str, *, longest_lead: int
) -> list[tuple[Reading, str]]:
    """The one way of joining ``units`` into as many parts as ``rules`` where every part reads
    (every part but the last of at most ``longest_lead`` units); [] where none does or more
    than one does."""
    fits: list[tuple[Reading, str]] = []
    count = 0
    for cuts in itertools.combinations(range(1, len(units)), len(rules) - 1):
        bounds = (0, *cuts, len(units))
        if any(b - a > longest_lead for a, b in itertools.pairwise(bounds[:-1])):
            continue
        parts = [sep.join(units[a:b]) for a, b in itertools.pairwise(bounds)]
        readings = _reads(rules, parts)
        if readings is None:
            continue
        count += 1
        if count > 1:
            return []
        fits = list(zip(readings, parts, strict=True))
    return fits


def split_row_values(
    rules: Sequence[FieldRule], text: str, *, by_characters: bool
) -> list[tuple[Reading, str]]:
    """(reading, the text read) for each of ``rules`` in order, from the values of a row printed
    after it; [] where the text cannot be split so that every value fits its label, or can be
    split in more than one such way.

    Values apart by spaces are kept whole where that fits ("男 汉族"); otherwise, where
    ``by_characters``, the text is cut between characters ("女汉").
    """
    if len(rules) < 2 or len({rule.keys for rule in rules}) < len(rules):
        # One field's labels in two languages (姓名 Name) are not a row of fields.
        return []
    # Stray marks OCR read between the values (男汉 国徽) are none of them.
    tokens = [t for t in text.split() if not is_noise(t)]
    if len(rules) <= len(tokens) <= MAX_SPLIT_TOKENS:
        fits = _only_fit(rules, tokens, " ", longest_lead=len(tokens))
        if fits:
            return fits
    chars = [c for t in tokens for c in t]
    if (
        not by_characters
        # A stop label's reader takes any text: any cut would fit it.
        or not all(rule.keys for rule in rules)
        or len(rules) > MAX_SPLIT_LABELS
        or not len(rules) <= len(chars) <= MAX_SPLIT_CHARACTERS
    ):
        return []
    return _only_fit(rules, chars, "", longest_lead=MAX_LEADING_CHARACTERS)


def is_whole_row(line: str, pieces: Sequence[Piece], row_length: int) -> bool:
    """Whether a row of labels is its whole line: no text before it, no other labels, and no
    second column merged in. Only such a row's values are cut between characters: the values
    after labels ending a line of other pairs ("国籍中国Nationality住址" / "北京市朝阳区"), or
    after one column of two ("名称   类型"), need not be the row's."""
    return (
        GAP not in line
        and not pieces[0].text
        and len(pieces) - 1 == row_length
        and not any(p.text for p in pieces[1:-1])
    )


def cuts_characters(line: str, row: Sequence[Piece], before: Piece) -> bool:
    """Whether the values after a row of labels on its own line may be cut between characters:
    not where a second column is merged into the line, nor where the row starts with a label
    repeating the one before it in its other language (国籍中国Nationality住址 北京市...)."""
    return GAP not in line and row[0].rule != before.rule
