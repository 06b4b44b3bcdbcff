"""Reading untrusted model answers into plain dicts of strings."""

import pytest

from ocr.model_output import ModelOutputError, coerce_fields, parse_items, parse_object

KEYS = ["name", "gender", "idNumber"]


def test_plain_json_object_is_read():
    assert parse_object('{"name": "张三", "gender": "male"}') == {"name": "张三", "gender": "male"}


def test_fenced_json_is_read():
    text = '```json\n{"name": "张三"}\n```'

    assert parse_object(text) == {"name": "张三"}


def test_fence_without_language_tag_is_read():
    assert parse_object('```\n{"name": "张三"}\n```') == {"name": "张三"}


def test_json_wrapped_in_prose_is_read():
    text = 'Sure! Here are the fields:\n{"name": "张三", "gender": null}\nAnything else?'

    assert parse_object(text) == {"name": "张三", "gender": None}


def test_prose_with_brackets_before_the_object_is_read():
    text = 'Note [1]: the card is worn. {"name": "张三"}'

    assert parse_object(text) == {"name": "张三"}


def test_trailing_comma_is_tolerated():
    assert parse_object('{"name": "张三", "gender": "male",}') == {
        "name": "张三",
        "gender": "male",
    }


def test_cut_off_answer_is_reported_as_truncated():
    with pytest.raises(ModelOutputError) as caught:
        parse_object('{"name": "张三", "address": "北京市朝阳')

    assert caught.value.truncated


def test_prose_without_json_is_an_error_but_not_truncated():
    with pytest.raises(ModelOutputError) as caught:
        parse_object("I could not read this document.")

    assert not caught.value.truncated


def test_malformed_json_is_an_error():
    with pytest.raises(ModelOutputError):
        parse_object("{name: 张三, 'gender': male,, }")


def test_empty_answer_is_an_error():
    with pytest.raises(ModelOutputError):
        parse_object("   ")


def test_list_of_one_object_is_unwrapped():
    assert parse_object('[{"name": "张三"}]') == {"name": "张三"}


def test_items_are_read_in_order_and_padded_to_the_count():
    text = '{"items": [{"name": "A"}, {"name": "B"}]}'

    assert parse_items(text, count=3) == [{"name": "A"}, {"name": "B"}, None]


def test_items_beyond_the_count_are_ignored():
    text = '{"items": [{"name": "A"}, {"name": "B"}, {"name": "C"}]}'

    assert parse_items(text, count=2) == [{"name": "A"}, {"name": "B"}]


def test_an_item_that_is_not_an_object_is_none():
    assert parse_items('{"items": [{"name": "A"}, "oops"]}', count=2) == [{"name": "A"}, None]


def test_bare_list_is_read_as_items():
    assert parse_items('[{"name": "A"}, {"name": "B"}]', count=2) == [{"name": "A"}, {"name": "B"}]


def test_fenced_items_in_prose_are_read():
    text = 'Here you go:\n```json\n{"items": [{"name": "A"}, {"name": "B"}]}\n```'

    assert parse_items(text, count=2) == [{"name": "A"}, {"name": "B"}]


def test_answer_without_items_is_an_error():
    with pytest.raises(ModelOutputError):
        parse_items('{"name": "A"}', count=2)


def test_cut_off_items_are_reported_as_truncated():
    with pytest.raises(ModelOutputError) as caught:
        parse_items('{"items": [{"name": "A"}, {"name": "B', count=2)

    assert caught.value.truncated


def test_coerce_keeps_only_the_field_keys():
    values = coerce_fields({"name": "张三", "age": "30", "notes": "x"}, keys=KEYS)

    assert values == {"name": "张三", "gender": None, "idNumber": None}


def test_coerce_reads_null_words_as_none():
    values = coerce_fields({"name": "N/A", "gender": "null", "idNumber": ""}, keys=KEYS)

    assert values == dict.fromkeys(KEYS)


def test_coerce_turns_numbers_into_strings_and_structures_into_none():
    values = coerce_fields({"name": ["张三"], "gender": True, "idNumber": 110105}, keys=KEYS)

    assert values == {"name": None, "gender": None, "idNumber": "110105"}


def test_coerce_matches_keys_loosely():
    values = coerce_fields({"ID_NUMBER": "11010519491231002X"}, keys=KEYS)

    assert values["idNumber"] == "11010519491231002X"


def test_exact_key_wins_over_a_loose_one():
    values = coerce_fields({"idNumber": "A", "id_number": "B"}, keys=KEYS)

    assert values["idNumber"] == "A"


def test_coerce_unwraps_one_nested_object():
    values = coerce_fields({"fields": {"name": "张三"}}, keys=KEYS)

    assert values["name"] == "张三"


def test_coerce_drops_overlong_values():
    values = coerce_fields({"name": "张" * 501}, keys=KEYS)

    assert values["name"] is None
