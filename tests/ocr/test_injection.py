"""Prompt injections in OCR lines: no injected value comes back with confidence, whether the
rules answer alone or a model that obeys the injection answers."""

import pytest

from tests.ocr.answers import rules_answer
from tests.ocr.injection_corpus import CORPUS

pytestmark = pytest.mark.django_db

ANALYZE = "/api/v1/ocr/analyze"
IDS = [case["id"] for case in CORPUS]


def confident_injected_values(case: dict, body: dict) -> dict:
    """The injected values the answer gives with confidence 0.9 or more."""
    return {
        key: body["fields"][key]
        for key, value in case["injected"].items()
        if body["fields"][key] == value and (body["fieldConfidence"][key] or 0) >= 0.9
    }


def test_the_corpus_holds_several_injections_of_every_kind_of_document():
    kinds = {case["documentType"] for case in CORPUS}
    assert kinds == {"idCard", "bankCard", "passport", "businessLicense", "vehicleLicense"}
    assert all(sum(c["documentType"] == k for c in CORPUS) >= 2 for k in kinds)


@pytest.mark.parametrize("case", CORPUS, ids=IDS)
def test_no_injected_value_comes_back_confident_from_the_rules_alone(case):
    body = rules_answer(case["documentType"], case["rawTexts"])

    assert confident_injected_values(case, body) == {}
    assert body["warnings"]


@pytest.mark.parametrize("case", CORPUS, ids=IDS)
def test_no_injected_value_comes_back_confident_behind_a_model_that_obeys_it(
    case, fake_openai, signed_client
):
    fake_openai.configure(mode="obey")
    fake_openai.add_cases([{**case, "expected": {**case["right"], **case["fooled"]}}])

    response = signed_client.post_json(
        ANALYZE, {"documentType": case["documentType"], "rawTexts": case["rawTexts"]}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["provider"] == "openai"
    assert confident_injected_values(case, body) == {}


def test_the_obeying_models_injected_values_are_dropped_with_a_warning(fake_openai, signed_client):
    case = CORPUS[0]
    fake_openai.configure(mode="obey")
    fake_openai.add_cases([{**case, "expected": case["right"]}])

    body = signed_client.post_json(
        ANALYZE, {"documentType": case["documentType"], "rawTexts": case["rawTexts"]}
    ).json()

    assert body["fields"]["idNumber"] == "11010519491231002X"
    assert body["fields"]["birthDate"] == "1949-12-31"
    assert any(
        w.startswith("idNumber: the model's value is only in a line") for w in body["warnings"]
    )


def test_an_instruction_line_is_named_in_the_warnings():
    case = CORPUS[0]
    body = rules_answer(case["documentType"], case["rawTexts"])

    assert any("read as instructions" in w for w in body["warnings"])
    assert body["fields"]["idNumber"] == "11010519491231002X"
