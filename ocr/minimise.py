"""Data minimisation toward the model: checked numbers go to it as placeholders.

The model is a third party. Numbers the built-in extractor reads and validates (resident ID,
bank card, unified social credit code, VIN, passport number) and the lines of a passport's
machine readable zone are replaced in the OCR lines by placeholders such as ``[[ID_1]]`` before
the prompt is made; the model copies a placeholder where it would have copied the number, and
``restore`` puts the original text back into its answer. The answer is then normalised,
grounded and validated against the original lines as any answer is.

Besides what the extractor read, any other valid resident ID or Luhn-valid card number in the
text is replaced as well, so that no such number reaches the model whatever the extractor made
of the document. A document type turns this off with ``DocumentType.minimise_for_model``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ocr.lookalikes import DIGIT_LOOKALIKES, ID_CHECK_X_LOOKALIKES
from ocr.mrz import find_mrz
from ocr.providers.base import ProviderResult
from ocr.validators import validate_value
from prompts.document_types import FieldSpec, FieldValidator

# The placeholder's name by the validator that checks the number.
LABELS = {
    FieldValidator.CN_RESIDENT_ID.value: "ID",
    FieldValidator.LUHN.value: "CARD",
    FieldValidator.CN_UNIFIED_CREDIT_CODE.value: "USCC",
    FieldValidator.VIN_CHECK_DIGIT.value: "VIN",
    FieldValidator.MRZ_CHECK_DIGITS.value: "PASSPORT",
}
MRZ_LABEL = "MRZ"
# A placeholder as the model may give it back: brackets doubled, single or dropped.
PLACEHOLDER_RE = re.compile(
    r"\[{0,2}\s*(?<![A-Za-z0-9_])((?:ID|CARD|USCC|VIN|PASSPORT|MRZ)_\d+)(?![A-Za-z0-9_])\s*\]{0,2}"
)
# Numbers found by shape anywhere in the text (not glued to other letters or digits): 18
# characters of a resident ID, 13 to 19 digits of a card (issuers' numbers start with 3 to 6,
# which keeps runs of dates out), as printed with spaces or hyphens.
_EDGE_BEFORE = r"(?<![0-9A-Za-z])"
_EDGE_AFTER = r"(?![0-9A-Za-z])"
RESIDENT_ID_RE = re.compile(_EDGE_BEFORE + r"\d(?:[ ]?\d){16}[ ]?[\dXx]" + _EDGE_AFTER)
CARD_RE = re.compile(_EDGE_BEFORE + r"[3-6](?:[ -]?\d){12,18}" + _EDGE_AFTER)
# A piece of a machine readable zone: its alphabet, at least this long, fillers or many digits.
_MRZ_PIECE_RE = re.compile(r"[A-Z0-9<]{10,}")
_MRZ_MIN_DIGITS = 6
_SEPARATORS = re.compile(r"[\s\-]+")


@dataclass(frozen=True)
class Redaction:
    """The lines as the model sees them, and what each placeholder stands for."""

    lines: tuple[str, ...]
    originals: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.originals)


class _Placeholders:
    """Hands out one placeholder per distinct number of a label, numbered from 1."""

    def __init__(self) -> None:
        self.originals: dict[str, str] = {}
        self._by_number: dict[tuple[str, str], str] = {}
        self._counts: dict[str, int] = {}

    def __call__(self, label: str, original: str) -> str:
        number = (label, compact(original))
        if number not in self._by_number:
            self._counts[label] = self._counts.get(label, 0) + 1
            placeholder = f"[[{label}_{self._counts[label]}]]"
            self._by_number[number] = placeholder
            self.originals[placeholder] = original
        return self._by_number[number]


def compact(text: str) -> str:
    """`text` without spaces and hyphens, upper-cased: how two printings of a number compare."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()


def _is_mrz_piece(line: str) -> bool:
    text = compact(line).replace("«", "<")
    return bool(_MRZ_PIECE_RE.fullmatch(text)) and (
        "<" in text or sum(c.isdigit() for c in text) >= _MRZ_MIN_DIGITS
    )


# What a printed character (upper case) may stand for at a digit or check-X position of a
# number: look-alike letters, a bar for a 1, a times sign or a K for the check X.
_TO_NUMBER = {
    **DIGIT_LOOKALIKES,
    "|": "1",
    **dict.fromkeys(ID_CHECK_X_LOOKALIKES, "X"),
}
_TO_NUMBER_TABLE = str.maketrans(_TO_NUMBER)
_NUMBER_CHARS = frozenset("0123456789X")
# A letter or digit glued to either end of a printing makes it part of a longer code.
_GLUED = re.compile(r"[0-9A-Za-z]", re.IGNORECASE)


def _replace_printed(lines: list[str], value: str, replacement: Callable[[str], str]) -> list[str]:
    """`lines` with each printing of `value` (upper case, no spaces) put through `replacement`.

    A printing is the value in any case, with spaces or hyphens between its characters, a
    look-alike (``_TO_NUMBER``) where it has a digit or an X, and no letter or digit glued to
    either end. It is found by searching each line as a string, read through the look-alike
    table: a regular expression compiled for the value would cost a millisecond or more, for
    each document, since every document's numbers are its own."""
    wanted = value.translate(_TO_NUMBER_TABLE)
    return [
        # Most lines hold no printing: a look through str methods, before reading character by
        # character, finds all that may.
        _replace_in_line(line, value, wanted, replacement)
        if wanted in _SEPARATORS.sub("", line).lower().upper().translate(_TO_NUMBER_TABLE)
        else line
        for line in lines
    ]


def _replace_in_line(line: str, value: str, wanted: str, replacement: Callable[[str], str]) -> str:
    printed: list[str] = []
    positions: list[int] = []
    for position, char in enumerate(line):
        if char.isspace() or char == "-":
            continue
        # As a case-insensitive pattern compares them (ı and I, the Kelvin sign and K); a
        # character whose upper case is two keeps itself.
        upper = char.lower().upper()
        printed.append(upper if len(upper) == 1 else char)
        positions.append(position)
    # Both sides read through the table: every printing is found, and so may a text that
    # holds a digit where the value has a look-alike letter, which _stands_for rules out.
    text = "".join(printed).translate(_TO_NUMBER_TABLE)
    pieces: list[str] = []
    done = 0
    found = text.find(wanted)
    while found != -1:
        start, end = positions[found], positions[found + len(value) - 1] + 1
        if (
            start >= done
            and (start == 0 or not _GLUED.match(line[start - 1]))
            and (end == len(line) or not _GLUED.match(line[end]))
            and _stands_for(printed[found : found + len(value)], value)
        ):
            pieces += [line[done:start], replacement(line[start:end])]
            done = end
        found = text.find(wanted, found + 1)
    return "".join(pieces) + line[done:] if pieces else line


def _stands_for(printed: list[str], value: str) -> bool:
    """Whether each printed character (upper case) is the value's, or at a digit or X of the
    value, a look-alike of it."""
    return all(
        char == wanted or (wanted in _NUMBER_CHARS and _TO_NUMBER.get(char) == wanted)
        for char, wanted in zip(printed, value, strict=True)
    )


def _valid(validator: str, text: str) -> bool:
    return validate_value(validator=validator, value=compact(text)).valid


def redact(
    lines: Sequence[str], rules_result: ProviderResult | None, specs: Sequence[FieldSpec]
) -> Redaction:
    """Return `lines` with the checked numbers and MRZ lines replaced by placeholders.

    `rules_result` is the built-in extractor's answer for these lines (None where it failed);
    `specs` are the document type's fields, whose validators say which values are numbers.
    """
    placeholder = _Placeholders()
    out = list(lines)
    validators = {spec.validator for spec in specs}
    if FieldValidator.MRZ_CHECK_DIGITS.value in validators and find_mrz(out) is not None:
        out = [placeholder(MRZ_LABEL, line) if _is_mrz_piece(line) else line for line in out]
    values = rules_result.values if rules_result is not None else {}
    for spec in specs:
        label = LABELS.get(spec.validator)
        value = values.get(spec.key)
        if label is None or not isinstance(value, str) or not _valid(spec.validator, value):
            continue
        out = _replace_printed(
            out, compact(value), lambda text, label=label: placeholder(label, text)
        )
    for pattern, label, validator in (
        (RESIDENT_ID_RE, "ID", FieldValidator.CN_RESIDENT_ID.value),
        (CARD_RE, "CARD", FieldValidator.LUHN.value),
    ):
        out = [
            pattern.sub(
                lambda match, label=label, validator=validator: (
                    placeholder(label, match.group())
                    if _valid(validator, match.group())
                    else match.group()
                ),
                line,
            )
            for line in out
        ]
    return Redaction(lines=tuple(out), originals=placeholder.originals)


def restore(values: dict[str, str | None], redaction: Redaction) -> dict[str, str | None]:
    """Return the model's `values` with each placeholder of `redaction` put back as the text it
    stands for; anything that only looks like a placeholder is left as it is."""
    if not redaction.changed:
        return values
    by_name = {name.strip("[]"): original for name, original in redaction.originals.items()}

    def original(match: re.Match[str]) -> str:
        return by_name.get(match.group(1), match.group())

    return {
        key: PLACEHOLDER_RE.sub(original, value) if isinstance(value, str) else value
        for key, value in values.items()
    }
