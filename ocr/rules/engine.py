"""The label engine: pairs printed labels with their values in OCR lines.

Phone OCR gives lines in an order that only roughly follows the card: a value may sit on its
label's line, on the next line or the one before it; several label/value pairs may share a line;
labels are letter-spaced, bilingual or glued to their values; addresses wrap. The engine:

1. splits each line into label pieces and text pieces (``tokenize``),
2. gives each label the text on its own line when the field's reader accepts it,
3. pairs the remaining labels with the remaining lines, nearest first and following lines before
   preceding ones, asking each field's reader whether the line has the shape of its value,
4. lets wrapping fields (addresses) take their continuation lines, and
5. lets distinctive values (codes with check digits) be found by pattern where no label led to them.

A field nothing leads to stays None: the engine never guesses.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# {field key: (canonical value, check digit verified: True/False, or None where there is none)}
Reading = dict[str, tuple[str, bool | None]]
Reader = Callable[[str], Reading | None]


@dataclass
class Candidate:
    """One extracted value: canonical form, the extractor's own belief (0..1), and where it came
    from ("mrz", "label", "pattern", "position")."""

    value: str
    confidence: float
    source: str


@dataclass(frozen=True)
class FieldRule:
    """How to find one label's value.

    - ``keys``: the fields it fills (none for a stop label: printed matter whose value must be
      kept away from the fields); ``labels``: the printed labels (Chinese ones match
      letter-spaced; "姓/Surname" matches both halves); ``read``: accepts or rejects a text.
    - ``continues``: accepts a continuation line of a wrapping value; ``before_tail``: accepts
      a wrapped end printed elsewhere (just before the label, or past another column's line);
      ``complete``: tells a finished value from one cut short, which then takes the nearest
      left-over ``before_tail`` line; ``prefer``: the texts that best start a value (others
      are taken only when nothing better is near).
    - ``max_after`` / ``max_before``: how far (in lines) a value may sit from its label;
      ``swallow_line``: the rest of the label's line is its value, whatever labels it holds.
    """

    keys: tuple[str, ...]
    labels: tuple[str, ...]
    read: Reader
    continues: Callable[[str], bool] | None = None
    before_tail: Callable[[str], bool] | None = None
    prefer: Callable[[str], bool] | None = None
    complete: Callable[[str], bool] | None = None
    max_after: int = 4
    max_before: int = 2
    swallow_line: bool = False


@dataclass(frozen=True)
class PatternRule:
    """A value recognisable without its label (a code whose check digit holds)."""

    keys: tuple[str, ...]
    read: Reader


NOISE_CHARS = set("|丨一—–-_'‘’\"`·•・.。,，:：;；~!！Il1()（）[]【】<>《》 ")
_NOISE_WORDS = re.compile(
    r"^(国徽|\(?[副正]\s*本\)?|\(\d-\d\)|二维码|照片|PHOTO|[\W_]{1,4})$", re.IGNORECASE
)


GAP = "   "
_WIDE_GAP_RE = re.compile(r"\s{3,}")
_SPACE_RUNS_RE = re.compile(r"\s+")
_SPACE_RE = re.compile(r"\s")
_LABEL_HALVES_RE = re.compile(r"\s*/\s*")
_LATIN_RE = re.compile(r"[A-Za-z]")


def clean_line(raw: str) -> str:
    """NFKC (full-width to half-width) with white space made one space, except that a wide gap
    (where OCR merged two columns into one line) is kept as three spaces."""
    parts = _WIDE_GAP_RE.split(unicodedata.normalize("NFKC", raw).strip())
    return GAP.join(_SPACE_RUNS_RE.sub(" ", part) for part in parts)


# Document titles: printed on every card of a kind, never a field's value.
_TITLE = re.compile(
    r"^(?:中华人民共和国|居民身份证|机动车驾驶证|机动车行驶证|营业执照|护照|PASSPORT|\s)+$"
    r"|^(?:Driving|Vehicle) License of the People'?s Republic of China$",
    re.IGNORECASE,
)


def is_noise(text: str) -> bool:
    """Stray marks, emblems and titles OCR reads as lines: |, 一, —, ', ::, l1, 国徽, (副本),
    居民身份证."""
    text = text.strip()
    if not text or _TITLE.match(text):
        return True
    if len(text) <= 3 and set(text) <= NOISE_CHARS:
        return True
    return bool(_NOISE_WORDS.match(text))


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
    return len(_SPACE_RE.sub("", label))


@functools.lru_cache(maxsize=256)
def _compile_labels(
    labels: tuple[str, ...],
) -> tuple[tuple[int, ...], tuple[int, ...], re.Pattern | None]:
    """For labels in rule order: the order to look for them in (heaviest first), their weights
    in that order, and one regex with a group per label in that order (None for no labels).

    Cached: a document type's rules come with the same labels on every request.
    """
    weights = [_label_weight(label) for label in labels]
    order = tuple(sorted(range(len(labels)), key=lambda k: -weights[k]))
    alternation = "|".join(f"({_label_regex(labels[k])})" for k in order)
    regex = re.compile(alternation, re.IGNORECASE) if labels else None
    return order, tuple(weights[k] for k in order), regex


@dataclass
class _Piece:
    rule: int | None  # index of the label's rule; None for text before the first label
    text: str


class LabelMatcher:
    """Finds the labels of a set of rules in a line."""

    def __init__(self, rules: Sequence[FieldRule]) -> None:
        owners = [i for i, rule in enumerate(rules) for _ in rule.labels]
        order, self._weights, self._regex = _compile_labels(
            tuple(label for rule in rules for label in rule.labels)
        )
        self._rules = rules
        self._groups = [owners[k] for k in order]

    def tokenize(self, line: str) -> list[_Piece]:
        """Split a cleaned line into the text before the first label and (label, text) pieces."""
        pieces = [_Piece(None, "")]
        if self._regex is None:
            pieces[0].text = line
            return pieces
        pos = 0
        for m in self._regex.finditer(line):
            group = m.lastindex - 1 if m.lastindex else 0
            weight = self._weights[group]
            last = pieces[-1]
            gap = line[pos : m.start()]
            if last.rule is not None and self._rules[last.rule].swallow_line:
                break
            before = line[m.start() - 1] if m.start() else " "
            is_latin = bool(_LATIN_RE.match(m.group()))
            accepted = (
                m.start() == 0
                or before in " :：/|()（）"
                or is_latin
                or weight >= 3
                or (last.rule is not None and len(gap.strip()) <= 2)
                or not (last.text + gap).strip(" |丨一—-'·.:：")
            )
            if not accepted:
                continue
            last.text += gap
            pieces.append(_Piece(self._groups[group], ""))
            pos = m.end()
        pieces[-1].text += line[pos:]
        for piece in pieces:
            piece.text = piece.text.strip(" :：|丨")
        return pieces


@dataclass
class _Free:
    line: int
    text: str
    whole_line: bool
    consumed: bool = False
    leading: bool = False  # text before the first label of its line


@dataclass
class _Pending:
    rule: int
    line: int
    order: int


@dataclass
class _Found:
    rule: int
    label_line: int
    last_line: int
    parts: list[str] = field(default_factory=list)


def _confidence(base: float, verified: bool | None) -> float:
    if verified is True:
        return max(base, 0.97)
    if verified is False:
        return round(base * 0.6, 3)
    return base


_UNMATCHED = 10.0
_STOP_UNMATCHED = 2.0
_IMPOSSIBLE = 1e6


def min_cost_matching(
    n_rows: int,
    n_cols: int,
    costs: dict[tuple[int, int], float],
    *,
    unmatched: Sequence[float] | None = None,
) -> list[tuple[int, int]]:
    """Pairs (row, column) of the matching of least total cost (Hungarian algorithm), where a
    row left unmatched costs ``unmatched[row]`` (default 10); only pairs in ``costs`` exist."""
    if not n_rows or not costs:
        return []
    skip = list(unmatched) if unmatched is not None else [_UNMATCHED] * n_rows
    width = n_cols + n_rows  # one "left unmatched" column per row
    matrix = [
        [costs.get((r, c), _IMPOSSIBLE) for c in range(n_cols)] + [skip[r]] * n_rows
        for r in range(n_rows)
    ]
    u = [0.0] * (n_rows + 1)
    v = [0.0] * (width + 1)
    owner = [0] * (width + 1)
    way = [0] * (width + 1)
    for i in range(1, n_rows + 1):
        owner[0] = i
        j0 = 0
        minv = [float("inf")] * (width + 1)
        done = [False] * (width + 1)
        while True:
            done[j0] = True
            i0, delta, j1 = owner[j0], float("inf"), 0
            for j in range(1, width + 1):
                if done[j]:
                    continue
                cur = matrix[i0 - 1][j - 1] - u[i0] - v[j]
                if cur < minv[j]:
                    minv[j], way[j] = cur, j0
                if minv[j] < delta:
                    delta, j1 = minv[j], j
            for j in range(width + 1):
                if done[j]:
                    u[owner[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if owner[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    return [
        (owner[j] - 1, j - 1)
        for j in range(1, n_cols + 1)
        if owner[j] and (owner[j] - 1, j - 1) in costs
    ]


def _pair_columns(
    row: list[_Pending],
    *,
    rules: Sequence[FieldRule],
    free: list[_Free],
    noise: list[bool],
    out: dict[str, Candidate],
    used: set[int],
    assign: Callable[..., bool],
) -> None:
    """A line of labels only ("性别 民族") over a line of as many values ("男 汉"): pair them
    column by column, provided every value fits its label."""
    line = row[0].line
    by_line = {f.line: f for f in free if f.whole_line and not f.consumed}
    for step in (1, -1):
        j = line + step
        while 0 <= j < len(noise) and noise[j]:
            j += step
        values = by_line.get(j)
        if values is None:
            continue
        tokens = values.text.split()
        if len(tokens) != len(row):
            continue
        readings = [rules[p.rule].read(token) for p, token in zip(row, tokens, strict=True)]
        if any(r is None for r in readings):
            continue
        for p, token, reading in zip(row, tokens, readings, strict=True):
            if reading and all(k not in out for k in reading):
                assign(reading, rule=p.rule, label_line=p.line, value_line=j, base=0.85, raw=token)
            used.add(p.order)
        values.consumed = True
        return


def _pair_stacks(
    stacks: list[list[_Pending]],
    *,
    rules: Sequence[FieldRule],
    free: list[_Free],
    noise: list[bool],
    out: dict[str, Candidate],
    used: set[int],
    assign: Callable[..., bool],
) -> None:
    """Labels on consecutive lines ("号牌号码" / "车辆类型") followed by as many value lines:
    pair them in order, provided every value fits its label."""
    by_line = {f.line: f for f in free if f.whole_line}
    for stack in stacks:
        j, values = stack[-1].line + 1, []
        while j < len(noise) and len(values) < len(stack):
            if not noise[j]:
                if j not in by_line or by_line[j].consumed:
                    break
                values.append(by_line[j])
            j += 1
        if len(values) < len(stack):
            continue
        readings = [rules[p.rule].read(f.text) for p, f in zip(stack, values, strict=True)]
        if any(r is None for r in readings):
            continue
        for p, f, reading in zip(stack, values, readings, strict=True):
            if reading and all(k not in out for k in reading):
                assign(
                    reading,
                    rule=p.rule,
                    label_line=p.line,
                    value_line=f.line,
                    base=0.85,
                    raw=f.text,
                )
            used.add(p.order)
            f.consumed = True


def _finish_cut_value(
    item: _Found,
    *,
    rules: Sequence[FieldRule],
    free: list[_Free],
    noise: list[bool],
    out: dict[str, Candidate],
) -> None:
    """A value visibly cut short (an address ending in 路2) takes the nearest left-over line that
    ends the way such values end (07号19号楼), when OCR put other lines in between."""
    rule = rules[item.rule]
    if rule.complete is None or rule.before_tail is None or not rule.keys:
        return
    key = rule.keys[0]
    if key not in out or rule.complete(out[key].value):
        return
    anchor = (item.label_line + item.last_line) / 2

    def gap(f: _Free) -> int:
        lo, hi = sorted((f.line, round(anchor)))
        return sum(1 for j in range(lo, hi + 1) if not noise[j])

    near = [
        f
        for f in free
        if f.whole_line and not f.consumed and gap(f) <= 4 and rule.before_tail(f.text)
    ]
    if not near:
        return
    tail = min(near, key=lambda f: (gap(f), f.line))
    reading = rule.read("".join([*item.parts, tail.text]))
    if reading and key in reading:
        tail.consumed = True
        item.parts.append(tail.text)
        out[key] = Candidate(reading[key][0], min(out[key].confidence, 0.75), "label")


def run_engine(
    *,
    lines: Sequence[str],
    rules: Sequence[FieldRule],
    patterns: Sequence[PatternRule] = (),
) -> dict[str, Candidate]:
    """Pair labels and values in ``lines`` according to ``rules``; see the module docstring."""
    cleaned = [clean_line(line) for line in lines]
    noise = [is_noise(text) for text in cleaned]
    matcher = LabelMatcher(rules)
    out: dict[str, Candidate] = {}
    free: list[_Free] = []
    pending: list[_Pending] = []
    found: list[_Found] = []

    def assign(
        reading: Reading, *, rule: int, label_line: int, value_line: int, base: float, raw: str
    ) -> bool:
        new = {k: v for k, v in reading.items() if k not in out}
        if reading and not new:
            return False
        for key, (value, verified) in new.items():
            out[key] = Candidate(value, _confidence(base, verified), "label")
        found.append(_Found(rule, label_line, value_line, [raw]))
        return True

    label_rows: list[list[_Pending]] = []
    lone_labels: dict[int, _Pending] = {}  # lines that are one label and nothing else
    for idx, text in enumerate(cleaned):
        if noise[idx]:
            continue
        pieces = matcher.tokenize(text)
        if len(pieces) == 1:
            parts = [p for p in text.split(GAP) if not is_noise(p)]
            if len(parts) == 1:
                free.append(_Free(idx, parts[0], whole_line=True))
            for i, part in enumerate(parts if len(parts) > 1 else []):
                free.append(_Free(idx, part, whole_line=False, leading=i == 0))
            continue
        if pieces[0].text and not is_noise(pieces[0].text):
            free.append(_Free(idx, pieces[0].text, whole_line=False, leading=True))
        tokens = pieces[-1].text.split()
        if (
            len(pieces) > 2
            and not any(p.text for p in pieces[:-1])
            and len(tokens) == len(pieces) - 1
        ):
            # "性别 民族 女 汉": a row of labels read together with its row of values.
            readings = [rules[p.rule].read(t) for p, t in zip(pieces[1:], tokens, strict=True)]
            if all(r is not None for r in readings):
                for piece, token, reading in zip(pieces[1:], tokens, readings, strict=True):
                    assign(
                        reading,
                        rule=piece.rule,
                        label_line=idx,
                        value_line=idx,
                        base=0.85,
                        raw=token,
                    )
                continue
        # Labels in a row with no values (at the end of the line) may head a row of values.
        row_start = len(pieces)
        while row_start > 1 and not pieces[row_start - 1].text:
            row_start -= 1
        if len(pieces) - row_start >= 2:
            label_rows.append([])
        for n, piece in enumerate(pieces[1:], start=1):
            rule = rules[piece.rule]
            if GAP in piece.text:
                # Two columns merged: the label's value is the part before the gap (unless only
                # the whole reads as one).
                first, *others = piece.text.split(GAP)
                if rule.read(first) is not None or rule.read(piece.text) is None:
                    piece.text = first.strip()
                    free.extend(
                        _Free(idx, o.strip(), whole_line=False) for o in others if o.strip()
                    )
            if piece.text and not is_noise(piece.text):
                reading = rule.read(piece.text)
                if reading is not None and assign(
                    reading,
                    rule=piece.rule,
                    label_line=idx,
                    value_line=idx,
                    base=0.9,
                    raw=piece.text,
                ):
                    continue
                if reading is None:
                    free.append(_Free(idx, piece.text, whole_line=False))
            pending.append(_Pending(piece.rule, idx, len(pending)))
            if n >= row_start and len(pieces) - row_start >= 2:
                label_rows[-1].append(pending[-1])
            if len(pieces) == 2 and not pieces[0].text and not piece.text:
                lone_labels[idx] = pending[-1]

    def continue_value(item: _Found) -> None:
        rule = rules[item.rule]
        if rule.continues is None:
            return
        # Whole lines, and text that starts a line before its labels (two columns merged).
        by_line = {f.line: f for f in free if (f.whole_line or f.leading) and not f.consumed}

        def take(j: int, test: Callable[[str], bool]) -> bool:
            f = by_line.get(j)
            if f is None or f.consumed or not test(f.text):
                return False
            f.consumed = True
            item.parts.append(f.text)
            return True

        j, skipped = item.last_line + 1, 0
        while j < len(cleaned):
            if noise[j] or (j in by_line and take(j, rule.continues)):
                if j in by_line and by_line[j].leading:
                    break
                j += 1
                continue
            # Another column's line may sit between a value and its wrapped end; step over one
            # labelled line, but only to a line that ends the way the value ends.
            if j in by_line or skipped or len(item.parts) > 1 or rule.before_tail is None:
                break
            skipped, j = 1, j + 1
            while j < len(cleaned) and noise[j]:
                j += 1
            if not take(j, rule.before_tail):
                break
            j += 1
        if rule.before_tail is not None:
            # Wrapped ends printed between the label and a value found on a later line, or
            # before the label on its own line.
            for j in range(item.label_line, item.last_line + 1):
                take(j, rule.before_tail)
            j = item.label_line - 1
            while j >= 0 and noise[j]:
                j -= 1
            take(j, rule.before_tail)
        if len(item.parts) > 1:
            reading = rule.read("".join(item.parts)) or {}
            for key, (value, _) in reading.items():
                out[key] = Candidate(value, min(out[key].confidence, 0.85), "label")

    for item in list(found):
        continue_value(item)

    used: set[int] = set()
    for row in label_rows:
        _pair_columns(row, rules=rules, free=free, noise=noise, out=out, used=used, assign=assign)
    stacks: list[list[_Pending]] = []
    previous = -2
    for idx in sorted(lone_labels):
        gap_is_noise = all(noise[j] for j in range(previous + 1, idx))
        if stacks and gap_is_noise and previous >= 0:
            stacks[-1].append(lone_labels[idx])
        else:
            stacks.append([lone_labels[idx]])
        previous = idx
    stacks = [s for s in stacks if len(s) >= 2]
    _pair_stacks(stacks, rules=rules, free=free, noise=noise, out=out, used=used, assign=assign)

    # signal_before[j]: how many of the lines before line j are not noise.
    signal_before = list(itertools.accumulate((not n for n in noise), initial=0))

    def distance(a: int, b: int) -> int:
        """How many lines that are not noise lie after the first of a and b, up to the second."""
        lo, hi = min(a, b), max(a, b)
        return signal_before[hi + 1] - signal_before[lo + 1]

    # Rows: one pending label per set of fields still empty (the first printed); columns: texts.
    rows: list[_Pending] = []
    seen: set[tuple[str, ...]] = set()
    for p in pending:
        keys = rules[p.rule].keys
        if p.order in used or (keys and all(k in out for k in keys)):
            continue
        if keys and keys in seen:
            continue
        seen.add(keys)
        rows.append(p)
    costs: dict[tuple[int, int], float] = {}
    for ri, p in enumerate(rows):
        rule = rules[p.rule]
        for fi, f in enumerate(free):
            if f.consumed:
                continue
            if f.line > p.line:
                d, extra = distance(p.line, f.line), 0.0
                if d > rule.max_after:
                    continue
            elif f.line < p.line:
                d, extra = distance(f.line, p.line), 0.5
                if d > rule.max_before:
                    continue
            elif not f.whole_line:
                d, extra = 0, 0.75
            else:
                continue
            reading = rule.read(f.text)
            if reading is None or (reading and all(k in out for k in reading)):
                continue
            stop_penalty = 0.3 if not rule.keys else 0.0
            worse = 1.5 if rule.prefer is not None and not rule.prefer(f.text) else 0.0
            costs[ri, fi] = d + extra + stop_penalty + worse + 1e-6 * fi
    # A stop label may well stay unmatched; a field's label should find its value.
    unmatched = [_STOP_UNMATCHED if not rules[p.rule].keys else _UNMATCHED for p in rows]
    matches = min_cost_matching(len(rows), len(free), costs, unmatched=unmatched)
    for ri, fi in sorted(matches, key=lambda m: costs[m]):
        p, f = rows[ri], free[fi]
        rule = rules[p.rule]
        reading = rule.read(f.text)
        if f.consumed or reading is None:
            continue
        cost = costs[ri, fi]
        base = 0.7 if f.line < p.line else max(0.6, 0.88 - 0.03 * cost)
        if not assign(
            reading, rule=p.rule, label_line=p.line, value_line=f.line, base=base, raw=f.text
        ):
            continue
        f.consumed = True
        continue_value(found[-1])

    for item in found:
        _finish_cut_value(item, rules=rules, free=free, noise=noise, out=out)

    for pattern in patterns:
        if all(k in out for k in pattern.keys):
            continue
        for f in free:
            if f.consumed:
                continue
            reading = pattern.read(f.text)
            if not reading or not all(verified for _, verified in reading.values()):
                continue
            for key, (value, verified) in reading.items():
                if key not in out:
                    out[key] = Candidate(value, _confidence(0.75, verified), "pattern")
            f.consumed = True
            break

    return out
