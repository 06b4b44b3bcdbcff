"""Finding 8: per-key daily quotas, and an Idempotency-Key that makes a retry cost nothing.

The two-worker tests start `make serve` with the stores of the test run: on the embedded default
(SQLite, no Redis) and on PostgreSQL without Redis, records and counts live in the database; with
REDIS_URL set, in Redis. The model is the fake server, which counts the calls it gets.
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ocr.models import ApiKey, IdempotencyRecord, OcrRequest, RateCounter
from ocr.quotas import seconds_to_utc_midnight
from quickvault.asgi import application
from tests.documents import ID_CARD, ID_FIELDS
from tests.fakes.openai_server import sleep
from tests.security.asgi_harness import exchange, http_scope
from tests.security.test_replay import send
from tests.servers import create_key, server_env, serving
from tests.signing import SignedClient, signature_headers

pytestmark = pytest.mark.django_db

ANALYZE = "/api/v1/ocr/analyze"
BATCH = "/api/v1/ocr/batch-analyze"
OTHER_ID_CARD = {**ID_CARD, "rawTexts": ["姓名 李四", *ID_CARD["rawTexts"][1:]]}
COPIES = 8
QUOTA = 5
REQUESTS_OVER_QUOTA = 12


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


def test_a_request_without_idempotency_key_or_quota_costs_no_statement_of_either(signed_client):
    with CaptureQueriesContext(connection) as queries:
        response = signed_client.post_json(ANALYZE, ID_CARD)

    assert response.status_code == 200
    statements = " ".join(query["sql"] for query in queries.captured_queries).lower()
    assert IdempotencyRecord._meta.db_table not in statements
    assert "quota:" not in statements


def test_purge_nonces_deletes_expired_idempotency_records_and_keeps_live_ones():
    now = timezone.now()
    IdempotencyRecord.objects.bulk_create(
        [
            IdempotencyRecord(
                key_id="qv_a", idempotency_key=key, fingerprint="f" * 64, expires_at=expires
            )
            for key, expires in [
                ("old", now - timedelta(seconds=1)),
                ("live", now + timedelta(hours=1)),
            ]
        ]
    )

    call_command("purge_nonces", "--batch-size", "1")

    assert list(IdempotencyRecord.objects.values_list("idempotency_key", flat=True)) == ["live"]


def test_a_past_days_quota_counter_is_purged(api_key, signed_client, settings):
    key, _ = api_key
    key.daily_request_quota = 3
    key.save()
    settings.QV_QUOTA_STORE = "database"
    signed_client.post_json(ANALYZE, ID_CARD)
    RateCounter.objects.filter(cache_key__contains="quota:").update(expires=0)

    call_command("purge_nonces")

    assert not RateCounter.objects.filter(cache_key__contains="quota:").exists()


# --- two workers of `make serve` ------------------------------------------------------------


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory, fake_openai_server):
    """`make serve` with two workers answering through the fake model; yields its port and a
    function that makes a key (id, secret) without a rate limit, with a daily quota or none."""
    scratch = tmp_path_factory.mktemp("two-workers-idempotency")
    env = server_env(scratch, drop={"OPENAI_API_KEY", "OPENAI_BASE_URL"}) | {
        "QV_PROVIDER": "auto",
        "OPENAI_BASE_URL": fake_openai_server.base_url,
        "OPENAI_API_KEY": "sk-test-not-a-real-key",
    }
    with serving(env, log_path=scratch / "serve.log") as port:
        yield port, lambda quota=None: key_with_quota(env, quota)


def key_with_quota(env: dict[str, str], quota: int | None) -> tuple[str, str]:
    quota_options = () if quota is None else ("--daily-request-quota", str(quota))
    return create_key(env, "idempotency", "--rate-limit", "0", *quota_options)


def signed_copies(key_id: str, secret: str, body: bytes, **headers: str) -> list[tuple]:
    """COPIES requests of `body`, each signed with a nonce of its own."""
    return [
        (
            body,
            signature_headers(key_id=key_id, secret=secret, method="POST", path=ANALYZE, body=body)
            | headers,
        )
        for _ in range(COPIES)
    ]


def send_all(port: int, requests: list[tuple]) -> list[tuple[int, dict]]:
    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(lambda request: send(port, *request), requests))


def uncached(document: dict) -> bytes:
    return json.dumps({**document, "options": {"useCache": False}}, ensure_ascii=False).encode()


def test_copies_of_an_idempotent_request_across_two_workers_make_one_model_call(two_workers, fake):
    port, make_key = two_workers
    key_id, secret = make_key()
    # The first call takes a while, so the other copies arrive while it is in flight.
    fake.script(sleep(1.0))

    answers = send_all(
        port, signed_copies(key_id, secret, uncached(ID_CARD), **{"Idempotency-Key": "pay-1"})
    )

    assert [status for status, _ in answers] == [200] * COPIES
    assert all(body == answers[0][1] for _, body in answers)
    assert answers[0][1]["provider"] == "openai"
    assert fake.calls == 1


def test_the_same_idempotency_key_with_another_body_is_a_409_on_any_worker(two_workers, fake):
    port, make_key = two_workers
    key_id, secret = make_key()
    first = send_all(
        port, signed_copies(key_id, secret, uncached(ID_CARD), **{"Idempotency-Key": "pay-2"})[:1]
    )

    others = send_all(
        port,
        signed_copies(key_id, secret, uncached(OTHER_ID_CARD), **{"Idempotency-Key": "pay-2"}),
    )

    assert first[0][0] == 200
    assert [status for status, _ in others] == [409] * COPIES
    assert {body["error"]["code"] for _, body in others} == {"idempotency_conflict"}
    assert fake.calls == 1


def test_a_daily_request_quota_holds_across_two_workers(two_workers, fake):
    port, make_key = two_workers
    key_id, secret = make_key(QUOTA)
    requests = []
    for number in range(REQUESTS_OVER_QUOTA):
        body = uncached({**ID_CARD, "rawTexts": [*ID_CARD["rawTexts"], f"REF {number}"]})
        headers = signature_headers(
            key_id=key_id, secret=secret, method="POST", path=ANALYZE, body=body
        )
        requests.append((body, headers))

    answers = send_all(port, requests)

    statuses = [status for status, _ in answers]
    assert statuses.count(200) == QUOTA
    assert statuses.count(429) == REQUESTS_OVER_QUOTA - QUOTA
    assert {body["error"]["code"] for status, body in answers if status == 429} == {
        "quota_exceeded"
    }
