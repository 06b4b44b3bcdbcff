"""Finding printed labels in an OCR line and splitting the line into label and text pieces."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ocr.normalize import without_spaces
from ocr.rules.lines import GAP
from ocr.rules.rule import FieldRule

# A label of this many characters or more is a label wherever it stands; a shorter one glued to
# the text before it (名称 in 企业名称) is part of that text.
_ANYWHERE_LABEL_WEIGHT = 3
# A label this few characters past the previous label still follows it (性别男民族汉).
_MAX_TEXT_BETWEEN_LABELS = 2
# Characters before a label that separate it from the text before it.
_SEPARATORS = " :：/|()（）"
# Marks that may stand between labels, or before the first one, without being text.
_MARKS = " |丨一—-'·.:："
# Marks trimmed off the ends of every piece of text.
_PIECE_EDGES = " :：|丨"

_LABEL_HALVES_RE = re.compile(r"\s*/\s*")
_LATIN_RE = re.compile(r"[A-Za-z]")


def _label_regex(label: str) -> str:
    """Regex of a printed label: Chinese letters may be spaced apart, Latin words are whole."""
    parts = []
    for part in _LABEL_HALVES_RE.split(label.strip()):
        if _LATIN_RE.search(part):
            words = [re.escape(w).replace(r"\.", r"\.?") for w in part.split()]
            parts.append(r"(?<![A-Za-z])" + r"\s*".join(words) + r"(?![A-Za-z])")
        else:
            parts.append(r"\s*".join(re.escape(c) for c in part if not c.isspace()))
    return r"\s*/\s*".join(parts)


def _label_weight(label: str) -> int:
    return len(without_spaces(label))


def _first_character(label: str) -> str | None:
    """The character every match of the label's regex starts with (in either case); None where
    it may start otherwise (a mark, an optional character, white space)."""
    first = label.strip()[:1]
    return first if first.isalnum() else None


@functools.lru_cache(maxsize=256)
def _compile_labels(
    labels: tuple[str, ...],
) -> tuple[tuple[int, ...], tuple[int, ...], re.Pattern | None, re.Pattern | None]:
    """For labels in rule order: the order to look for them in (heaviest first), their weights
    in that order, one regex with a group per label in that order (None for no labels), and a
    regex of the characters a label starts with (None where one may start with any).

    The alternation is tried at every position of a line, and Python's regex engine cannot
    skip ahead on its own (the labels are matched ignoring case, some behind a look-behind):
    jumping to the next character a label starts with makes a long line several times faster.
    Cached: a document type's rules come with the same labels on every request.
    """
    weights = [_label_weight(label) for label in labels]
    order = tuple(sorted(range(len(labels)), key=lambda k: -weights[k]))
    alternation = "|".join(f"({_label_regex(labels[k])})" for k in order)
    regex = re.compile(alternation, re.IGNORECASE) if labels else None
    firsts = [_first_character(label) for label in labels]
    starts = None
    if labels and all(firsts):
        starts = re.compile(f"[{re.escape(''.join(sorted(set(firsts))))}]", re.IGNORECASE)
    return order, tuple(weights[k] for k in order), regex, starts


@dataclass
class Piece:
    """A label and the text after it, up to the next label."""

    rule: int | None  # index of the label's rule; None for text before the first label
    text: str


class LabelMatcher:
    """Finds the labels of a set of rules in a line."""

    def __init__(self, rules: Sequence[FieldRule]) -> None:
        owners = [i for i, rule in enumerate(rules) for _ in rule.labels]
        order, self._weights, self._regex, self._starts = _compile_labels(
            tuple(label for rule in rules for label in rule.labels)
        )
        self._rules = rules
        self._groups = [owners[k] for k in order]

    def tokenize(self, line: str) -> list[Piece]:
        """Split a cleaned line into the text before the first label and (label, text) pieces."""
        pieces = [Piece(None, "")]
        if self._regex is None:
            pieces[0].text = line
            return pieces
        pos = 0
        for m in self._matches(line):
            group = m.lastindex - 1 if m.lastindex else 0
            last = pieces[-1]
            gap = line[pos : m.start()]
            if last.rule is not None and self._rules[last.rule].swallow_line and GAP not in gap:
                # The rest of the line is the label's, up to a gap: after it, another column
                # merged into the line (经营范围 ...；   法定代表人 林平).
                break
            if not self._is_label(m, line=line, weight=self._weights[group], last=last, gap=gap):
                continue
            last.text += gap
            pieces.append(Piece(self._groups[group], ""))
            pos = m.end()
        pieces[-1].text += line[pos:]
        for piece in pieces:
            piece.text = piece.text.strip(_PIECE_EDGES)
        return pieces

    def _matches(self, line: str) -> Iterator[re.Match]:
        """What ``self._regex.finditer(line)`` gives, tried only where a label may start."""
        if self._starts is None:
            yield from self._regex.finditer(line)
            return
        pos, end = 0, len(line)
        while pos < end:
            start = self._starts.search(line, pos)
            if start is None:
                return
            m = self._regex.match(line, start.start())
            if m is None:
                pos = start.start() + 1
                continue
            yield m
            pos = m.end()

    @staticmethod
    def _is_label(m: re.Match, *, line: str, weight: int, last: Piece, gap: str) -> bool:
        """Whether a label's match stands as a label rather than inside a word of the text."""
        before = line[m.start() - 1] if m.start() else " "
        return (
            m.start() == 0
            or before in _SEPARATORS
            # A Chinese label right after a number that ends the value before it (证号3201...5姓名),
            # or ending its line after its value (西安示例有限公司名称).
            or (before.isdigit() and not _LATIN_RE.match(m.group()))
            or (m.end() == len(line.rstrip()) and not _LATIN_RE.match(m.group()))
            or bool(_LATIN_RE.match(m.group()))
            or weight >= _ANYWHERE_LABEL_WEIGHT
            or (last.rule is not None and len(gap.strip()) <= _MAX_TEXT_BETWEEN_LABELS)
            or not (last.text + gap).strip(_MARKS)
        )


_CJK_LABEL_RE = re.compile(r"[\u3400-\u9fff]{2,}")
_CJK_RUN_RE = re.compile(r"[\u3400-\u9fff]+")
# After a label's second half at the start of a line: a separator, then its value.
_AFTER_HALF_RE = re.compile(r"\s*[:：]?\s+|\s*[:：]\s*")
# A line that is the first part of a label alone is taken for the label from this many
# characters on; a shorter one only where it is the whole line.
_MIN_PREFIX_IN_LINE = 3


def _chinese_labels(rules: Sequence[FieldRule]) -> dict[str, int]:
    """{label: its rule's index} of the labels written in Chinese only (spaces removed)."""
    out: dict[str, int] = {}
    for i, rule in enumerate(rules):
        for label in rule.labels:
            compact = without_spaces(label)
            if _CJK_LABEL_RE.fullmatch(compact):
                out.setdefault(compact, i)
    return out


def _one_rule(labels: dict[str, int], chosen: list[str]) -> str | None:
    """The shortest of ``chosen`` where they all belong to one rule, else None."""
    if not chosen or len({labels[label] for label in chosen}) != 1:
        return None
    return min(chosen, key=len)


def restore_split_labels(lines: Sequence[str], rules: Sequence[FieldRule]) -> list[str]:
    """Lines with the labels OCR split put back together (the line count kept):

    - a label's first part alone on a line with the rest starting the next (住 / 所 ...), joined;
    - a label's first part alone on a line (类, 公民身份号), read as the label;
    - a line starting with a label's second part and then its value (称 福州示例..., 所 福建...),
      given the first part.
    """
    labels = _chinese_labels(rules)
    out = [unicodedata.normalize("NFKC", line).strip() for line in lines]
    for i, line in enumerate(out):
        compact = without_spaces(line)
        if not compact or compact in labels:
            continue
        firsts = [label for label in labels if label.startswith(compact) and label != compact]
        following = without_spaces(out[i + 1]) if i + 1 < len(out) else ""
        joined = [f for f in firsts if following.startswith(f[len(compact) :])]
        if _one_rule(labels, joined):
            label = _one_rule(labels, joined)
            rest = _drop_chars(out[i + 1], len(label) - len(compact))
            out[i], out[i + 1] = f"{label} {rest}".strip(), ""
        elif _one_rule(labels, firsts) and (len(compact) >= _MIN_PREFIX_IN_LINE or len(line) <= 2):
            out[i] = _one_rule(labels, firsts) or line
        else:
            out[i] = _with_first_half(line, labels, rules)
    return out


def _drop_chars(text: str, count: int) -> str:
    """``text`` without its first ``count`` characters that are not white space."""
    seen = 0
    for pos, char in enumerate(text):
        if seen == count:
            return text[pos:].strip()
        if not char.isspace():
            seen += 1
    return ""


def _with_first_half(line: str, labels: dict[str, int], rules: Sequence[FieldRule]) -> str:
    """A line starting with the second part of a label, then a separator (or, glued, a text its
    field's reader accepts): the whole label."""
    if any(line.startswith(label) for label in labels):
        return line
    for length in (3, 2, 1):
        head = line[:length]
        if not _CJK_RUN_RE.fullmatch(head):
            continue
        label = _one_rule(labels, [k for k in labels if k.endswith(head) and k != head])
        if label is None:
            continue
        after = _AFTER_HALF_RE.match(line, length)
        if after is not None:
            return f"{label} {line[after.end() :]}"
        if rules[labels[label]].read(line[length:]) is not None:
            return f"{label} {line[length:]}"
    return line
