"""The fake model's latency: the tests of timeouts and the benchmarks rely on when it answers."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from tests.fakes.openai_server import FakeOpenAI, error, sleep

LATENCY_SECONDS = 0.3


def ask(server: FakeOpenAI) -> tuple[int, float]:
    """One chat completion; its status and the seconds it took."""
    body = json.dumps(
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Name: Ann"}]}
    ).encode()
    request = urllib.request.Request(
        f"{server.base_url}/chat/completions",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as refused:
        status = refused.code
    return status, time.perf_counter() - started


@pytest.mark.parametrize(
    ("behaviour", "status", "extra_seconds"),
    [
        pytest.param(None, 200, 0.0, id="answer"),
        pytest.param(error(500), 500, 0.0, id="error"),
        pytest.param(sleep(0.2), 200, 0.2, id="scripted sleep, on top"),
    ],
)
def test_a_reply_comes_no_sooner_than_the_latency(behaviour, status, extra_seconds):
    with FakeOpenAI(latency=LATENCY_SECONDS) as server:
        if behaviour is not None:
            server.script(behaviour)
        answered, seconds = ask(server)

    assert answered == status
    assert seconds >= LATENCY_SECONDS + extra_seconds
