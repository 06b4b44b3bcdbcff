"""Behind a weak model (the fake's ``weak`` mode: labels as values, numbers cut short, bank names
translated) the service answers no worse than the built-in extractor alone, and nothing wrong
with confidence."""

import unicodedata

import pytest

from ocr.casegen import SAMPLE_SET
from ocr.evaluation import load_cases
from tests.ocr.answers import rules_answer

pytestmark = pytest.mark.django_db

ANALYZE = "/api/v1/ocr/analyze"
CASES = load_cases(SAMPLE_SET)


def form(value: str | None) -> str | None:
    """The contract's comparison: NFKC, no white space, upper case."""
    if value is None:
        return None
    return "".join(unicodedata.normalize("NFKC", value).split()).upper()


def right_fields(case: dict, body: dict) -> int:
    return sum(form(body["fields"][k]) == form(v) for k, v in case["expected"].items())


def confident_wrong(case: dict, body: dict) -> list[str]:
    return [
        key
        for key, value in case["expected"].items()
        if (body["fieldConfidence"][key] or 0) >= 0.9 and form(body["fields"][key]) != form(value)
    ]


@pytest.fixture
def weak_answers(fake_openai, signed_client) -> list[tuple[dict, dict]]:
    fake_openai.configure(mode="weak")
    fake_openai.add_cases(CASES)
    pairs = []
    for case in CASES:
        response = signed_client.post_json(
            ANALYZE,
            {"documentType": case["documentType"], "rawTexts": case["rawTexts"]},
        )
        assert response.status_code == 200
        pairs.append((case, response.json()))
    return pairs


def test_no_case_is_answered_worse_behind_the_weak_model_than_by_the_rules_alone(weak_answers):
    worse = [
        case["id"]
        for case, body in weak_answers
        if right_fields(case, body)
        < right_fields(case, rules_answer(case["documentType"], case["rawTexts"]))
    ]

    assert worse == []
    assert all(body["provider"] == "openai" for _, body in weak_answers)


def test_nothing_wrong_is_given_with_confidence_behind_the_weak_model(weak_answers):
    wrong = {case["id"]: confident_wrong(case, body) for case, body in weak_answers}

    assert {k: v for k, v in wrong.items() if v} == {}


def test_a_label_is_never_taken_for_the_ethnicity(fake_openai, signed_client):
    fake_openai.configure(mode="weak")
    case = next(c for c in CASES if c["documentType"] == "idCard" and c["expected"]["ethnicity"])
    fake_openai.add_cases([case])

    body = signed_client.post_json(
        ANALYZE, {"documentType": "idCard", "rawTexts": case["rawTexts"]}
    ).json()

    assert body["fields"]["ethnicity"] == case["expected"]["ethnicity"]
    assert any("printed label" in w for w in body["warnings"])


def test_the_documents_title_is_never_taken_for_a_field_it_does_not_hold(
    fake_openai, signed_client
):
    fake_openai.configure(mode="weak")
    back = next(c for c in CASES if c["documentType"] == "idCard" and not c["expected"]["name"])
    fake_openai.add_cases([back])

    body = signed_client.post_json(
        ANALYZE, {"documentType": "idCard", "rawTexts": back["rawTexts"]}
    ).json()

    assert "居民身份证" in back["rawTexts"]
    assert body["fields"]["name"] is None
    assert any("document's title" in w for w in body["warnings"])
