"""What the rules extractor is told to look for (FieldRule, PatternRule) and what it finds
(Candidate)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# {field key: (canonical value, check digit verified: True/False, or None where there is none)}
Reading = dict[str, tuple[str, bool | None]]
Reader = Callable[[str], Reading | None]


@dataclass
class Candidate:
    """One extracted value: canonical form, the extractor's own belief (0..1), and where it came
    from ("mrz", "label", "pattern", "position", or "conflict": labelled lines gave two values)."""

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
      are taken only when nothing better is near); ``extends``: accepts a continuation even of
      a value that looks complete (楼2单元 after an address ending 8号).
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
    extends: Callable[[str], bool] | None = None
    max_after: int = 4
    max_before: int = 2
    swallow_line: bool = False


@dataclass(frozen=True)
class PatternRule:
    """A value recognisable without its label (a code whose check digit holds)."""

    keys: tuple[str, ...]
    read: Reader
