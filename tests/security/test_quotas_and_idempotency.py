"""Finding 8: per-key daily quotas, and an Idempotency-Key that makes a retry cost nothing."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from asgiref.sync import async_to_sync

from ocr.models import ApiKey, OcrRequest
from ocr.quotas import seconds_to_utc_midnight
from quickvault.asgi import application
from tests.documents import ID_CARD, ID_FIELDS
from tests.fakes.openai_server import sleep
from tests.security.asgi_harness import exchange, http_scope
from tests.signing import SignedClient, signature_headers

pytestmark = pytest.mark.django_db

ANALYZE = "/api/v1/ocr/analyze"
BATCH = "/api/v1/ocr/batch-analyze"
OTHER_ID_CARD = {**ID_CARD, "rawTexts": ["姓名 李四", *ID_CARD["rawTexts"][1:]]}


@pytest.fixture
def fake(fake_openai):
    fake_openai.add_cases([{**ID_CARD, "id": "id-card", "expected": ID_FIELDS}])
    return fake_openai


def test_a_key_over_its_daily_request_quota_gets_429_until_utc_midnight(api_key, signed_client):
    key, _ = api_key
    key.daily_request_quota = 2
    key.save()

    answers = [signed_client.post_json(ANALYZE, ID_CARD) for _ in range(3)]

    assert [response.status_code for response in answers] == [200, 200, 429]
    refused = answers[2]
    assert refused.json()["error"]["code"] == "quota_exceeded"
    assert abs(int(refused["Retry-After"]) - seconds_to_utc_midnight()) <= 5


def test_a_batch_counts_each_item_against_the_request_quota(api_key, signed_client):
    key, _ = api_key
    key.daily_request_quota = 3
    key.save()

    first = signed_client.post_json(BATCH, {"items": [ID_CARD, ID_CARD]})
    second = signed_client.post_json(BATCH, {"items": [ID_CARD, ID_CARD]})

    assert first.status_code == 200
    assert second.status_code == 429
    assert second.json()["error"]["code"] == "quota_exceeded"


def test_a_key_over_its_daily_token_quota_gets_429(api_key, signed_client, fake):
    key, _ = api_key
    key.daily_token_quota = 10
    key.save()

    first = signed_client.post_json(ANALYZE, ID_CARD)
    second = signed_client.post_json(ANALYZE, OTHER_ID_CARD)

    assert first.status_code == 200 and first.json()["provider"] == "openai"
    assert second.status_code == 429
    assert second.json()["error"]["details"]["unit"] == "tokens"
    assert fake.calls == 1


def test_seconds_to_utc_midnight_counts_down_to_the_next_day():
    assert seconds_to_utc_midnight(datetime(2026, 1, 1, 23, 59, 30, tzinfo=UTC)) == 30
    assert seconds_to_utc_midnight(datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)) == 86400


def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer_and_no_model_call(
    signed_client, fake
):
    headers = {"HTTP_IDEMPOTENCY_KEY": "order-42_a"}

    first = signed_client.client.post(ANALYZE, **signed(signed_client, ID_CARD), **headers)
    retry = signed_client.client.post(ANALYZE, **signed(signed_client, ID_CARD), **headers)

    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert fake.calls == 1
    assert OcrRequest.objects.count() == 1


def test_the_same_idempotency_key_with_another_body_is_a_409(signed_client, fake):
    headers = {"HTTP_IDEMPOTENCY_KEY": "k1"}
    signed_client.client.post(ANALYZE, **signed(signed_client, ID_CARD), **headers)

    other = signed_client.client.post(ANALYZE, **signed(signed_client, OTHER_ID_CARD), **headers)

    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_conflict"
    assert fake.calls == 1


@pytest.mark.parametrize("bad", ["", "x" * 129, "has space", "ключ", "a/b"])
def test_a_malformed_idempotency_key_is_a_400(signed_client, bad):
    response = signed_client.client.post(
        ANALYZE, **signed(signed_client, ID_CARD), HTTP_IDEMPOTENCY_KEY=bad
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {
        "Idempotency-Key": ["1 to 128 characters of [A-Za-z0-9_-]."]
    }


def test_another_key_id_does_not_share_an_idempotency_key(signed_client, fake):
    other_key, other_secret = ApiKey.issue(name="other app", rate_limit=0)
    other_client = SignedClient(key_id=other_key.key_id, secret=other_secret)
    headers = {"HTTP_IDEMPOTENCY_KEY": "shared"}

    first = signed_client.client.post(ANALYZE, **signed(signed_client, ID_CARD), **headers)
    second = other_client.client.post(ANALYZE, **signed(other_client, ID_CARD), **headers)

    assert first.status_code == second.status_code == 200
    assert first.json()["requestId"] != second.json()["requestId"]


def test_a_retry_sent_while_the_first_is_in_flight_waits_for_its_answer(api_key, fake):
    key, secret = api_key
    fake.script(sleep(0.8))  # the first call is slow; any second one would answer at once
    body = json.dumps(ID_CARD, ensure_ascii=False).encode()

    def scope():
        headers = signature_headers(
            key_id=key.key_id, secret=secret, method="POST", path=ANALYZE, body=body
        )
        headers |= {
            "content-type": "application/json",
            "content-length": str(len(body)),
            "idempotency-key": "in-flight-1",
        }
        return http_scope(ANALYZE, headers)

    async def both():
        first = asyncio.create_task(exchange(application, scope(), iter([body])))
        while fake.calls == 0:  # the retry is sent once the first has reached the model
            await asyncio.sleep(0.01)
        second = await exchange(application, scope(), iter([body]))
        return await first, second

    first, second = async_to_sync(both)()

    assert first.status == second.status == 200
    assert first.json()["requestId"] == second.json()["requestId"]
    assert fake.calls == 1


def signed(client, data) -> dict:
    """Keyword arguments for Django's test client: a signed JSON POST of `data`."""
    body = json.dumps(data, ensure_ascii=False).encode()
    headers = client.headers("POST", ANALYZE, body)
    return {
        "data": body,
        "content_type": "application/json",
        **{f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()},
    }
