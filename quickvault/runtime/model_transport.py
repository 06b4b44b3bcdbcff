"""The model client's HTTP transport on the fast path: the SDK's aiohttp transport, with the
exchange done without the request's turn of the event loop (``turns``).

The SDK builds the request and reads the reply's JSON on the request's turn; between the two,
the request is sent and the whole reply read (``AiohttpTransport`` of the SDK's vendored
``httpx_aiohttp``, as ``openai.DefaultAioHttpClient`` builds it) while other requests have
theirs. Reading the reply here, not when the SDK asks for it, keeps the network out of the turn.
"""

from __future__ import annotations

import ssl

import httpx2
from openai._vendor.httpx_aiohttp import AiohttpTransport

from quickvault.runtime import fast_api_path
from quickvault.runtime.turns import waiting


class ExchangeOutsideTurn(httpx2.AsyncBaseTransport):
    """`transport`, with each exchange (the request sent, the reply read whole) awaited without
    the request's turn."""

    def __init__(self, transport: httpx2.AsyncBaseTransport) -> None:
        self.transport = transport

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        async with waiting():
            response = await self.transport.handle_async_request(request)
            try:
                await response.aread()
            except BaseException:
                await response.aclose()
                raise
        return response

    async def aclose(self) -> None:
        await self.transport.aclose()


def model_transport(
    *, verify: ssl.SSLContext, limits: httpx2.Limits
) -> httpx2.AsyncBaseTransport | None:
    """The transport for ``openai.DefaultAioHttpClient(transport=...)``: None, the SDK's own,
    with QV_FAST_API_PATH off."""
    if not fast_api_path():
        return None
    return ExchangeOutsideTurn(AiohttpTransport(verify=verify, limits=limits))
