"""Finding 4: inputs and faults that answered 500 now get an answer the contract allows."""

from __future__ import annotations

import json

import pytest
from django.db import InterfaceError, OperationalError, connection

from ocr import request_log
from ocr.errors import exception_response
from ocr.models import Feedback, OcrRequest
from ocr.parsers import storable
from tests.documents import ID_CARD, ID_FIELDS
from tests.fakes.openai_server import not_json, raw

pytestmark = pytest.mark.django_db

ANALYZE = "/api/v1/ocr/analyze"
FEEDBACK = "/api/v1/ocr/feedback"
DEPTH = 100_000


@pytest.fixture
def fake(fake_openai):
    fake_openai.add_cases([{**ID_CARD, "id": "id-card", "expected": ID_FIELDS}])
    return fake_openai


def test_a_deeply_nested_body_is_a_400_in_the_envelope(signed_client):
    body = b'{"documentType": "idCard", "rawTexts": ' + b"[" * DEPTH + b"]" * DEPTH + b"}"

    response = signed_client.post_raw(ANALYZE, body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert response.json()["error"]["details"] == {"body": ["Nested deeper than 32 levels."]}


def test_brackets_inside_strings_do_not_count_as_nesting(signed_client):
    body = {**ID_CARD, "rawTexts": [*ID_CARD["rawTexts"], "[" * 500 + "{" * 500]}

    response = signed_client.post_json(ANALYZE, body)

    assert response.status_code == 200


@pytest.mark.parametrize(
    "behaviour",
    [
        pytest.param(not_json(), id="a 200 that is not JSON"),
        pytest.param(raw("[" * DEPTH + "]" * DEPTH), id="deeply nested JSON"),
        pytest.param(raw('{"name": ' * DEPTH + "1" + "}" * DEPTH), id="deeply nested objects"),
    ],
)
def test_an_unusable_model_answer_falls_back_to_the_rules_with_a_warning(
    fake, signed_client, behaviour
):
    fake.script(behaviour, behaviour, behaviour)

    response = signed_client.post_json(ANALYZE, ID_CARD)

    assert response.status_code == 200, response.content
    assert response.json()["provider"] == "rules"
    assert response.json()["warnings"]
    assert response.json()["fields"]["idNumber"] == ID_FIELDS["idNumber"]


@pytest.mark.parametrize("bad", ["\\ud800", "\\u0000", "\\udfff\\u0000"])
def test_a_model_answer_with_unstorable_characters_is_served_and_logged(fake, signed_client, bad):
    fields = json.dumps({**ID_FIELDS, "address": "AAA"}, ensure_ascii=False)
    fake.script(raw(fields.replace("AAA", f"北京{bad}市")))

    response = signed_client.post_json(ANALYZE, ID_CARD)

    assert response.status_code == 200, response.content
    response.content.decode("utf-8")  # encodable: no lone surrogate went out
    row = OcrRequest.objects.get(request_id=response.json()["requestId"])
    stored = json.dumps(row.fields, ensure_ascii=False)
    assert "\x00" not in stored
    stored.encode("utf-8")  # raises on a lone surrogate


def test_a_feedback_correction_with_a_lone_surrogate_is_stored_clean(signed_client):
    analysed = signed_client.post_json(ANALYZE, ID_CARD).json()
    request_id = analysed["requestId"]
    body = f'{{"requestId": "{request_id}", "corrections": {{"address": "x\\ud800"}}}}'.encode()

    response = signed_client.post_raw(FEEDBACK, body)

    assert response.status_code == 204
    assert Feedback.objects.get().corrections == {"address": "x\ufffd"}


def test_storable_replaces_nul_and_lone_surrogates_in_keys_and_values():
    value = {"a\x00": ["\ud83d", ("ok", "\x00")], "n": 1}

    assert storable(value) == {"a\ufffd": ["\ufffd", ("ok", "\ufffd")], "n": 1}


def fail_log_inserts(execute, sql, params, many, context):
    if sql.startswith('INSERT INTO "ocr_ocrrequest"'):
        raise OperationalError("the database went away")
    return execute(sql, params, many, context)


def test_a_failing_log_insert_still_returns_the_answer_and_the_row_is_written_later(
    signed_client, settings
):
    settings.QV_LOG_RETRY_SECONDS = 3600  # written below, not by the background thread

    with connection.execute_wrapper(fail_log_inserts):
        response = signed_client.post_json(ANALYZE, ID_CARD)

    assert response.status_code == 200
    request_id = response.json()["requestId"]
    assert not OcrRequest.objects.filter(request_id=request_id).exists()
    assert request_log.retry_now() == 1
    assert OcrRequest.objects.get(request_id=request_id).fields["name"] == "张三"


def fail_every_query(execute, sql, params, many, context):
    raise OperationalError("could not connect to server: Connection refused")


def test_a_database_outage_is_a_503_with_retry_after_in_the_envelope(signed_client):
    with connection.execute_wrapper(fail_every_query):
        response = signed_client.post_json(ANALYZE, ID_CARD)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert int(response["Retry-After"]) > 0


def test_a_database_error_outside_the_views_is_a_503_envelope_too():
    response = exception_response(InterfaceError("connection already closed"))

    assert response.status_code == 503
    assert json.loads(response.content)["error"]["code"] == "service_unavailable"
    assert int(response["Retry-After"]) > 0
