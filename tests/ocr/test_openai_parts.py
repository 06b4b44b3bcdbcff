"""The OpenAI provider's parts that need no endpoint: sharing a merged call's tokens, reading
Retry-After, and what an error status means."""

import email.utils
import time

import httpx2
import openai
import pytest

from ocr.providers.base import Usage
from ocr.providers.openai.batching import share_usage, shared_failure, split_total
from ocr.providers.openai.calls import ModelCallError, retry_after_seconds, status_error

URL = "http://127.0.0.1:9/v1/chat/completions"


def status(code: int, headers: dict[str, str] | None = None) -> openai.APIStatusError:
    response = httpx2.Response(code, headers=headers, request=httpx2.Request("POST", URL))
    return openai.APIStatusError(f"Error code: {code}", response=response, body=None)


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        (10, [1.0, 1.0], [5, 5]),
        (10, [1.0, 1.0, 1.0], [4, 3, 3]),
        (7, [3.0, 1.0], [5, 2]),
        (5, [0.0, 0.0], [3, 2]),
        (0, [2.0, 1.0], [0, 0]),
        (4, [], []),
    ],
)
def test_a_total_is_split_in_whole_numbers_that_add_up(total, weights, expected):
    assert split_total(total, weights) == expected


def test_a_merged_calls_tokens_are_shared_by_text_and_answer_length():
    usages = share_usage(
        prompt_tokens=300,
        completion_tokens=90,
        merged_chars=600,
        own_chars=[100, 300],
        answer_chars=[20, 70],
        alone_chars=[400, 600],
    )

    # 200 characters of shared instructions, half to each: 200 and 400 of 600 characters.
    assert [u.prompt_tokens for u in usages] == [100, 200]
    assert [u.completion_tokens for u in usages] == [20, 70]
    # Alone, each prompt would have cost its own length at this call's half a token a character.
    assert [u.prompt_tokens_unmerged for u in usages] == [200, 300]


def test_shares_of_an_empty_prompt_are_zero():
    usages = share_usage(
        prompt_tokens=0,
        completion_tokens=0,
        merged_chars=0,
        own_chars=[0, 0],
        answer_chars=[1, 1],
        alone_chars=[0, 0],
    )

    assert usages == [Usage(), Usage()]


def test_a_failed_merged_call_gives_each_document_its_error_and_share():
    error = ModelCallError(
        "the model's answer is not usable JSON",
        timeout=True,
        model="gpt-4o-mini",
        usage=Usage(prompt_tokens=10, completion_tokens=5),
    )

    shares = shared_failure(error, count=3)

    assert [e.usage.prompt_tokens for e in shares] == [4, 3, 3]
    assert [e.usage.completion_tokens for e in shares] == [2, 2, 1]
    assert all(isinstance(e, ModelCallError) for e in shares)
    assert all(e.timeout and not e.permanent for e in shares)
    assert {e.model for e in shares} == {"gpt-4o-mini"}
    assert {str(e) for e in shares} == {str(error)}
    # The original error is left as it was raised.
    assert error.usage == Usage(prompt_tokens=10, completion_tokens=5)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after": "2"}, 2.0),
        ({"retry-after-ms": "soon", "retry-after": "3"}, 3.0),
        ({"retry-after": "-4"}, 0.0),
        ({"retry-after": "whenever"}, None),
        ({}, None),
    ],
)
def test_retry_after_is_read_from_either_header(headers, seconds):
    assert retry_after_seconds(httpx2.Headers(headers)) == seconds


def test_retry_after_may_be_an_http_date():
    later = email.utils.formatdate(time.time() + 30, usegmt=True)

    seconds = retry_after_seconds(httpx2.Headers({"retry-after": later}))

    assert seconds is not None
    assert 25 <= seconds <= 31


def test_rate_limit_is_retried_after_what_the_server_asks_and_counts_as_an_outage():
    error = status_error(status(429, {"retry-after": "7"}))

    assert not error.permanent
    assert error.outage
    assert error.retry_after == 7.0


@pytest.mark.parametrize("code", [500, 502, 503])
def test_server_errors_are_retried_and_count_as_an_outage(code):
    error = status_error(status(code))

    assert not error.permanent
    assert error.outage


@pytest.mark.parametrize("code", [401, 403])
def test_a_refused_key_is_permanent_and_an_outage(code):
    error = status_error(status(code))

    assert error.permanent
    assert error.outage


@pytest.mark.parametrize("code", [400, 404, 422])
def test_a_bad_request_is_permanent_for_this_call_only(code):
    error = status_error(status(code))

    assert error.permanent
    assert not error.outage
