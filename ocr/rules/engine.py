"""The label engine: pairs printed labels with their values in OCR lines.

Phone OCR gives lines in an order that only roughly follows the card: a value may sit on its
label's line, on the next line or the one before it; several label/value pairs may share a line;
labels are letter-spaced, bilingual or glued to their values; addresses wrap. The engine:

1. splits each line into label pieces and text pieces (``LabelMatcher.tokenize``),
2. gives each label the text on its own line when the field's reader accepts it,
3. pairs the remaining labels with the remaining lines, nearest first and following lines before
   preceding ones, asking each field's reader whether the line has the shape of its value,
4. lets wrapping fields (addresses) take their continuation lines, and
5. lets distinctive values (codes with check digits) be found by pattern where no label led to them.

A field nothing leads to stays None: the engine never guesses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ocr.confidence import PASSED_CHECK_FLOOR
from ocr.rules.before import BEFORE_LABEL, ValuesBeforeLabels
from ocr.rules.costs import first_to_pair, pairing_costs, unmatched_cost
from ocr.rules.labels import LabelMatcher, Piece
from ocr.rules.lines import GAP, is_noise
from ocr.rules.matching import min_cost_matching
from ocr.rules.rows import cuts_characters, is_whole_row, split_row_values
from ocr.rules.rule import Candidate, FieldRule, PatternRule, Reading
from ocr.rules.texts import DocumentLines, FreeText, LineTaker

# The engine's belief (0..1) in a value, by how it found the value.
# A value printed on its label's own line is rarely anything else.
ON_LABEL_LINE = 0.9
# Values paired in order with a row or a stack of labels, every value fitting its label.
PAIRED_WITH_ROW = 0.85
# A value on a line after its label: this, less NEAR_LABEL_STEP per unit of pairing cost.
NEAR_LABEL = 0.88
# How much each unit of pairing cost (a line between, a worse start) takes off NEAR_LABEL.
NEAR_LABEL_STEP = 0.03
# However far a value after its label, it stays at least this likely.
NEAR_LABEL_FLOOR = 0.6
# A value joined from continuation lines is no surer than this: a join may take a wrong line.
WRAPPED_CEILING = 0.85
# A value cut short and finished by a line printed elsewhere is no surer than this.
FINISHED_CUT_CEILING = 0.75
# A value found by its shape alone, with no label leading to it (its check digit holds).
BY_PATTERN = 0.75
# A value whose check digit holds is very rarely wrong: it is at least this likely.
VERIFIED_FLOOR = PASSED_CHECK_FLOOR
# A value whose check digit fails keeps this share of its belief.
FAILED_CHECK_FACTOR = 0.6

# A field two labelled lines give two values (one may be forged) is no surer than this.
CONFLICTING_LABELS = 0.5

# How many lines (not noise) a wrapped end may lie from the value it finishes.
MAX_CUT_TAIL_DISTANCE = 4


@dataclass
class _Pending:
    """A label still waiting for its value."""

    rule: int
    line: int
    order: int


@dataclass
class _Found:
    """A label that found its value: where, and the texts the value was read from."""

    rule: int
    label_line: int
    last_line: int
    parts: list[str] = field(default_factory=list)


def _confidence(base: float, verified: bool | None) -> float:
    if verified is True:
        return max(base, VERIFIED_FLOOR)
    if verified is False:
        return round(base * FAILED_CHECK_FACTOR, 3)
    return base


class Extraction(ValuesBeforeLabels):
    """One run of the engine over one document's lines: the state its steps share.

    ``run(patterns)`` takes the steps of the module docstring in turn and returns
    {field key: Candidate} for the fields found.
    """

    def __init__(self, *, lines: Sequence[str], rules: Sequence[FieldRule]) -> None:
        self.rules = rules
        self.doc = DocumentLines(lines)
        self.matcher = LabelMatcher(rules)
        self.out: dict[str, Candidate] = {}
        self.pending: list[_Pending] = []
        self.found: list[_Found] = []
        self.label_rows: list[list[_Pending]] = []
        self.lone_labels: dict[int, _Pending] = {}  # lines that are one label and nothing else
        self.used: set[int] = set()  # orders of the pending labels a row or stack paired
        self.on_label_line: set[str] = set()  # fields read on their label's own line
        self.conflicts: set[str] = set()

    def run(self, patterns: Sequence[PatternRule] = ()) -> dict[str, Candidate]:
        """Every step in turn; the fields found."""
        self.scan()
        for item in list(self.found):
            self.continue_value(item)
        for row in self.label_rows:
            self.pair_columns(row)
        self.pair_stacks(self.stacks())
        self.match_near_labels()
        for item in self.found:
            self.finish_cut_value(item)
        self.find_patterns(patterns)
        for key in self.conflicts:
            self.out[key].confidence = min(self.out[key].confidence, CONFLICTING_LABELS)
            self.out[key].source = "conflict"
        return self.out

    # --- shared steps -------------------------------------------------------------------------

    def assign(
        self,
        reading: Reading,
        *,
        rule: int,
        label_line: int,
        value_line: int,
        base: float,
        raw: str,
    ) -> bool:
        """Fill the fields of ``reading`` not yet filled (False where none); note conflicts."""
        if base == ON_LABEL_LINE:
            for key, (value, _) in reading.items():
                if key in self.on_label_line and self.out[key].value != value:
                    self.conflicts.add(key)
                self.on_label_line.add(key)
        new = {k: v for k, v in reading.items() if k not in self.out}
        if reading and not new:
            return False
        for key, (value, verified) in new.items():
            self.out[key] = Candidate(value, _confidence(base, verified), "label")
        self.found.append(_Found(rule, label_line, value_line, [raw]))
        return True

    # --- labels and the values on their own lines ---------------------------------------------

    def scan(self) -> None:
        """Split every line into labels and texts; give labels the values on their lines."""
        for idx, text in enumerate(self.doc.cleaned):
            if not self.doc.noise[idx]:
                self._scan_line(idx, text)

    def _scan_line(self, idx: int, text: str) -> None:
        pieces = self.matcher.tokenize(text)
        if len(pieces) == 1:
            self.doc.add_unlabelled(idx, text)
            return
        if self._read_before_label(idx, pieces):
            return
        pieces = self._read_values_before_labels(idx, pieces)
        if pieces[0].text and not is_noise(pieces[0].text):
            self.doc.add(idx, pieces[0].text, whole_line=False, leading=True)
        self._scan_labels(idx, self._pair_rows_on_line(idx, pieces))

    def _pair_rows_on_line(self, idx: int, pieces: list[Piece]) -> list[Piece]:
        """Rows of labels read together with their values after them ("性别 民族 女 汉",
        "性别民族女汉"), anywhere on the line: each row whose every value fits its label takes
        them. Returns the pieces left to scan."""
        left = [pieces[0]]
        start = 1
        for end in range(1, len(pieces)):
            if not pieces[end].text:
                continue
            row, before, start = pieces[start : end + 1], pieces[start - 1], end + 1
            fits = split_row_values(
                [self.rules[p.rule] for p in row],
                row[-1].text,
                by_characters=cuts_characters(self.doc.cleaned[idx], row, before),
            )
            if not fits:
                left += row
                continue
            for piece, (reading, token) in zip(row, fits, strict=True):
                self.assign(
                    reading,
                    rule=piece.rule,
                    label_line=idx,
                    value_line=idx,
                    base=PAIRED_WITH_ROW,
                    raw=token,
                )
        return left + pieces[start:]

    def _scan_labels(self, idx: int, pieces: list[Piece]) -> None:
        """Each label takes the text after it on its line where its reader accepts it; the
        others wait for a value on another line."""
        # Labels in a row with no values (at the end of the line) may head a row of values.
        row_start = len(pieces)
        while row_start > 1 and not pieces[row_start - 1].text:
            row_start -= 1
        heads_row = len(pieces) - row_start >= 2
        if heads_row:
            self.label_rows.append([])
        for n, piece in enumerate(pieces[1:], start=1):
            if self._read_on_label_line(idx, piece):
                continue
            pending = _Pending(piece.rule, idx, len(self.pending))
            self.pending.append(pending)
            if n >= row_start and heads_row:
                self.label_rows[-1].append(pending)
            if len(pieces) == 2 and not pieces[0].text and not piece.text:
                self.lone_labels[idx] = pending

    def _read_on_label_line(self, idx: int, piece: Piece) -> bool:
        """Whether the label took the text after it on its line; text it cannot read is left
        for other labels."""
        rule = self.rules[piece.rule]
        if GAP in piece.text:
            # Two columns merged: the label's value is the part before the gap (unless only
            # the whole reads as one).
            first, *others = piece.text.split(GAP)
            if rule.read(first) is not None or rule.read(piece.text) is None:
                piece.text = first.strip()
                for other in others:
                    if other.strip():
                        self.doc.add(idx, other.strip(), whole_line=False)
        if not piece.text or is_noise(piece.text):
            return False
        reading = rule.read(piece.text)
        if reading is None:
            self.doc.add(idx, piece.text, whole_line=False)
            return False
        return self.assign(
            reading,
            rule=piece.rule,
            label_line=idx,
            value_line=idx,
            base=ON_LABEL_LINE,
            raw=piece.text,
        )

    # --- wrapping values ----------------------------------------------------------------------

    def continue_value(self, item: _Found) -> None:
        """A wrapping value takes its continuation lines, and wrapped ends printed before them."""
        rule = self.rules[item.rule]
        if rule.continues is None:
            return
        self._take_rest_of_line(item, rule)
        taker = self.doc.taker(item.parts)
        self._follow_value(item, rule, taker, continues=rule.continues)
        if rule.before_tail is not None:
            # Wrapped ends printed between the label and a value found on a later line, or
            # before the label on its own line.
            for j in range(item.label_line, item.last_line + 1):
                taker.take(j, rule.before_tail)
            taker.take(self.doc.previous_signal(item.label_line - 1), rule.before_tail)
        if len(item.parts) > 1:
            reading = rule.read("".join(item.parts)) or {}
            for key, (value, _) in reading.items():
                confidence = min(self.out[key].confidence, WRAPPED_CEILING)
                self.out[key] = Candidate(value, confidence, "label")

    def _take_rest_of_line(self, item: _Found, rule: FieldRule) -> None:
        """A value cut short whose end OCR merged into its line beyond a gap (住址 北京市朝阳
        区科技园南路247号21   号楼4单元882室) takes that end."""
        rest = [f for f in self.doc.free if f.line == item.last_line and not f.whole_line]
        rest = [f for f in rest if not (f.leading or f.consumed or f.text in item.parts)]
        complete = rule.complete is not None and rule.complete("".join(item.parts))
        if rest and complete and rule.extends is not None:
            complete = not rule.extends(rest[0].text)
        if rest and not complete and rule.continues is not None and rule.continues(rest[0].text):
            rest[0].consumed = True
            item.parts.append(rest[0].text)

    def _follow_value(
        self,
        item: _Found,
        rule: FieldRule,
        taker: LineTaker,
        *,
        continues: Callable[[str], bool],
    ) -> None:
        """Take the continuation lines after the value (those ``continues`` accepts)."""
        j, skipped = item.last_line + 1, False
        while j < len(self.doc):
            if self.doc.noise[j] or taker.take(j, continues):
                if taker.is_leading(j):
                    break
                j += 1
                continue
            # Another column's line may sit between a value and its wrapped end; step over one
            # labelled line, but only to a line that ends the way the value ends.
            if taker.has(j) or skipped or len(item.parts) > 1 or rule.before_tail is None:
                break
            skipped = True
            j = self.doc.next_signal(j + 1)
            if not taker.take(j, rule.before_tail):
                break
            j += 1

    def finish_cut_value(self, item: _Found) -> None:
        """A value visibly cut short (an address ending in 路2) takes the nearest left-over line
        that ends the way such values end (07号19号楼), when OCR put other lines in between."""
        rule = self.rules[item.rule]
        if rule.complete is None or rule.before_tail is None or not rule.keys:
            return
        key = rule.keys[0]
        if key not in self.out or rule.complete(self.out[key].value):
            return
        anchor = round((item.label_line + item.last_line) / 2)
        near = [
            f
            for f in self.doc.free
            if f.whole_line
            and not f.consumed
            and self.doc.signal_between(f.line, anchor) <= MAX_CUT_TAIL_DISTANCE
            and rule.before_tail(f.text)
        ]
        if not near:
            return
        tail = min(near, key=lambda f: (self.doc.signal_between(f.line, anchor), f.line))
        reading = rule.read("".join([*item.parts, tail.text]))
        if reading and key in reading:
            tail.consumed = True
            item.parts.append(tail.text)
            confidence = min(self.out[key].confidence, FINISHED_CUT_CEILING)
            self.out[key] = Candidate(reading[key][0], confidence, "label")

    # --- rows and stacks of labels, then labels and texts nearest first -----------------------

    def pair_columns(self, row: list[_Pending]) -> None:
        """A line of labels only ("性别 民族") over a line of as many values ("男 汉"): pair them
        column by column, provided every value fits its label."""
        line = row[0].line
        by_line = self.doc.whole_lines(untaken=True)
        for step in (1, -1):
            j = line + step
            while 0 <= j < len(self.doc) and self.doc.noise[j]:
                j += step
            values = by_line.get(j)
            if values is None:
                continue
            head = self.doc.cleaned[line]
            whole = is_whole_row(head, self.matcher.tokenize(head), len(row))
            fits = split_row_values(
                [self.rules[p.rule] for p in row], values.text, by_characters=whole
            )
            if not fits:
                continue
            for p, (reading, token) in zip(row, fits, strict=True):
                self._assign_paired(p, reading, value_line=j, raw=token)
            values.consumed = True
            return

    def stacks(self) -> list[list[_Pending]]:
        """Runs of two or more lone labels on consecutive lines (noise between allowed)."""
        stacks: list[list[_Pending]] = []
        previous = -2
        for idx in sorted(self.lone_labels):
            gap_is_noise = all(self.doc.noise[j] for j in range(previous + 1, idx))
            if stacks and gap_is_noise and previous >= 0:
                stacks[-1].append(self.lone_labels[idx])
            else:
                stacks.append([self.lone_labels[idx]])
            previous = idx
        return [s for s in stacks if len(s) >= 2]

    def pair_stacks(self, stacks: list[list[_Pending]]) -> None:
        """Labels on consecutive lines ("号牌号码" / "车辆类型") followed by as many value lines:
        pair them in order, provided every value fits its label."""
        by_line = self.doc.whole_lines(untaken=False)
        for stack in stacks:
            values = self._value_lines_after(stack, by_line)
            if values is None:
                continue
            readings = [self.rules[p.rule].read(f.text) for p, f in zip(stack, values, strict=True)]
            if any(r is None for r in readings):
                continue
            for p, f, reading in zip(stack, values, readings, strict=True):
                self._assign_paired(p, reading, value_line=f.line, raw=f.text)
                f.consumed = True

    def _value_lines_after(
        self, stack: list[_Pending], by_line: dict[int, FreeText]
    ) -> list[FreeText] | None:
        """As many untaken whole lines as the stack has labels, right after it; None where
        there are fewer."""
        j, values = stack[-1].line + 1, []
        while j < len(self.doc) and len(values) < len(stack):
            if not self.doc.noise[j]:
                if j not in by_line or by_line[j].consumed:
                    break
                values.append(by_line[j])
            j += 1
        return values if len(values) == len(stack) else None

    def _assign_paired(self, p: _Pending, reading: Reading, *, value_line: int, raw: str) -> None:
        """A value paired with its label in a row or a stack; the label is done either way."""
        if reading and all(k not in self.out for k in reading):
            self.assign(
                reading,
                rule=p.rule,
                label_line=p.line,
                value_line=value_line,
                base=PAIRED_WITH_ROW,
                raw=raw,
            )
        self.used.add(p.order)

    def match_near_labels(self) -> None:
        """Pair the waiting labels with the untaken texts, the pairing of least total cost."""
        free = self.doc.free
        rows = first_to_pair(self._open_labels(), texts=len(free))
        labels = [(p.rule, self.rules[p.rule], p.line) for p in rows]
        costs = pairing_costs(labels=labels, doc=self.doc, filled=self.out)
        unmatched = [unmatched_cost(self.rules[p.rule]) for p in rows]
        matches = min_cost_matching(len(rows), len(free), costs, unmatched=unmatched)
        for ri, fi in sorted(matches, key=lambda m: costs[m]):
            self._take_match(rows[ri], free[fi], costs[ri, fi])

    def _open_labels(self) -> list[_Pending]:
        """One waiting label per set of fields still empty (the first printed), and stop labels."""
        rows: list[_Pending] = []
        seen: set[tuple[str, ...]] = set()
        for p in self.pending:
            keys = self.rules[p.rule].keys
            if p.order in self.used or (keys and all(k in self.out for k in keys)):
                continue
            if keys and keys in seen:
                continue
            seen.add(keys)
            rows.append(p)
        return rows

    def _take_match(self, p: _Pending, f: FreeText, cost: float) -> None:
        """The label takes the text it was matched with (where it still can)."""
        reading = self.rules[p.rule].read(f.text)
        if f.consumed or reading is None:
            return
        if f.line < p.line:
            base = BEFORE_LABEL
        else:
            base = max(NEAR_LABEL_FLOOR, NEAR_LABEL - NEAR_LABEL_STEP * cost)
        if not self.assign(
            reading, rule=p.rule, label_line=p.line, value_line=f.line, base=base, raw=f.text
        ):
            return
        f.consumed = True
        self.continue_value(self.found[-1])

    # --- values found by their pattern --------------------------------------------------------

    def find_patterns(self, patterns: Sequence[PatternRule]) -> None:
        """Fields still empty take the first untaken text a pattern reads with its check holding."""
        for pattern in patterns:
            if not all(k in self.out for k in pattern.keys):
                self._find_pattern(pattern)

    def _find_pattern(self, pattern: PatternRule) -> None:
        # The texts no label took, then the whole lines (a value another field's text ran into).
        texts = [f for f in self.doc.free if not f.consumed]
        texts += [FreeText(i, line, whole_line=True) for i, line in enumerate(self.doc.cleaned)]
        for f in texts:
            reading = pattern.read(f.text)
            if not reading or not all(verified for _, verified in reading.values()):
                continue
            for key, (value, verified) in reading.items():
                if key not in self.out:
                    self.out[key] = Candidate(value, _confidence(BY_PATTERN, verified), "pattern")
            f.consumed = True
            return


def run_engine(
    *,
    lines: Sequence[str],
    rules: Sequence[FieldRule],
    patterns: Sequence[PatternRule] = (),
) -> dict[str, Candidate]:
    """Pair labels and values in ``lines`` according to ``rules``; see the module docstring."""
    return Extraction(lines=lines, rules=rules).run(patterns)
