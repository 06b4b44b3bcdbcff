"""The SDK client: one ``AsyncOpenAI`` per event loop and endpoint configuration.

``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` configure the endpoint. A client's connections,
OPENAI_MAX_CONNECTIONS in all, are spread over small pools (``SpreadTransport``). The SDK's own
retries are off (``max_retries=0``): the attempts of ``calls.complete`` are the only ones.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import weakref
from collections.abc import AsyncIterator, Callable

import httpx
import openai
from django.conf import settings

# Connections per httpx pool: a pool scans every one of its connections on each request, so one
# pool of hundreds costs milliseconds of CPU per call when busy; several small ones do not.
CONNECTIONS_PER_POOL = 16
# Longest wait for a TCP/TLS connection, whatever the (longer) timeout of the whole answer.
CONNECT_TIMEOUT_SECONDS = 5.0
# What the SDK is given as the key of an endpoint that needs none: it insists on one.
PLACEHOLDER_API_KEY = "not-needed"

# The settings one client is built from: base URL, API key, connections, timeout.
ClientConfig = tuple[str, str, int, float]

# One client per event loop and configuration; a loop that is gone takes its clients with it.
_clients: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[ClientConfig, openai.AsyncOpenAI]
] = weakref.WeakKeyDictionary()


def endpoint_configured() -> bool:
    """True when settings name a model endpoint (an API key, a base URL or both)."""
    return bool(settings.OPENAI_API_KEY or settings.OPENAI_BASE_URL)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle takes tens of milliseconds: once per process, not once per client.
    return httpx.create_ssl_context()


class _SpreadResponseStream(httpx.AsyncByteStream):
    """A response body that tells its pool, once, when it is closed."""

    def __init__(self, stream: httpx.AsyncByteStream, on_close: Callable[[], None]) -> None:
        self._stream = stream
        self._on_close: Callable[[], None] | None = on_close

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            on_close, self._on_close = self._on_close, None
            if on_close is not None:
                on_close()


def pool_sizes(max_connections: int) -> list[int]:
    """``max_connections`` as pools of at most CONNECTIONS_PER_POOL (at least one connection)."""
    sizes = [CONNECTIONS_PER_POOL] * (max_connections // CONNECTIONS_PER_POOL)
    if max_connections % CONNECTIONS_PER_POOL:
        sizes.append(max_connections % CONNECTIONS_PER_POOL)
    return sizes or [1]


class SpreadTransport(httpx.AsyncBaseTransport):
    """``max_connections`` split over pools of at most CONNECTIONS_PER_POOL; each request goes to
    the pool with the most free connections, so the total stays at most ``max_connections``."""

    def __init__(self, *, max_connections: int, verify: ssl.SSLContext | bool) -> None:
        self._sizes = pool_sizes(max_connections)
        self.pools = [
            httpx.AsyncHTTPTransport(
                verify=verify,
                limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
            )
            for size in self._sizes
        ]
        self._in_flight = [0] * len(self.pools)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        index = max(range(len(self.pools)), key=lambda i: self._sizes[i] - self._in_flight[i])
        self._in_flight[index] += 1

        def done() -> None:
            self._in_flight[index] -= 1

        try:
            response = await self.pools[index].handle_async_request(request)
        except BaseException:
            done()
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_SpreadResponseStream(response.stream, done),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        for pool in self.pools:
            await pool.aclose()


def _build_client(
    *, base_url: str, api_key: str, max_connections: int, timeout: float
) -> openai.AsyncOpenAI:
    http_client = httpx.AsyncClient(
        transport=SpreadTransport(max_connections=max_connections, verify=_ssl_context()),
        timeout=httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT_SECONDS)),
    )
    return openai.AsyncOpenAI(
        api_key=api_key or PLACEHOLDER_API_KEY,
        base_url=base_url or None,
        max_retries=0,
        timeout=timeout,
        http_client=http_client,
    )


def get_client() -> openai.AsyncOpenAI:
    """The shared client of the running event loop for the configured endpoint."""
    loop = asyncio.get_running_loop()
    config: ClientConfig = (
        settings.OPENAI_BASE_URL,
        settings.OPENAI_API_KEY,
        settings.OPENAI_MAX_CONNECTIONS,
        settings.OPENAI_TIMEOUT_SECONDS,
    )
    per_loop = _clients.setdefault(loop, {})
    client = per_loop.get(config)
    if client is None:
        base_url, api_key, max_connections, timeout = config
        client = _build_client(
            base_url=base_url, api_key=api_key, max_connections=max_connections, timeout=timeout
        )
        per_loop[config] = client
    return client
