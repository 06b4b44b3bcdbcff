"""The result cache serves an answer only to requests the same provider, model and template
would answer."""

import pytest

from tests.documents import ID_CARD

ANALYZE = "/api/v1/ocr/analyze"

pytestmark = pytest.mark.django_db


def test_a_repeated_request_is_served_from_the_cache(signed_client):
    signed_client.post_json(ANALYZE, ID_CARD)

    assert signed_client.post_json(ANALYZE, ID_CARD).json()["cached"] is True


def test_an_answer_of_the_built_in_extractor_is_not_served_once_a_model_answers(
    signed_client, fake_openai, settings
):
    settings.QV_PROVIDER = "rules"
    rules_answer = signed_client.post_json(ANALYZE, ID_CARD).json()
    settings.QV_PROVIDER = "auto"

    model_answer = signed_client.post_json(ANALYZE, ID_CARD).json()

    assert rules_answer["provider"] == "rules"
    assert model_answer["provider"] == "openai"
    assert model_answer["cached"] is False


def test_another_model_does_not_get_the_first_models_cached_answer(
    signed_client, fake_openai, settings
):
    signed_client.post_json(ANALYZE, ID_CARD)
    settings.OPENAI_MODEL = "another-model"

    body = signed_client.post_json(ANALYZE, ID_CARD).json()

    assert body["cached"] is False
    assert body["model"] == "another-model"
