"""Finding 3: a body over the limit is refused before it is read, declared or chunked."""

from __future__ import annotations

import pytest
from django.conf import settings

from quickvault.asgi import application
from quickvault.body_limit import BodyLimitMiddleware
from tests.security.asgi_harness import http_scope, run_exchange

ANALYZE = "/api/v1/ocr/analyze"
CHUNK = 64 * 1024
# Half a gibibyte, as the attack sent: generated lazily, never held.
ATTACK_BYTES = 512 * 1024 * 1024

pytestmark = pytest.mark.django_db


def endless_chunks(total: int = ATTACK_BYTES):
    sent = 0
    while sent < total:
        yield b"{" * CHUNK
        sent += CHUNK


def test_a_declared_length_over_the_limit_is_refused_before_any_body_is_received():
    scope = http_scope(
        ANALYZE, {"content-type": "application/json", "content-length": str(300 * 1024 * 1024)}
    )

    result = run_exchange(application, scope, endless_chunks())

    assert result.status == 413
    assert result.json()["error"]["code"] == "payload_too_large"
    assert result.messages_received == 0


def test_a_chunked_body_is_cut_off_at_the_limit_with_a_413_envelope():
    scope = http_scope(ANALYZE, {"content-type": "application/json"})

    result = run_exchange(application, scope, endless_chunks())

    assert result.status == 413
    assert result.headers["content-type"] == "application/json"
    assert result.json() == {
        "error": {
            "code": "payload_too_large",
            "message": "The body is over 256 KiB.",
            "details": {"maxBytes": settings.QV_MAX_BODY_BYTES},
        }
    }
    # Received up to the limit and the one message that crossed it; no further.
    assert result.bytes_received <= settings.QV_MAX_BODY_BYTES + CHUNK


def test_the_application_is_never_handed_body_bytes_beyond_the_limit():
    handed: list[int] = []

    async def reader(scope, receive, send):
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            handed.append(len(message["body"]))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"read"})

    app = BodyLimitMiddleware(reader, max_bytes=1000)

    result = run_exchange(app, http_scope("/api/x", {}), iter([b"a" * 600, b"b" * 600, b"c"]))

    assert result.status == 413
    assert sum(handed) == 600


def test_a_body_within_the_limit_reaches_the_application_whole():
    handed: list[bytes] = []

    async def reader(scope, receive, send):
        while True:
            message = await receive()
            handed.append(message["body"])
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"read"})

    app = BodyLimitMiddleware(reader, max_bytes=1000)

    result = run_exchange(app, http_scope("/api/x", {}), iter([b"a" * 600, b"b" * 400]))

    assert (result.status, result.body) == (200, b"read")
    assert b"".join(handed) == b"a" * 600 + b"b" * 400


def test_paths_outside_the_api_are_not_limited_here():
    async def reader(scope, receive, send):
        size = 0
        while True:
            message = await receive()
            size += len(message["body"])
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(size).encode()})

    app = BodyLimitMiddleware(reader, max_bytes=10)

    result = run_exchange(app, http_scope("/admin/login/", {}), iter([b"a" * 50, b"b" * 50]))

    assert (result.status, result.body) == (200, b"100")
