"""The analyze, batch and feedback endpoints as the app sees them: answers and errors."""

import json

import pytest

from ocr.models import ApiKey, Feedback, OcrRequest
from tests.documents import ID_CARD, ID_FIELDS
from tests.signing import SignedClient

ANALYZE = "/api/v1/ocr/analyze"
BATCH = "/api/v1/ocr/batch-analyze"
FEEDBACK = "/api/v1/ocr/feedback"

RESPONSE_KEYS = {
    "requestId",
    "documentType",
    "fields",
    "fieldConfidence",
    "validation",
    "confidence",
    "warnings",
    "template",
    "experiment",
    "provider",
    "model",
    "cached",
    "processingTimeMs",
    "likelyDocumentType",
}


def error_of(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


@pytest.mark.django_db
def test_analyze_answers_every_key_of_the_contract(signed_client: SignedClient):
    body = signed_client.post_json(ANALYZE, ID_CARD).json()

    assert set(body) == RESPONSE_KEYS
    assert body["provider"] == "rules"
    assert body["model"] is None
    assert body["template"]["name"] == "idCard"


@pytest.mark.django_db
def test_analyze_extracts_canonical_fields(signed_client: SignedClient):
    fields = signed_client.post_json(ANALYZE, ID_CARD).json()["fields"]

    assert fields == ID_FIELDS


@pytest.mark.django_db
def test_null_fields_have_null_confidence(signed_client: SignedClient):
    confidence = signed_client.post_json(ANALYZE, ID_CARD).json()["fieldConfidence"]

    assert confidence["validFrom"] is None
    assert 0.9 <= confidence["idNumber"] <= 1


@pytest.mark.django_db
def test_validated_number_reports_its_check(signed_client: SignedClient):
    validation = signed_client.post_json(ANALYZE, ID_CARD).json()["validation"]

    assert validation["idNumber"]["valid"] is True
    assert validation["idNumber"]["errors"] == []


@pytest.mark.django_db
def test_failing_check_digit_scores_below_one_half(signed_client: SignedClient):
    bad = {**ID_CARD, "rawTexts": [*ID_CARD["rawTexts"][:4], "公民身份号码 110105194912310021"]}

    body = signed_client.post_json(ANALYZE, bad).json()

    assert body["validation"]["idNumber"]["valid"] is False
    assert body["fieldConfidence"]["idNumber"] < 0.5


@pytest.mark.django_db
def test_document_type_is_detected_when_left_out(signed_client: SignedClient):
    body = signed_client.post_json(ANALYZE, {"rawTexts": ID_CARD["rawTexts"]}).json()

    assert body["documentType"] == "idCard"


@pytest.mark.django_db
def test_undetectable_type_is_invalid_and_names_document_type(signed_client: SignedClient):
    response = signed_client.post_json(ANALYZE, {"rawTexts": ["hello", "world"]})

    error = error_of(response, 400, "invalid_request")
    assert "documentType" in error["details"]


@pytest.mark.django_db
def test_unknown_document_type_is_invalid(signed_client: SignedClient):
    response = signed_client.post_json(ANALYZE, {**ID_CARD, "documentType": "library_card"})

    error = error_of(response, 400, "invalid_request")
    assert "documentType" in error["details"]


@pytest.mark.django_db
def test_malformed_json_is_invalid(signed_client: SignedClient):
    response = signed_client.post_raw(ANALYZE, b'{"rawTexts": ["a",')

    error_of(response, 400, "invalid_request")


@pytest.mark.django_db
def test_json_that_is_not_an_object_is_invalid(signed_client: SignedClient):
    response = signed_client.post_json(ANALYZE, ["姓名 张三"])

    error_of(response, 400, "invalid_request")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "raw_texts", [[], None, "姓名 张三", [1, 2], [["nested"]], [None], ["", "  "]]
)
def test_empty_or_wrongly_typed_raw_texts_are_invalid(signed_client: SignedClient, raw_texts):
    response = signed_client.post_json(ANALYZE, {"documentType": "idCard", "rawTexts": raw_texts})

    error = error_of(response, 400, "invalid_request")
    assert "rawTexts" in error["details"]


@pytest.mark.django_db
def test_missing_raw_texts_is_invalid(signed_client: SignedClient):
    response = signed_client.post_json(ANALYZE, {"documentType": "idCard"})

    assert "rawTexts" in error_of(response, 400, "invalid_request")["details"]


@pytest.mark.django_db
def test_wrongly_typed_document_type_is_invalid(signed_client: SignedClient):
    response = signed_client.post_json(ANALYZE, {**ID_CARD, "documentType": 7})

    assert "documentType" in error_of(response, 400, "invalid_request")["details"]


@pytest.mark.django_db
def test_wrongly_typed_options_are_invalid(signed_client: SignedClient):
    response = signed_client.post_json(ANALYZE, {**ID_CARD, "options": "fast"})

    assert "options" in error_of(response, 400, "invalid_request")["details"]


@pytest.mark.django_db
def test_more_than_200_lines_is_too_large(signed_client: SignedClient):
    response = signed_client.post_json(ANALYZE, {"documentType": "idCard", "rawTexts": ["a"] * 201})

    error_of(response, 413, "payload_too_large")


@pytest.mark.django_db
def test_200_lines_are_accepted(signed_client: SignedClient):
    lines = ID_CARD["rawTexts"] + ["-"] * (200 - len(ID_CARD["rawTexts"]))

    response = signed_client.post_json(ANALYZE, {"documentType": "idCard", "rawTexts": lines})

    assert response.status_code == 200


@pytest.mark.django_db
def test_line_over_2000_characters_is_too_large(signed_client: SignedClient):
    response = signed_client.post_json(
        ANALYZE, {"documentType": "idCard", "rawTexts": ["a" * 2001]}
    )

    error_of(response, 413, "payload_too_large")


@pytest.mark.django_db
def test_more_than_20000_characters_in_all_is_too_large(signed_client: SignedClient):
    lines = ["a" * 1999] * 11

    response = signed_client.post_json(ANALYZE, {"documentType": "idCard", "rawTexts": lines})

    error_of(response, 413, "payload_too_large")


@pytest.mark.django_db
def test_body_over_256_kib_is_too_large(signed_client: SignedClient):
    body = json.dumps({"documentType": "idCard", "rawTexts": ["a"], "pad": "x" * 262_200}).encode()

    response = signed_client.post_raw(ANALYZE, body)

    error_of(response, 413, "payload_too_large")


@pytest.mark.django_db
def test_non_json_body_is_unsupported(signed_client: SignedClient):
    response = signed_client.post_raw(ANALYZE, b"rawTexts=a", content_type="text/plain")

    error_of(response, 415, "unsupported_media_type")


@pytest.mark.django_db
def test_form_body_is_unsupported(signed_client: SignedClient):
    response = signed_client.post_raw(
        ANALYZE, b"rawTexts=a", content_type="application/x-www-form-urlencoded"
    )

    error_of(response, 415, "unsupported_media_type")


@pytest.mark.django_db
def test_wrong_method_answers_in_the_envelope(signed_client: SignedClient):
    error_of(signed_client.get(ANALYZE), 405, "method_not_allowed")


@pytest.mark.django_db
def test_unknown_address_answers_in_the_envelope(client):
    error_of(client.get("/api/v1/does-not-exist"), 404, "not_found")


@pytest.mark.django_db
def test_key_limited_to_other_types_is_forbidden(api_key, signed_client: SignedClient):
    key, _ = api_key
    key.allowed_document_types = ["passport"]
    key.save()

    error_of(signed_client.post_json(ANALYZE, ID_CARD), 403, "forbidden")


@pytest.mark.django_db
def test_over_the_rate_limit_is_429_with_retry_after(api_key, signed_client: SignedClient):
    key, _ = api_key
    ApiKey.objects.filter(pk=key.pk).update(rate_limit=2)
    statuses = [signed_client.post_json(ANALYZE, ID_CARD).status_code for _ in range(2)]

    response = signed_client.post_json(ANALYZE, ID_CARD)

    assert statuses == [200, 200]
    error_of(response, 429, "rate_limited")
    assert 1 <= int(response["Retry-After"]) <= 60


@pytest.mark.django_db
def test_rate_limit_is_per_key(api_key, signed_client: SignedClient):
    ApiKey.objects.filter(pk=api_key[0].pk).update(rate_limit=1)
    other_key, other_secret = ApiKey.issue(name="other", rate_limit=1)
    other = SignedClient(key_id=other_key.key_id, secret=other_secret)
    signed_client.post_json(ANALYZE, ID_CARD)

    assert other.post_json(ANALYZE, ID_CARD).status_code == 200


@pytest.mark.django_db
def test_repeated_request_comes_from_the_cache(signed_client: SignedClient):
    first = signed_client.post_json(ANALYZE, ID_CARD).json()

    second = signed_client.post_json(ANALYZE, ID_CARD).json()

    assert first["cached"] is False
    assert second["cached"] is True
    assert second["fields"] == first["fields"]
    assert second["requestId"] != first["requestId"]


@pytest.mark.django_db
def test_use_cache_false_skips_the_cache(signed_client: SignedClient):
    signed_client.post_json(ANALYZE, ID_CARD)

    body = signed_client.post_json(ANALYZE, {**ID_CARD, "options": {"useCache": False}}).json()

    assert body["cached"] is False


@pytest.mark.django_db
def test_analysis_is_logged_with_sensitive_values_masked(signed_client: SignedClient):
    request_id = signed_client.post_json(ANALYZE, ID_CARD).json()["requestId"]

    logged = OcrRequest.objects.get(request_id=request_id)
    assert logged.fields["idNumber"] == "110*************2X"
    assert logged.fields["name"] == "张三"
    assert logged.provider == "rules"
    assert logged.raw_text == ""


@pytest.mark.django_db
def test_batch_answers_in_order(signed_client: SignedClient):
    card = {"documentType": "bankCard", "rawTexts": ["中国银行", "6216 6132 8071 0374 854"]}

    results = signed_client.post_json(BATCH, {"items": [ID_CARD, card]}).json()["results"]

    assert [r["documentType"] for r in results] == ["idCard", "bankCard"]


@pytest.mark.django_db
def test_batch_with_one_bad_item_answers_the_others(signed_client: SignedClient):
    items = [ID_CARD, {"documentType": "idCard", "rawTexts": []}, ID_CARD]

    response = signed_client.post_json(BATCH, {"items": items})

    assert response.status_code == 200
    results = response.json()["results"]
    assert results[0]["fields"]["name"] == "张三"
    assert results[1]["error"]["code"] == "invalid_request"
    assert results[2]["fields"]["name"] == "张三"


@pytest.mark.django_db
def test_batch_of_more_than_20_items_is_too_large(signed_client: SignedClient):
    response = signed_client.post_json(BATCH, {"items": [ID_CARD] * 21})

    error_of(response, 413, "payload_too_large")


@pytest.mark.django_db
@pytest.mark.parametrize("items", [[], None, "x", {"a": 1}])
def test_batch_without_items_is_invalid(signed_client: SignedClient, items):
    response = signed_client.post_json(BATCH, {"items": items})

    error_of(response, 400, "invalid_request")


@pytest.mark.django_db
def test_feedback_is_recorded(signed_client: SignedClient):
    request_id = signed_client.post_json(ANALYZE, ID_CARD).json()["requestId"]

    response = signed_client.post_json(
        FEEDBACK, {"requestId": request_id, "corrections": {"name": "李四"}}
    )

    assert response.status_code == 204
    feedback = Feedback.objects.get(request__request_id=request_id)
    assert feedback.corrected_fields == ["name"]
    assert feedback.accuracy == pytest.approx(8 / 9)


@pytest.mark.django_db
def test_feedback_masks_sensitive_corrections(signed_client: SignedClient):
    request_id = signed_client.post_json(ANALYZE, ID_CARD).json()["requestId"]

    signed_client.post_json(
        FEEDBACK, {"requestId": request_id, "corrections": {"idNumber": "110105194912310021"}}
    )

    assert Feedback.objects.get().corrections == {"idNumber": "110*************21"}


@pytest.mark.django_db
def test_empty_corrections_mean_every_field_was_right(signed_client: SignedClient):
    request_id = signed_client.post_json(ANALYZE, ID_CARD).json()["requestId"]

    signed_client.post_json(FEEDBACK, {"requestId": request_id, "corrections": {}})

    assert Feedback.objects.get().accuracy == 1.0


@pytest.mark.django_db
def test_feedback_on_an_unknown_request_is_not_found(signed_client: SignedClient):
    response = signed_client.post_json(
        FEEDBACK,
        {"requestId": "6f1c0e0a-0000-4000-8000-000000000000", "corrections": {}},
    )

    error_of(response, 404, "not_found")


@pytest.mark.django_db
def test_feedback_on_another_keys_request_is_not_found(signed_client: SignedClient):
    request_id = signed_client.post_json(ANALYZE, ID_CARD).json()["requestId"]
    other_key, other_secret = ApiKey.issue(name="other", rate_limit=0)
    other = SignedClient(key_id=other_key.key_id, secret=other_secret)

    response = other.post_json(FEEDBACK, {"requestId": request_id, "corrections": {}})

    error_of(response, 404, "not_found")


@pytest.mark.django_db
def test_feedback_with_an_unknown_field_is_invalid(signed_client: SignedClient):
    request_id = signed_client.post_json(ANALYZE, ID_CARD).json()["requestId"]

    response = signed_client.post_json(
        FEEDBACK, {"requestId": request_id, "corrections": {"shoeSize": "42"}}
    )

    error_of(response, 400, "invalid_request")


@pytest.mark.django_db
def test_feedback_with_a_malformed_request_id_is_invalid(signed_client: SignedClient):
    response = signed_client.post_json(FEEDBACK, {"requestId": "nope", "corrections": {}})

    assert "requestId" in error_of(response, 400, "invalid_request")["details"]


@pytest.mark.django_db
def test_document_types_list_fields_for_the_app(signed_client: SignedClient):
    types = {t["key"]: t for t in signed_client.get("/api/v1/document-types").json()}

    assert set(types) == {
        "idCard",
        "passport",
        "driverLicense",
        "bankCard",
        "businessLicense",
        "vehicleLicense",
    }
    card_number = types["bankCard"]["fields"][0]
    assert card_number == {
        "key": "cardNumber",
        "label": "卡号",
        "format": "digits",
        "required": True,
        "sensitive": True,
        "validator": "luhn",
    }


@pytest.mark.django_db
def test_document_types_need_a_signature(client):
    error_of(client.get("/api/v1/document-types"), 401, "unauthorized")
