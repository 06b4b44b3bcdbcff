"""Bounding JSON before it is decoded, and making text storable."""

import pytest

from ocr.parsers import nests_deeper_than, storable


@pytest.mark.parametrize(
    ("text", "limit", "deeper"),
    [
        ("[" * 32 + "]" * 32, 32, False),
        ("[" * 33 + "]" * 33, 32, True),
        ("[{[{" * 8 + "}]}]" * 8, 32, False),
        ("[{[{" * 9 + "}]}]" * 9, 32, True),
        ('{"a": "' + "[" * 100 + '"}', 32, False),
        ('{"a": [{"b": "x\\"[[[["}]}', 2, True),
        ('{"a": [{"b": "x\\"[[[["}]}', 3, False),
        ("[" + "[]," * 1000 + "[]]", 2, False),
        ("[[]" * 1000 + "]" * 1000, 32, True),
        ("[[[", 2, True),
    ],
)
def test_nesting_is_measured_outside_strings(text, limit, deeper):
    assert nests_deeper_than(text, limit) is deeper


def test_storable_leaves_ordinary_text_as_it_is():
    value = {"name": "张三", "lines": ["a", "b"], "n": 1.5}

    assert storable(value) == value
