"""A document's lines as the label engine walks them: which are noise, how far apart lines are,
and the texts in them that no label has taken yet."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ocr.rules.lines import GAP, clean_line, is_noise


@dataclass
class FreeText:
    """A text no label has taken yet (``consumed`` once one takes it)."""

    line: int
    text: str
    whole_line: bool
    consumed: bool = False
    leading: bool = False  # text before the first label of its line


class DocumentLines:
    """The cleaned lines of one document, which of them are noise, and its free texts."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.cleaned = [clean_line(line) for line in lines]
        self.noise = [is_noise(text) for text in self.cleaned]
        self.free: list[FreeText] = []
        # signal_before[j]: how many of the lines before line j are not noise.
        self._signal_before = list(itertools.accumulate((not n for n in self.noise), initial=0))

    def __len__(self) -> int:
        return len(self.cleaned)

    def add(self, line: int, text: str, *, whole_line: bool, leading: bool = False) -> None:
        """A text of line ``line`` that no label has taken."""
        self.free.append(FreeText(line, text, whole_line=whole_line, leading=leading))

    def add_unlabelled(self, line: int, text: str) -> None:
        """A line without labels: one text, or one per column where OCR merged columns."""
        parts = [p for p in text.split(GAP) if not is_noise(p)]
        if len(parts) == 1:
            self.add(line, parts[0], whole_line=True)
        elif len(parts) > 1:
            for i, part in enumerate(parts):
                self.add(line, part, whole_line=False, leading=i == 0)

    def whole_lines(self, *, untaken: bool) -> dict[int, FreeText]:
        """{line: its text} of the lines that are one free text (only those not taken yet where
        ``untaken``)."""
        return {f.line: f for f in self.free if f.whole_line and not (untaken and f.consumed)}

    def lines_within(self, line: int, *, before: int, after: int) -> tuple[int, int]:
        """(first, last): the lines at most ``before`` lines that are not noise before ``line``
        and ``after`` after it (see ``distance``), ``line`` itself included."""
        signal = self._signal_before
        here = signal[line + 1]
        first = bisect.bisect_left(signal, here - before) - 1
        last = bisect.bisect_right(signal, here + after) - 2
        return max(first, 0), min(max(last, line), len(self.cleaned) - 1)

    def distance(self, a: int, b: int) -> int:
        """How many lines that are not noise lie after the first of a and b, up to the second."""
        lo, hi = min(a, b), max(a, b)
        return self._signal_before[hi + 1] - self._signal_before[lo + 1]

    def signal_between(self, a: int, b: int) -> int:
        """How many lines from a to b (both included) are not noise."""
        lo, hi = sorted((a, b))
        return sum(1 for j in range(lo, hi + 1) if not self.noise[j])

    def next_signal(self, j: int) -> int:
        """The first line from ``j`` on that is not noise (past the end where there is none)."""
        while j < len(self.cleaned) and self.noise[j]:
            j += 1
        return j

    def previous_signal(self, j: int) -> int:
        """The last line up to ``j`` that is not noise (-1 where there is none)."""
        while j >= 0 and self.noise[j]:
            j -= 1
        return j

    def taker(self, parts: list[str]) -> LineTaker:
        """A LineTaker adding to ``parts`` the texts still free now."""
        return LineTaker(parts, self.free)


class LineTaker:
    """The texts a wrapping value may take, by line: whole lines and text that starts a line
    before its labels (two columns merged), as they were free when the taker was made."""

    def __init__(self, parts: list[str], free: Sequence[FreeText]) -> None:
        self._parts = parts
        self._by_line = {f.line: f for f in free if (f.whole_line or f.leading) and not f.consumed}

    def has(self, line: int) -> bool:
        """Whether the line had a text to take (taken since or not)."""
        return line in self._by_line

    def is_leading(self, line: int) -> bool:
        """Whether the line's text comes before labels on its line."""
        return line in self._by_line and self._by_line[line].leading

    def take(self, line: int, test: Callable[[str], bool]) -> bool:
        """Add the line's text to the parts where ``test`` accepts it and nothing took it."""
        f = self._by_line.get(line)
        if f is None or f.consumed or not test(f.text):
            return False
        f.consumed = True
        self._parts.append(f.text)
        return True
