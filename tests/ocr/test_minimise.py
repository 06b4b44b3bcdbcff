"""Finding a checked number where OCR printed it, to replace it before the model sees the text."""

from __future__ import annotations

import random

import pytest

from ocr.lookalikes import DIGIT_LOOKALIKES
from ocr.minimise import _printed, _replace_printed


def bracketed(text: str) -> str:
    return f"<{text}>"


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


def test_the_string_search_replaces_what_the_numbers_own_pattern_replaces():
    # The pattern is what letter-holding codes still use; digit numbers skip compiling it.
    rng = random.Random(2026)
    stand_ins = {
        digit: [letter for letter, d in DIGIT_LOOKALIKES.items() if d == digit]
        for digit in "0123456789"
    }
    noise = "0123456789 -|xXkK×OoIlLSsZzBbGgTtQq.:,号ı"
    for _ in range(3000):
        number = "".join(rng.choice("0123456789") for _ in range(17)) + rng.choice("0123456789X")
        printed = "".join(
            (
                rng.choice(stand_ins[char])
                if char in stand_ins and stand_ins[char] and rng.random() < 0.2
                else char
            )
            + (" " if rng.random() < 0.1 else "")
            for char in number
        )
        before = "".join(rng.choice(noise) for _ in range(rng.randint(0, 3)))
        after = "".join(rng.choice(noise) for _ in range(rng.randint(0, 3)))
        line = before + printed + after

        assert _replace_printed([line], number, bracketed)[0] == _printed(number).sub(
            lambda match: bracketed(match.group()), line
        ), line
