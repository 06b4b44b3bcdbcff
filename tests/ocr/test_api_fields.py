"""The analyze request's lines as the API reads them: taken as sent, or refused line by line with
the reason in the line's place."""

from __future__ import annotations

import pytest

from ocr.apis import AnalyzeInputSerializer


def line_errors(raw_texts: list) -> dict[int, list[str]]:
    serializer = AnalyzeInputSerializer(data={"rawTexts": raw_texts})
    assert not serializer.is_valid()
    return {
        index: [str(e) for e in errors] for index, errors in serializer.errors["rawTexts"].items()
    }


def test_lines_are_taken_as_sent_with_their_whitespace_and_blank_lines():
    serializer = AnalyzeInputSerializer(data={"rawTexts": [" 姓名 张三 ", "", "\t住址"]})

    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["rawTexts"] == [" 姓名 张三 ", "", "\t住址"]


def test_a_line_holding_nul_is_refused_in_its_place():
    assert line_errors(["姓名 张三", "住址\x00北京"]) == {1: ["Null characters are not allowed."]}


def test_a_line_holding_a_lone_surrogate_is_refused_in_its_place():
    assert line_errors(["a\ud800", "b"]) == {0: ["Surrogate characters are not allowed: U+D800."]}


@pytest.mark.parametrize("line", [5, None, True, ["nested"]], ids=["int", "null", "bool", "list"])
def test_a_line_that_is_not_a_string_is_refused_in_its_place(line):
    errors = line_errors(["姓名 张三", line])

    assert list(errors) == [1]
