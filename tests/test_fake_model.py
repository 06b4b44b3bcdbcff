"""The fake model: the tests of timeouts and the benchmarks rely on when it answers, and the
tests of data minimisation on its reading a prompt whose numbers are placeholders."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from tests.fakes.openai_server import FakeOpenAI, error, sleep

LATENCY_SECONDS = 0.3


def ask(server: FakeOpenAI, prompt: str) -> tuple[int, float, dict]:
    """One chat completion; its status, the seconds it took and the answer's content (JSON)."""
    body = json.dumps(
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]}
    ).encode()
    request = urllib.request.Request(
        f"{server.base_url}/chat/completions",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    started = time.perf_counter()
    content: dict = {}
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            completion = json.loads(response.read())
            status = response.status
        content = json.loads(completion["choices"][0]["message"]["content"])
    except urllib.error.HTTPError as refused:
        status = refused.code
    return status, time.perf_counter() - started, content


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
        answered, seconds, _ = ask(server, "Name: Ann")

    assert answered == status
    assert seconds >= LATENCY_SECONDS + extra_seconds


ID_CARD_LINES = [
    "姓名 张三",
    "性别 男 民族 汉",
    "住址 北京市东城区1号",
    "公民身份号码 11010519491231002X",
]


@pytest.mark.parametrize(
    "before",
    [
        pytest.param([], id="first"),
        pytest.param(
            ["[[ID_9]]", "住址 北京市东城区1号"], id="after a redacted line and a line of it"
        ),
    ],
)
def test_a_redacted_prompt_is_answered_with_its_placeholders(before):
    prompt_lines = [*ID_CARD_LINES[:3], "公民身份号码 [[ID_1]]"]
    prompt = "\n".join(['Fields: ["name", "idNumber"]', *before, *prompt_lines, "REF 7"])
    with FakeOpenAI() as server:
        server.add_cases(
            [
                {
                    "documentType": "idCard",
                    "rawTexts": ID_CARD_LINES,
                    "expected": {"name": "张三", "idNumber": "11010519491231002X"},
                }
            ]
        )
        status, _, answer = ask(server, prompt)

    assert status == 200
    assert answer == {"name": "张三", "idNumber": "[[ID_1]]"}
