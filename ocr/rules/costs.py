"""What pairing a waiting label with a free text costs. The label engine pairs labels and texts
so that the total cost is least: a label takes the nearest text its reader accepts, following
lines before preceding ones.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Callable, Container, Sequence
from typing import TypeVar

from ocr.rules.matching import DEFAULT_UNMATCHED_COST
from ocr.rules.rule import FieldRule, Reading
from ocr.rules.texts import DocumentLines, FreeText

logger = logging.getLogger(__name__)

# The pairing of waiting labels with texts looks at no more than the first of each printed: a
# document has a few dozen at most, and a text of thousands of labels and texts (within the
# size limits) would otherwise cost the pairing seconds of the event loop.
MAX_WAITING_LABELS = 48
MAX_FREE_TEXTS = 240

# Each line that is not noise between a label and a text costs 1; these are added where they
# apply.
# A text printed before its label: following lines are tried first.
BEFORE_LABEL_COST = 0.5
# A text on the label's own line, but past another label or a gap: the label took nothing there.
SAME_LINE_COST = 0.75
# A stop label gives way to a field's label at the same distance.
STOP_LABEL_COST = 0.3
# A text that does not start a value the way the field's values start (an address's province).
NOT_PREFERRED_COST = 1.5
# Per position of the text in the document: of equal costs, the earlier text wins.
TIE_BREAK_COST = 1e-6
# A field's label should find its value; a stop label may well stay unmatched.
FIELD_UNMATCHED_COST = DEFAULT_UNMATCHED_COST
STOP_UNMATCHED_COST = 2.0


def unmatched_cost(rule: FieldRule) -> float:
    """What leaving the rule's label without a value costs."""
    return STOP_UNMATCHED_COST if not rule.keys else FIELD_UNMATCHED_COST


def _placement(
    *, rule: FieldRule, label_line: int, text: FreeText, doc: DocumentLines
) -> tuple[int, float] | None:
    """(lines between, extra cost) of a text as the label's value; None where out of reach."""
    if text.line > label_line:
        d = doc.distance(label_line, text.line)
        return (d, 0.0) if d <= rule.max_after else None
    if text.line < label_line:
        d = doc.distance(text.line, label_line)
        return (d, BEFORE_LABEL_COST) if d <= rule.max_before else None
    if not text.whole_line:
        return 0, SAME_LINE_COST
    return None


def pairing_cost(
    *,
    rule: FieldRule,
    label_line: int,
    text: FreeText,
    position: int,
    doc: DocumentLines,
    filled: Container[str],
    read: Callable[[str], Reading | None] | None = None,
) -> float | None:
    """The cost of taking ``text`` (the ``position``-th free text of ``doc``) as the value of
    the rule's label on ``label_line``; None where it cannot be: taken, out of reach, not read
    by the rule (or by ``read``, the rule's reader remembering its answers), or filling only
    fields in ``filled``."""
    if text.consumed:
        return None
    placement = _placement(rule=rule, label_line=label_line, text=text, doc=doc)
    if placement is None:
        return None
    d, extra = placement
    reading = (read or rule.read)(text.text)
    if reading is None or (reading and all(k in filled for k in reading)):
        return None
    stop_penalty = STOP_LABEL_COST if not rule.keys else 0.0
    worse = NOT_PREFERRED_COST if rule.prefer is not None and not rule.prefer(text.text) else 0.0
    return d + extra + stop_penalty + worse + TIE_BREAK_COST * position


Label = TypeVar("Label")


def first_to_pair(labels: list[Label], *, texts: int) -> list[Label]:
    """The first MAX_WAITING_LABELS of ``labels``; a warning where a text is cut short so."""
    if len(labels) > MAX_WAITING_LABELS or texts > MAX_FREE_TEXTS:
        logger.warning(
            "A long text: %d waiting labels and %d texts; only the first %d and %d paired",
            len(labels),
            texts,
            MAX_WAITING_LABELS,
            MAX_FREE_TEXTS,
        )
    return labels[:MAX_WAITING_LABELS]


def pairing_costs(
    *,
    labels: Sequence[tuple[int, FieldRule, int]],
    doc: DocumentLines,
    filled: Container[str],
) -> dict[tuple[int, int], float]:
    """{(label, text): cost} of every pair that can be (``pairing_cost``) of the ``labels``
    (rule index, rule, label line) and the first MAX_FREE_TEXTS free texts of ``doc``, by
    their positions in each.

    Each label looks only at the texts on the lines within its reach, and each rule reads a
    text once however many of its labels look at it: on a long document most labels reach a
    few of its texts."""
    free = doc.free
    by_line = sorted(range(min(len(free), MAX_FREE_TEXTS)), key=lambda fi: free[fi].line)
    lines = [free[fi].line for fi in by_line]
    readings: dict[tuple[int, str], Reading | None] = {}
    costs: dict[tuple[int, int], float] = {}
    for li, (index, rule, line) in enumerate(labels):

        def read(text: str, *, index: int = index, rule: FieldRule = rule) -> Reading | None:
            if (index, text) not in readings:
                readings[index, text] = rule.read(text)
            return readings[index, text]

        first, last = doc.lines_within(line, before=rule.max_before, after=rule.max_after)
        start, end = bisect.bisect_left(lines, first), bisect.bisect_right(lines, last)
        for fi in sorted(by_line[start:end]):
            cost = pairing_cost(
                rule=rule,
                label_line=line,
                text=free[fi],
                position=fi,
                doc=doc,
                filled=filled,
                read=read,
            )
            if cost is not None:
                costs[li, fi] = cost
    return costs
