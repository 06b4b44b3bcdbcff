"""A model answer with no usable value is said so in the answer's warnings."""

import pytest

from ocr.analysis import EMPTY_ANSWER_WARNING, NOTHING_FOUND_WARNING
from tests.documents import ID_CARD
from tests.fakes.openai_server import answer

ANALYZE = "/api/v1/ocr/analyze"

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("empty", [{}, {"name": None, "idNumber": None}, {"name": ""}])
def test_an_empty_model_answer_is_flagged(fake_openai, signed_client, empty):
    fake_openai.script(answer(empty))

    body = signed_client.post_json(ANALYZE, ID_CARD).json()

    assert body["provider"] == "openai"
    assert EMPTY_ANSWER_WARNING in body["warnings"]
    assert body["fields"]["idNumber"] == "11010519491231002X"


def test_an_empty_answer_on_text_with_nothing_to_read_says_so(fake_openai, signed_client):
    fake_openai.script(answer({}))

    body = signed_client.post_json(
        ANALYZE, {"documentType": "idCard", "rawTexts": ["hello", "world"]}
    ).json()

    assert NOTHING_FOUND_WARNING in body["warnings"]


def test_a_model_answer_with_values_has_no_such_warning(fake_openai, signed_client):
    fake_openai.script(answer({"name": "张三"}))

    body = signed_client.post_json(ANALYZE, ID_CARD).json()

    assert EMPTY_ANSWER_WARNING not in body["warnings"]
