"""Values printed before their labels on the label's own line: a label and the name before it
(西安示例有限公司名称), and a whole card read as one string, where a label with no text after it
follows its value ("罗桂超 姓名 性别 女").

``ValuesBeforeLabels`` is a part of the label engine's ``Extraction`` (``ocr.rules.engine``): its
methods read the engine's rules, lines and found values, and fill them through ``assign``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from ocr.rules.labels import Piece
from ocr.rules.lines import GAP
from ocr.rules.rule import FieldRule, Reading
from ocr.rules.texts import DocumentLines

# A value printed before its label (OCR put the lines out of order) is less sure than one after.
BEFORE_LABEL = 0.7

_SPACES_RE = re.compile(r"\s+")


class ValuesBeforeLabels:
    """The steps of the engine that read a value printed before its label on one line."""

    # Set by the engine's Extraction.
    rules: Sequence[FieldRule]
    doc: DocumentLines
    assign: Callable[..., bool]

    def _read_before_label(self, idx: int, pieces: list[Piece]) -> bool:
        """Whether the label took the value printed before it on its line (西安示例有限公司名称)."""
        if len(pieces) != 2 or pieces[1].text or not pieces[0].text:
            return False
        if GAP in self.doc.cleaned[idx]:  # two columns merged: the text is the other column's
            return False
        reading = self.rules[pieces[1].rule].read(pieces[0].text)
        if reading is None:
            return False
        return self.assign(
            reading,
            rule=pieces[1].rule,
            label_line=idx,
            value_line=idx,
            base=BEFORE_LABEL,
            raw=pieces[0].text,
        )

    def _read_values_before_labels(self, idx: int, pieces: list[Piece]) -> list[Piece]:
        """A label with no text after it on a line of several (a whole card read as one string)
        takes the value printed just before it: the end of the text before it, where that end
        fits the label and the rest still fits the label it follows ("住址 北京市朝阳区光明巷
        332号 110105197203075235 公民身份号码"). Returns the pieces left to scan."""
        if GAP in self.doc.cleaned[idx]:  # two columns merged: the text is the other column's
            return pieces
        kept = [pieces[0]]
        for piece in pieces[1:]:
            before = kept[-1]
            if piece.text.strip() or not before.text:
                kept.append(piece)
                continue
            split = self._value_before(before, piece)
            if split is None:
                kept.append(piece)
                continue
            head, tail, reading = split
            if self.assign(
                reading,
                rule=piece.rule,
                label_line=idx,
                value_line=idx,
                base=BEFORE_LABEL,
                raw=tail,
            ):
                before.text = head
                continue
            kept.append(piece)
        return kept

    def _value_before(self, before: Piece, piece: Piece) -> tuple[str, str, Reading] | None:
        """(the rest, the end, the end's reading) of the text before a label, where its end is
        the label's value; the shortest such end."""
        text = before.text
        # Text before the first label is no label's: all of it may be the value.
        cuts = [m.end() for m in _SPACES_RE.finditer(text)]
        cuts = sorted(cuts, reverse=True) + ([0] if before.rule is None else [])
        whole = self.rules[before.rule].read(text) if before.rule is not None else None
        for cut in cuts:
            head, tail = text[:cut].strip(), text[cut:].strip()
            reading = self.rules[piece.rule].read(tail) if tail else None
            if reading is None or (
                before.rule is not None and not self._keeps(before, head, whole)
            ):
                continue
            return head, tail, reading
        return None

    def _keeps(self, before: Piece, head: str, whole: Reading | None) -> bool:
        """Whether ``head`` alone is still a value of the label it follows, with every field the
        whole text gave (a period 2011.10.03 - 长期 cut to 2011.10.03 - is not)."""
        reading = self.rules[before.rule].read(head) if head else None
        return reading is not None and (whole is None or set(reading) >= set(whole))
