"""The model client's transport on the fast path (quickvault.runtime.model_transport): the SDK's
aiohttp transport, whose exchange lets the request's turn of the event loop go."""

from __future__ import annotations

import asyncio

import httpx2

from quickvault.runtime.model_transport import model_transport
from quickvault.runtime.turns import in_turn

HANG_SECONDS = 5
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Name: ZHANG SAN"}]}


def fast_path_client() -> httpx2.AsyncClient:
    return httpx2.AsyncClient(
        transport=model_transport(verify=httpx2.create_ssl_context(), limits=httpx2.Limits())
    )


async def test_a_request_lets_its_turn_go_while_the_model_answers(fake_openai):
    fake_openai.latency = 0.2
    log: list[str] = []
    replies: list[httpx2.Response] = []

    async def asks_the_model() -> None:
        log.append("asks the model")
        async with fast_path_client() as client:
            replies.append(await client.post(f"{fake_openai.base_url}/chat/completions", json=CHAT))
        log.append("has the answer")

    async def another_request() -> None:
        log.append("another request")

    await asyncio.wait_for(
        asyncio.gather(in_turn(asks_the_model), in_turn(another_request)), HANG_SECONDS
    )

    assert log == ["asks the model", "another request", "has the answer"]
    assert replies[0].status_code == 200


async def test_the_reply_is_read_whole_before_the_request_takes_its_turn_again(fake_openai):
    async def asks_the_model() -> httpx2.Response:
        async with fast_path_client() as client:
            response = await client.post(f"{fake_openai.base_url}/chat/completions", json=CHAT)
        return response

    response = await asyncio.wait_for(in_turn(asks_the_model), HANG_SECONDS)

    # Read inside the exchange: readable after its client is closed.
    assert response.json()["object"] == "chat.completion"


def test_with_the_fast_path_off_the_sdk_builds_its_own_transport(settings):
    settings.QV_FAST_API_PATH = False

    assert model_transport(verify=httpx2.create_ssl_context(), limits=httpx2.Limits()) is None
