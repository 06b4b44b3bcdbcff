"""The fake model's latency: the tests of timeouts and the benchmarks rely on when it answers."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

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


def test_an_answer_comes_no_sooner_than_the_latency():
    with FakeOpenAI(latency=LATENCY_SECONDS) as server:
        status, seconds = ask(server)

    assert status == 200
    assert seconds >= LATENCY_SECONDS


def test_an_error_comes_no_sooner_than_the_latency():
    with FakeOpenAI(latency=LATENCY_SECONDS) as server:
        server.script(error(500))
        status, seconds = ask(server)

    assert status == 500
    assert seconds >= LATENCY_SECONDS


def test_a_scripted_sleep_comes_on_top_of_the_latency():
    with FakeOpenAI(latency=LATENCY_SECONDS) as server:
        server.script(sleep(0.2))
        status, seconds = ask(server)

    assert status == 200
    assert seconds >= LATENCY_SECONDS + 0.2
