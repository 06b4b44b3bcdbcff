"""Finding a checked number where OCR printed it, to replace it before the model sees the text."""

from __future__ import annotations

import random
import re

import pytest

from ocr.lookalikes import DIGIT_LOOKALIKES, ID_CHECK_X_LOOKALIKES
from ocr.minimise import _replace_printed


def bracketed(text: str) -> str:
    return f"<{text}>"


def printed_pattern(value: str) -> re.Pattern[str]:
    """What a printing of `value` is, as a regular expression: any case, a look-alike letter
    (or a bar for a 1, × or K for an X) where the value has a digit or an X, spaces or hyphens
    between characters, no letter or digit glued to either end."""

    def one(char: str) -> str:
        readings = [char, *(letter for letter, digit in DIGIT_LOOKALIKES.items() if digit == char)]
        if char == "1":
            readings.append("|")
        elif char == "X":
            readings.extend(ID_CHECK_X_LOOKALIKES)
        return "[" + "".join(re.escape(reading) for reading in readings) + "]"

    body = r"[\s\-]*".join(one(char) for char in value)
    return re.compile(r"(?<![0-9A-Za-z])" + body + r"(?![0-9A-Za-z])", re.IGNORECASE)


@pytest.mark.parametrize(
    ("line", "number", "expected"),
    [
        (
            "公民身份号码 11010519491231002X",
            "11010519491231002X",
            "公民身份号码 <11010519491231002X>",
        ),
        ("卡号 6222 O2l2 3456 7890", "6222021234567890", "卡号 <6222 O2l2 3456 7890>"),
        ("ID110105194912310021", "110105194912310021", "ID110105194912310021"),
        ("1101051949123100218", "110105194912310021", "1101051949123100218"),
        ("号 11010519491231002K 备", "11010519491231002X", "号 <11010519491231002K> 备"),
        ("a 4Qı0922 b", "0922", "a 4Qı0922 b"),
    ],
    ids=[
        "labelled",
        "look-alikes and spaces",
        "glued to a letter",
        "inside a longer run",
        "K for the check X",
        "dotless i is a letter beside it",
    ],
)
def test_a_number_is_replaced_only_where_it_stands_alone(line, number, expected):
    assert _replace_printed([line], number, bracketed) == [expected]


STAND_INS = {
    char: [letter for letter, digit in DIGIT_LOOKALIKES.items() if digit == char]
    for char in "0123456789"
}
NOISE = "0123456789 -|xXkK×OoIlLSsZzBbGgTtQqEeMmYy.:,号ıK\u212a"


def printing(value: str, rng: random.Random) -> str:
    """`value` as OCR may print it, or misread it, between noise."""
    printed = "".join(
        (
            rng.choice(STAND_INS[char])
            if STAND_INS.get(char) and rng.random() < 0.2
            # A letter read as the digit it looks like: not a printing of the value.
            else DIGIT_LOOKALIKES[char]
            if char in DIGIT_LOOKALIKES and rng.random() < 0.05
            else char.lower()
            if rng.random() < 0.1
            else char
        )
        + (rng.choice(" -") if rng.random() < 0.1 else "")
        for char in value
    )
    before = "".join(rng.choice(NOISE) for _ in range(rng.randint(0, 3)))
    after = "".join(rng.choice(NOISE) for _ in range(rng.randint(0, 3)))
    return before + printed + after


@pytest.mark.parametrize(
    ("kind", "alphabet", "length"),
    [
        ("resident id", "0123456789", 18),
        ("passport number", "EGKS0123456789", 9),
        ("credit code or VIN", "0123456789ABCDEFGHJKLMNPQRTUWXY", 18),
    ],
)
def test_the_string_search_replaces_what_a_pattern_of_the_printing_replaces(kind, alphabet, length):
    rng = random.Random(f"2026 {kind}")
    for _ in range(2000):
        number = "".join(rng.choice(alphabet) for _ in range(length))
        line = printing(number, rng)

        assert _replace_printed([line], number, bracketed)[0] == printed_pattern(number).sub(
            lambda match: bracketed(match.group()), line
        ), line
