"""Request bodies bounded before they are read: a pure ASGI middleware.

``BodyLimitMiddleware`` wraps the ASGI application. For a request under its prefix (the API):

- a declared ``Content-Length`` over the limit (``QV_MAX_BODY_BYTES``) is answered 413 at once,
  before the application runs or a byte of the body is received;
- a body without a declared length (chunked) is counted as it arrives: the message that would
  take it over the limit is never handed on. The application is told the client went away
  (``http.disconnect``, which Django answers by dropping the request) and the client gets the 413.

So nothing beyond the limit is received from the server, buffered or spooled to disk. The answer
is the API's error envelope, built here from bytes: this module is shared infrastructure and
imports no app.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

API_PREFIX = "/api/"
DISCONNECT: Message = {"type": "http.disconnect"}


def max_body_bytes() -> int:
    from django.conf import settings

    return settings.QV_MAX_BODY_BYTES


def error_body(*, code: str, message: str, details: dict[str, Any] | None) -> bytes:
    """The API's error envelope, as bytes."""
    return json.dumps({"error": {"code": code, "message": message, "details": details}}).encode()


def declared_length(scope: Scope) -> int | None:
    """The Content-Length header as a number; None where absent; -1 where unreadable."""
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            try:
                length = int(value)
            except ValueError:
                return -1
            return length if length >= 0 else -1
    return None


async def send_error(send: Send, *, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-content-type-options", b"nosniff"),
                # The rest of the body is not read: the connection cannot carry another request.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


def too_large_body(limit: int) -> bytes:
    return error_body(
        code="payload_too_large",
        message=f"The body is over {limit // 1024} KiB.",
        details={"maxBytes": limit},
    )


class BodyLimitMiddleware:
    """Refuses, with 413 in the envelope, any body under ``prefix`` over ``max_bytes`` (by default
    the QV_MAX_BODY_BYTES setting, read per request), declared or as it arrives."""

    def __init__(
        self, app: ASGIApp, *, max_bytes: int | None = None, prefix: str = API_PREFIX
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.prefix = prefix

    def __getattr__(self, name: str) -> Any:
        # The wrapped application's own attributes stay reachable.
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes if self.max_bytes is not None else max_body_bytes()
        length = declared_length(scope)
        if length == -1:
            body = error_body(
                code="invalid_request",
                message="The Content-Length header is not a number.",
                details=None,
            )
            await send_error(send, status=400, body=body)
            return
        if length is not None and length > limit:
            await send_error(send, status=413, body=too_large_body(limit))
            return
        await self.bounded(scope, receive, send, limit=limit)

    async def bounded(self, scope: Scope, receive: Receive, send: Send, *, limit: int) -> None:
        """Run the application with a receive that stops at `limit` bytes of body."""
        received = 0
        over = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, over
            if over:
                return DISCONNECT
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    return DISCONNECT
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if over and not started:
                # The application answers a request it was told was abandoned: the 413 is sent.
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, limited_receive, tracked_send)
        if over and not started:
            await send_error(send, status=413, body=too_large_body(limit))
