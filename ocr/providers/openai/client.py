"""The SDK client: one ``AsyncOpenAI`` per event loop and endpoint configuration.

``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` configure the endpoint. The client speaks HTTP through
the SDK's aiohttp transport (``openai.DefaultAioHttpClient``): its connector hands out any of
OPENAI_MAX_CONNECTIONS connections at a constant cost, where httpx's pure-Python pool scanned
every connection on each request, and it needs about half the CPU per call (bench/README.md).
The SDK's own retries are off (``max_retries=0``): the attempts of ``calls.complete`` are the only
ones.

A loop's clients are closed when the loop shuts down its async generators, as ``asyncio.run``,
uvicorn and asgiref's ``async_to_sync`` do before closing it: an aiohttp session left open logs
an error when it is collected, and would keep its loop alive.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import weakref
from collections.abc import AsyncIterator

import httpx2
import openai
from django.conf import settings

from quickvault.runtime.model_transport import model_transport

# Longest wait for a TCP/TLS connection, whatever the (longer) timeout of the whole answer.
CONNECT_TIMEOUT_SECONDS = 5.0
# What the SDK is given as the key of an endpoint that needs none: it insists on one.
PLACEHOLDER_API_KEY = "not-needed"

# The settings one client is built from: base URL, API key, connections, timeout.
ClientConfig = tuple[str, str, int, float]

# One client per event loop and configuration, and the generator that closes them at the loop's
# shutdown; a loop that is gone takes both with it.
_clients: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[ClientConfig, openai.AsyncOpenAI]
] = weakref.WeakKeyDictionary()
_closers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncIterator[None]] = (
    weakref.WeakKeyDictionary()
)


def endpoint_configured() -> bool:
    """True when settings name a model endpoint (an API key, a base URL or both)."""
    return bool(settings.OPENAI_API_KEY or settings.OPENAI_BASE_URL)


@functools.cache
def ssl_context() -> ssl.SSLContext:
    """The TLS settings of every client of the process. Loading the CA bundle takes tens of
    milliseconds: once per process (``ocr.warm_up`` does it before requests), not per client."""
    return httpx2.create_ssl_context()


def call_timeout(seconds: float) -> httpx2.Timeout:
    """The timeout of one request: `seconds` for the answer, at most CONNECT_TIMEOUT_SECONDS of
    it to connect."""
    return httpx2.Timeout(seconds, connect=min(seconds, CONNECT_TIMEOUT_SECONDS))


def _build_client(
    *, base_url: str, api_key: str, max_connections: int, timeout: float
) -> openai.AsyncOpenAI:
    limits = httpx2.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    http_client = openai.DefaultAioHttpClient(
        transport=model_transport(verify=ssl_context(), limits=limits),
        verify=ssl_context(),
        limits=limits,
        timeout=call_timeout(timeout),
    )
    return openai.AsyncOpenAI(
        api_key=api_key or PLACEHOLDER_API_KEY,
        base_url=base_url or None,
        max_retries=0,
        timeout=call_timeout(timeout),
        http_client=http_client,
    )


async def get_client() -> openai.AsyncOpenAI:
    """The shared client of the running event loop for the configured endpoint."""
    loop = asyncio.get_running_loop()
    config: ClientConfig = (
        settings.OPENAI_BASE_URL,
        settings.OPENAI_API_KEY,
        settings.OPENAI_MAX_CONNECTIONS,
        settings.OPENAI_TIMEOUT_SECONDS,
    )
    per_loop = _clients.get(loop)
    if per_loop is None:
        per_loop = _clients[loop] = {}
        closer = _closers[loop] = _close_at_shutdown(loop, per_loop)
        # Its first step registers it with the loop's async generators, held weakly there.
        await anext(closer)
    client = per_loop.get(config)
    if client is None:
        base_url, api_key, max_connections, timeout = config
        client = _build_client(
            base_url=base_url, api_key=api_key, max_connections=max_connections, timeout=timeout
        )
        per_loop[config] = client
    return client


async def _close_at_shutdown(
    loop: asyncio.AbstractEventLoop, clients: dict[ClientConfig, openai.AsyncOpenAI]
) -> AsyncIterator[None]:
    """Waits, suspended, for the loop's ``shutdown_asyncgens``; then closes `clients`."""
    try:
        yield
    finally:
        _clients.pop(loop, None)
        _closers.pop(loop, None)
        for client in list(clients.values()):
            await client.close()
