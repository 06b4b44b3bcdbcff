"""The schema and the API agree on the three disagreements schemathesis found (empty rawTexts,
a batch item without rawTexts, NUL in feedback), and documentType is an enum in the schema."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from ocr.models import OcrRequest, RequestStatus
from prompts.document_types import DocumentTypeKey

ANALYZE = "/api/v1/ocr/analyze"


@pytest.fixture(scope="module")
def components() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]


def test_the_schema_asks_for_at_least_one_line_with_text(components):
    raw_texts = components["AnalyzeInputRequest"]["properties"]["rawTexts"]

    assert raw_texts["minItems"] == 1
    assert raw_texts["not"] == {"items": {"pattern": r"^\s*$"}}


def test_document_type_is_an_enum_of_the_shipped_keys(components):
    assert components["DocumentTypeEnum"]["enum"] == list(DocumentTypeKey.values)


def test_the_schema_lets_a_batch_item_be_anything_and_says_it_is_checked_alone(components):
    items = components["BatchAnalyzeInputRequest"]["properties"]["items"]

    assert {} in items["items"]["anyOf"]
    assert items["maxItems"] == 20


@pytest.mark.django_db
def test_a_batch_item_without_raw_texts_gets_an_error_of_its_own(signed_client):
    response = signed_client.post_json(
        "/api/v1/ocr/batch-analyze",
        {"items": [{"documentType": "idCard"}, {"rawTexts": ["姓名 张三", "公民身份号码 1"]}]},
    )

    assert response.status_code == 200
    first, second = response.json()["results"]
    assert first["error"]["code"] == "invalid_request"
    assert "items[0].rawTexts" in first["error"]["details"]
    assert "error" not in second


@pytest.mark.django_db
def test_empty_raw_texts_are_a_400(signed_client):
    for raw_texts in ([], ["", "  "]):
        response = signed_client.post_json(ANALYZE, {"rawTexts": raw_texts})

        assert response.status_code == 400
        assert "rawTexts" in response.json()["error"]["details"]


def test_the_schema_refuses_nul_in_lines_and_corrections(components):
    lines = components["AnalyzeInputRequest"]["properties"]["rawTexts"]["items"]
    corrections = components["InputRequest"]["properties"]["corrections"]

    assert lines["pattern"] == corrections["additionalProperties"]["pattern"] == r"^[^\u0000]*$"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "corrections", [{"name\u0000": "李四"}, {"name": "李\u0000四"}], ids=["key", "value"]
)
def test_nul_in_feedback_is_a_400_naming_corrections(signed_client, api_key, corrections):
    logged = OcrRequest.objects.create(
        api_key=api_key[0], document_type="idCard", status=RequestStatus.SUCCESS
    )

    response = signed_client.post_json(
        "/api/v1/ocr/feedback", {"requestId": str(logged.request_id), "corrections": corrections}
    )

    assert response.status_code == 400
    assert "corrections" in response.json()["error"]["details"]
    assert not logged.feedback.exists()
