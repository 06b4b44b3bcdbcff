"""The ASGI application `make serve` runs: API requests take the middlewares without a thread."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.core import signals
from django.db import DatabaseError, connection
from prometheus_client import REGISTRY
from whitenoise.middleware import WhiteNoiseMiddleware

from ocr.models import ApiKey, OcrRequest, RequestStatus
from quickvault.asgi import application, release_connections
from tests.documents import ID_CARD, ID_FIELDS
from tests.signing import signature_headers

ANALYZE = "/api/v1/ocr/analyze"
T = TypeVar("T")

# The request signals check the database connections.
pytestmark = pytest.mark.django_db


def asgi_post(
    path: str, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    extra = [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
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
            *extra,
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


def signed_asgi_post(
    api_key: tuple[ApiKey, str], data: dict[str, Any]
) -> tuple[int, dict[str, str], bytes]:
    key, secret = api_key
    body = json.dumps(data, ensure_ascii=False).encode()
    headers = signature_headers(
        key_id=key.key_id, secret=secret, method="POST", path=ANALYZE, body=body
    )
    return asgi_post(ANALYZE, body, headers)


def test_a_signed_analyze_is_answered_through_the_asgi_application(api_key):
    status, _, content = signed_asgi_post(api_key, ID_CARD)

    assert status == 200, content
    body = json.loads(content)
    assert body["provider"] == "rules"
    assert body["fields"] == ID_FIELDS


def test_a_signed_analyze_through_the_asgi_application_is_logged(api_key):
    key, _ = api_key

    _, _, content = signed_asgi_post(api_key, ID_CARD)

    row = OcrRequest.objects.get(request_id=json.loads(content)["requestId"])
    assert row.api_key_id == key.pk
    assert row.status == RequestStatus.SUCCESS
    assert row.document_type == "idCard"


def test_an_api_request_sends_the_request_signals_once_each(api_key):
    sent: list[str] = []

    def started(**kwargs: Any) -> None:
        sent.append("started")

    def finished(**kwargs: Any) -> None:
        sent.append("finished")

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:
        status, _, _ = signed_asgi_post(api_key, ID_CARD)
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)

    assert status == 200
    assert sent == ["started", "finished"]


# release_connections() tidies the connections of the thread that runs the API's database work.
# The test's own connection is inside the test's transaction, which it leaves alone: these run
# on a thread of their own, with a connection of its own.


def on_a_new_thread(work: Callable[[], T]) -> T:
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as error:  # handed back to the test
            failure.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return outcome[0]


POOLED = bool(settings.DATABASES["default"].get("OPTIONS", {}).get("pool"))
unpooled_only = pytest.mark.skipif(
    POOLED, reason="a pooled connection always goes back to its pool"
)


@unpooled_only
def test_release_connections_keeps_a_healthy_connection_open():
    def work() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        raw = connection.connection
        release_connections()
        return raw is not None and connection.connection is raw

    assert on_a_new_thread(work) is True


@unpooled_only
def test_release_connections_keeps_a_usable_connection_after_an_error_and_forgets_the_error():
    def work() -> tuple[bool, bool]:
        with pytest.raises(DatabaseError), connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table_here")
        assert connection.errors_occurred is True
        raw = connection.connection
        release_connections()
        return connection.connection is raw, connection.errors_occurred

    assert on_a_new_thread(work) == (True, False)


@pytest.mark.skipif(not POOLED, reason="needs a pooled database (PostgreSQL)")
def test_release_connections_hands_a_pooled_connection_back():
    def work() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        release_connections()
        return connection.connection is None

    assert on_a_new_thread(work) is True
