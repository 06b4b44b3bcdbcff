"""The ASGI application `make serve` runs: API requests take the middlewares without a thread."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from prometheus_client import REGISTRY
from whitenoise.middleware import WhiteNoiseMiddleware

from quickvault.asgi import application

# The request signals check the database connections.
pytestmark = pytest.mark.django_db


def asgi_post(path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    sent: list[dict] = []

    async def run() -> None:
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict:
            if messages:
                return messages.pop(0)
            await asyncio.Event().wait()  # the client stays connected
            raise AssertionError("unreachable")

        async def send(message: dict) -> None:
            sent.append(message)

        await application(scope, receive, send)

    async_to_sync(run)()
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], headers, content


def oversized() -> bytes:
    return b" " * (settings.QV_MAX_BODY_BYTES + 1)


def test_oversized_api_body_gets_the_413_envelope_and_the_security_headers():
    status, headers, content = asgi_post("/api/v1/ocr/analyze", oversized())

    assert status == 413
    assert json.loads(content)["error"]["code"] == "payload_too_large"
    assert headers["x-content-type-options"] == "nosniff"


def test_api_requests_skip_the_static_file_middleware(monkeypatch):
    calls = []
    original = WhiteNoiseMiddleware.__call__

    def spy(self, request):
        calls.append(request.path)
        return original(self, request)

    monkeypatch.setattr(WhiteNoiseMiddleware, "__call__", spy)

    asgi_post("/api/v1/ocr/analyze", oversized())

    assert calls == []


def test_api_requests_are_counted_in_the_metrics():
    def count() -> float:
        name = "django_http_requests_total_by_method_total"
        return REGISTRY.get_sample_value(name, {"method": "POST"}) or 0.0

    before = count()

    status, _, _ = asgi_post("/api/v1/ocr/analyze", b"{}")

    assert status == 401
    assert count() == before + 1
