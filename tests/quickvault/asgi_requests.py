"""Requests sent straight to an ASGI application, as uvicorn would send them."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync
from django.core import signals
from django.db import close_old_connections

from ocr.models import ApiKey
from tests.signing import signature_headers

ANALYZE = "/api/v1/ocr/analyze"


@dataclass(frozen=True)
class AsgiResponse:
    status: int
    headers: dict[str, str]
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


async def asgi_send(
    app: Any, path: str, body: bytes, headers: dict[str, str] | None = None
) -> AsgiResponse:
    """POST `body` to `path` of `app` on the running event loop; the client stays connected
    until the answer is sent."""
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
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict:
        if messages:
            return messages.pop(0)
        await asyncio.Event().wait()  # the client stays connected
        raise AssertionError("unreachable")

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    return AsgiResponse(
        status=start["status"],
        headers={k.decode().lower(): v.decode() for k, v in start["headers"]},
        content=b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"),
    )


@contextlib.contextmanager
def connections_left_alone() -> Iterator[None]:
    """As Django's AsyncClient does, the request signals leave the database connections alone
    meanwhile: the request's synchronous work runs on the test's thread (the caller of
    async_to_sync), whose one connection holds the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def asgi_post(
    app: Any, path: str, body: bytes, headers: dict[str, str] | None = None
) -> AsgiResponse:
    """``asgi_send`` from synchronous code (a test), the connections left alone."""
    with connections_left_alone():
        return async_to_sync(asgi_send)(app, path, body, headers)


def asgi_post_together(
    app: Any, path: str, posts: list[tuple[bytes, dict[str, str]]]
) -> list[AsgiResponse]:
    """``asgi_post`` of each (body, headers) in `posts`, all at once on one event loop."""

    async def together() -> list[AsgiResponse]:
        return list(
            await asyncio.gather(*(asgi_send(app, path, body, headers) for body, headers in posts))
        )

    with connections_left_alone():
        return async_to_sync(together)()


def signed_analyze_headers(api_key: tuple[ApiKey, str], body: bytes) -> dict[str, str]:
    key, secret = api_key
    return signature_headers(
        key_id=key.key_id, secret=secret, method="POST", path=ANALYZE, body=body
    )


def signed_analyze(app: Any, api_key: tuple[ApiKey, str], data: dict[str, Any]) -> AsgiResponse:
    """A signed analyze of `data`, with a nonce of its own."""
    body = json.dumps(data, ensure_ascii=False).encode()
    return asgi_post(app, ANALYZE, body, signed_analyze_headers(api_key, body))
