"""Drive the ASGI application directly, as a server would, counting what it reads."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import async_to_sync


@dataclass
class Exchange:
    """What the application sent back, and how much of the body it took from the server."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    bytes_received: int = 0
    messages_received: int = 0

    def json(self) -> Any:
        return json.loads(self.body)


def http_scope(path: str, headers: dict[str, str], method: str = "POST") -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"testserver")]
        + [(name.lower().encode(), value.encode()) for name, value in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }


async def exchange(app, scope: dict, chunks: Iterator[bytes]) -> Exchange:
    """Send `chunks` as http.request messages (more_body until they run out), then wait as a
    connected client; return what came back and how much was taken."""
    result = Exchange()
    pending = iter(chunks)
    next_chunk = next(pending, None)

    async def receive() -> dict:
        nonlocal next_chunk
        if next_chunk is None:
            await asyncio.Event().wait()  # the client stays connected
        chunk, next_chunk = next_chunk, next(pending, None)
        result.messages_received += 1
        result.bytes_received += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": next_chunk is not None}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            result.status = message["status"]
            result.headers = {k.decode().lower(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            result.body += message.get("body", b"")

    await app(scope, receive, send)
    return result


def run_exchange(app, scope: dict, chunks: Iterator[bytes]) -> Exchange:
    return async_to_sync(exchange)(app, scope, chunks)
