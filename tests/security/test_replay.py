"""Replay protection and rate limits hold across workers, and fail closed when their store is down.

The two-worker tests start `make serve` with the stores of the test run: on the embedded default
(SQLite, no Redis) nonces and counters live in the database; with REDIS_URL set, in Redis.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_ratelimit.core import _get_window

from ocr.models import UsedNonce
from ocr.tasks import purge_used_nonces
from tests.documents import ID_CARD
from tests.servers import create_key, server_env, serving
from tests.signing import signature_headers

ANALYZE = "/api/v1/ocr/analyze"
COPIES = 8
RATE_LIMIT = 5
REQUESTS_OVER_LIMIT = 12
WINDOW_MARGIN_SECONDS = 10
# A port nothing listens on: Redis "down".
CLOSED_REDIS_URL = "redis://127.0.0.1:1/0"


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    """`make serve` with two workers; yields its port and a function that makes a key (id,
    secret) with a rate limit."""
    scratch = tmp_path_factory.mktemp("two-workers")
    env = server_env(scratch, drop={"OPENAI_API_KEY", "OPENAI_BASE_URL"})
    with serving(env, log_path=scratch / "serve.log") as port:
        yield port, lambda rate_limit: create_key(env, "replay", "--rate-limit", str(rate_limit))


def wait_for_a_fresh_window(key_id: str) -> None:
    """Sleep past the end of the key's rate-limit minute if it ends within seconds, so a burst
    is counted in one window."""
    seconds_left = _get_window(key_id, 60) - time.time()
    if seconds_left < WINDOW_MARGIN_SECONDS:
        time.sleep(seconds_left + 1)


def send(port: int, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{ANALYZE}",
        data=body,
        headers={**headers, "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def body_for(number: int) -> bytes:
    item = {**ID_CARD, "rawTexts": [*ID_CARD["rawTexts"], f"REF {number}"]}
    return json.dumps(item, ensure_ascii=False).encode()


def test_the_same_signed_request_sent_at_once_to_two_workers_is_accepted_once(two_workers):
    port, make_key = two_workers
    key_id, secret = make_key(0)
    body = body_for(0)
    headers = signature_headers(
        key_id=key_id, secret=secret, method="POST", path=ANALYZE, body=body
    )

    with ThreadPoolExecutor(max_workers=COPIES) as pool:
        answers = list(pool.map(lambda _: send(port, body, headers), range(COPIES)))

    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] + [401] * (COPIES - 1)
    reasons = {body["error"]["details"]["reason"] for status, body in answers if status == 401}
    assert reasons == {"nonce_reused"}


def test_a_rate_limit_holds_across_two_workers(two_workers):
    port, make_key = two_workers
    key_id, secret = make_key(RATE_LIMIT)
    wait_for_a_fresh_window(key_id)
    signed = []
    for number in range(REQUESTS_OVER_LIMIT):
        body = body_for(100 + number)
        headers = signature_headers(
            key_id=key_id, secret=secret, method="POST", path=ANALYZE, body=body
        )
        signed.append((body, headers))

    with ThreadPoolExecutor(max_workers=REQUESTS_OVER_LIMIT) as pool:
        answers = list(pool.map(lambda request: send(port, *request), signed))

    statuses = [status for status, _ in answers]
    assert statuses.count(200) == RATE_LIMIT
    assert statuses.count(429) == REQUESTS_OVER_LIMIT - RATE_LIMIT


@pytest.fixture
def redis_down(settings):
    """The nonce check in Redis, with Redis at a closed port."""
    settings.CACHES = {
        "default": {
            "BACKEND": "quickvault.runtime.cache.AsyncRedisCache",
            "LOCATION": CLOSED_REDIS_URL,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        },
        "ratelimit": settings.CACHES["ratelimit"],
    }
    settings.QV_NONCE_STORE = "cache"


@pytest.mark.django_db
def test_a_signed_request_is_refused_with_503_while_redis_is_down(redis_down, signed_client):
    response = signed_client.post_json(ANALYZE, ID_CARD)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert int(response["Retry-After"]) > 0


@pytest.mark.django_db
def test_the_nonce_check_may_be_set_to_fail_open(redis_down, signed_client, settings):
    settings.QV_NONCE_FAIL_OPEN = True

    assert signed_client.post_json(ANALYZE, ID_CARD).status_code == 200


@pytest.mark.django_db
def test_a_replay_is_refused_by_the_nonce_table_without_redis(signed_client, settings):
    settings.QV_NONCE_STORE = "database"
    nonce = "table-nonce-0123456789"

    first = signed_client.post_json(ANALYZE, ID_CARD, nonce=nonce)
    second = signed_client.post_json(ANALYZE, ID_CARD, nonce=nonce)

    assert first.status_code == 200
    assert second.json()["error"]["details"] == {"reason": "nonce_reused"}
    assert UsedNonce.objects.filter(nonce=nonce).count() == 1


@pytest.mark.django_db
def test_purge_nonces_deletes_expired_nonces_and_keeps_live_ones():
    past = timezone.now() - timedelta(minutes=1)
    future = timezone.now() + timedelta(minutes=5)
    UsedNonce.objects.bulk_create(
        [UsedNonce(key_id="qv_a", nonce=f"old-{n:016d}", expires_at=past) for n in range(7)]
        + [UsedNonce(key_id="qv_a", nonce="live-0123456789abcdef", expires_at=future)]
    )

    call_command("purge_nonces", "--batch-size", "3", stdout=open(os.devnull, "w"))  # noqa: SIM115

    assert list(UsedNonce.objects.values_list("nonce", flat=True)) == ["live-0123456789abcdef"]


@pytest.mark.django_db
def test_an_expired_nonce_row_does_not_block_its_key(api_key):
    key, _ = api_key
    UsedNonce.objects.create(
        key_id=key.key_id,
        nonce="expired-0123456789",
        expires_at=timezone.now() - timedelta(seconds=1),
    )

    assert UsedNonce.claim(key_id=key.key_id, nonce="expired-0123456789", lifetime_seconds=600)
    assert not UsedNonce.claim(key_id=key.key_id, nonce="expired-0123456789", lifetime_seconds=600)


@pytest.mark.django_db
def test_the_beat_task_purges_expired_nonces(settings):
    UsedNonce.objects.create(
        key_id="qv_a", nonce="old-0123456789abcdef", expires_at=timezone.now() - timedelta(1)
    )
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    purge_used_nonces.delay()

    assert "ocr.tasks.purge_used_nonces" in scheduled
    assert not UsedNonce.objects.exists()
