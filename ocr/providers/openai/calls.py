"""One model call (``complete``): an answer parsed from the endpoint, within a time budget.

A call:

- is refused at once while the circuit breaker (``ocr.circuit``, shared through the cache) is open;
- has a timeout per attempt (OPENAI_TIMEOUT_SECONDS) and a total budget per request
  (OPENAI_REQUEST_BUDGET_SECONDS) that attempts and waits together never exceed; the calls made
  within ``shared_deadline`` (a batch's merged calls, and the calls of the items a merged answer
  left out) share one deadline instead of a budget each;
- counts 429s toward the circuit breaker (a model that keeps refusing is an outage), and fails
  at once, to the fallback, when the server's Retry-After reaches past the deadline;
- is retried with tenacity, OPENAI_MAX_ATTEMPTS in all, with exponential back-off and jitter, or
  after the server's Retry-After where it sends one, on timeouts, connection errors, 408/409/429,
  5xx, and on answers that are cut off or hold no JSON (with more room for a cut-off one);
- asks for a JSON object (``response_format``) where the caller wants it and the endpoint
  accepts it: an endpoint that refuses the parameter is asked again without it, and remembered;
- falls back to the default model (OPENAI_MODEL) when the endpoint does not know the one asked for.

A call that gives no usable answer raises ``ModelCallError`` (a ``ProviderError``): ``timeout``
for a timed-out call, ``permanent`` for one not worth retrying, and ``model`` and ``usage`` for
what the replies that came back unusable still cost. The answer is untrusted: ``parse`` only
shapes it; the pipeline normalises, validates and grounds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import email.utils
import functools
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import openai
from django.conf import settings
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from ocr.model_output import ModelOutputError
from ocr.providers.base import ProviderError, Usage
from ocr.providers.openai.client import call_timeout, get_client
from quickvault import circuit
from quickvault.runtime import turns

logger = logging.getLogger(__name__)

# An attempt with less time than this left in the budget is not started.
MIN_ATTEMPT_SECONDS = 0.2
# Slack over the SDK's own timeout before the hard guard cancels an attempt (a server that
# trickles bytes keeps the read timeout from firing).
GUARD_SLACK_SECONDS = 0.5
# Statuses worth another attempt, besides 5xx.
RETRY_STATUSES = frozenset({408, 409, 429})
RATE_LIMITED_STATUS = 429
# Statuses from 500 up are the endpoint's own failure: retried, and counted as an outage.
SERVER_ERROR_STATUS = 500
# A wrong key or a forbidden model fails every request alike: an outage, not a retry.
AUTH_STATUSES = frozenset({401, 403})
MILLISECONDS_PER_SECOND = 1000
CHAT_COMPLETIONS_PATH = "/chat/completions"
# The deadline (time.monotonic()) that every call in the current context shares; None: each
# call has a budget of its own.
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "model_call_deadline", default=None
)
# Base URLs whose endpoint refused response_format; they are asked without it from then on.
_no_json_mode: set[str] = set()


class ModelCallError(ProviderError):
    """A model call gave no usable answer, after every attempt its budget allowed.

    ``model`` is the model last asked; ``usage`` holds the tokens of every reply that came back
    unusable (cut off, or without JSON), which the endpoint still bills.
    """


class AttemptError(Exception):
    """One attempt failed. ``permanent``: no other attempt is worth making; ``outage``: it
    counts against the circuit breaker (timeouts, unreachable, 5xx, 401/403); ``retry_after``:
    the server's Retry-After in seconds."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        timeout: bool = False,
        outage: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.timeout = timeout
        self.outage = outage
        self.retry_after = retry_after


@dataclass(frozen=True)
class Completion:
    """A parsed answer and what it took: tokens summed over every attempt that got a reply.

    ``model`` is the model that answered: the default one where the endpoint lacked the one
    asked for."""

    parsed: Any
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class _CallState:
    """What one call's attempts share and change: the model and room asked for, whether JSON mode
    is still on, and the tokens spent so far."""

    model: str
    max_tokens: int
    json_mode: bool
    prompt_tokens: int = 0
    completion_tokens: int = 0


@contextlib.contextmanager
def shared_deadline(seconds: float | None = None) -> Iterator[float]:
    """Make every model call within the block (and the tasks it starts) end by one deadline,
    `seconds` (by default OPENAI_REQUEST_BUDGET_SECONDS) from now: a batch stays within the
    budget of one request, however many merged calls and retries it makes. Nested blocks keep
    the outer, earlier deadline. Yields the deadline (time.monotonic())."""
    budget = settings.OPENAI_REQUEST_BUDGET_SECONDS if seconds is None else seconds
    deadline = time.monotonic() + budget
    outer = _deadline.get()
    if outer is not None:
        deadline = min(deadline, outer)
    token = _deadline.set(deadline)
    try:
        yield deadline
    finally:
        _deadline.reset(token)


def call_deadline() -> float:
    """The deadline of a call starting now: the shared one, or a budget of its own."""
    own = time.monotonic() + settings.OPENAI_REQUEST_BUDGET_SECONDS
    shared = _deadline.get()
    return own if shared is None else min(own, shared)


def retry_after_seconds(headers: httpx2.Headers | None) -> float | None:
    """Seconds from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date); None where
    neither is there or readable."""
    if not headers:
        return None
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / MILLISECONDS_PER_SECOND)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _failure(retry_state: RetryCallState) -> AttemptError | None:
    error = retry_state.outcome.exception() if retry_state.outcome else None
    return error if isinstance(error, AttemptError) else None


def _wait(retry_state: RetryCallState) -> float:
    """Retry-After where the server sent one, else exponential back-off with full jitter."""
    failure = _failure(retry_state)
    if failure is not None and failure.retry_after is not None:
        return failure.retry_after
    ceiling = min(
        settings.OPENAI_RETRY_MAX_SECONDS,
        settings.OPENAI_RETRY_INITIAL_SECONDS * 2 ** (retry_state.attempt_number - 1),
    )
    return random.uniform(ceiling / 2, ceiling)


def _stop_at(deadline: float) -> Callable[[RetryCallState], bool]:
    """Stop when the next attempt could not start with time left in the budget, or when the
    server's Retry-After is longer than OPENAI_RETRY_AFTER_MAX_SECONDS."""

    def stop(retry_state: RetryCallState) -> bool:
        failure = _failure(retry_state)
        retry_after = failure.retry_after if failure is not None else None
        if retry_after is not None and (
            retry_after > settings.OPENAI_RETRY_AFTER_MAX_SECONDS
            or time.monotonic() + retry_after + MIN_ATTEMPT_SECONDS >= deadline
        ):
            # The endpoint asks for a longer pause than a waiting client should sit through,
            # or than the deadline leaves: fail now, to the fallback, rather than wait for it.
            return True
        next_start = time.monotonic() + (retry_state.upcoming_sleep or 0)
        return next_start + MIN_ATTEMPT_SECONDS >= deadline

    return stop


def _is_transient(error: BaseException) -> bool:
    return isinstance(error, AttemptError) and not error.permanent


def _log_retry(retry_state: RetryCallState) -> None:
    logger.info(
        "Model call attempt %d failed (%s); retrying in %.2fs",
        retry_state.attempt_number,
        _failure(retry_state),
        retry_state.upcoming_sleep,
    )


def status_error(error: openai.APIStatusError) -> AttemptError:
    """What an HTTP error status from the endpoint means for the call."""
    status = error.status_code
    retry_after = retry_after_seconds(error.response.headers if error.response else None)
    if status == RATE_LIMITED_STATUS:
        # Refused for load or quota: retried, and counted as an outage, so that a model that
        # keeps refusing opens the breaker instead of costing every request its retries.
        return AttemptError(
            f"model endpoint answered {status}", outage=True, retry_after=retry_after
        )
    if status in RETRY_STATUSES:
        return AttemptError(f"model endpoint answered {status}", retry_after=retry_after)
    if status >= SERVER_ERROR_STATUS:
        return AttemptError(
            f"model endpoint answered {status}", outage=True, retry_after=retry_after
        )
    return AttemptError(
        f"model endpoint refused the request ({status})",
        permanent=True,
        outage=status in AUTH_STATUSES,
    )


async def _send(
    client: openai.AsyncOpenAI,
    *,
    state: _CallState,
    messages: list[dict[str, str]],
    temperature: float,
    timeout: float,
) -> bytes:
    """One request to the endpoint, returning the reply's body; asks again at once without JSON
    mode where it is refused, and with the default model where the one asked for is unknown.

    The request goes through the SDK's ``post`` with the body as JSON and the reply as bytes:
    ``chat.completions.create`` would validate the body against its types and the reply into
    pydantic models, half the CPU of a call, and the reply is untrusted and checked by
    ``_read`` anyway. Errors are the SDK's own (``openai.APIStatusError`` and the rest)."""
    body: dict[str, Any] = {
        "model": state.model,
        "messages": messages,
        "temperature": temperature,
        "max_tokens": state.max_tokens,
        "stream": False,
    }
    if state.json_mode:
        body["response_format"] = {"type": "json_object"}
    options: Any = {"timeout": call_timeout(timeout)}

    async def post() -> bytes:
        return await client.post(CHAT_COMPLETIONS_PATH, body=body, cast_to=bytes, options=options)

    try:
        return await post()
    except openai.BadRequestError as error:
        if not state.json_mode or "response_format" not in str(error).lower():
            raise
        logger.warning("The model endpoint refuses response_format; asking without JSON mode")
        _no_json_mode.add(settings.OPENAI_BASE_URL)
        state.json_mode = False
        body.pop("response_format")
        return await post()
    except openai.NotFoundError:
        if state.model == settings.OPENAI_MODEL:
            raise
        logger.warning(
            "The model endpoint does not serve %r; using the default model %r",
            state.model,
            settings.OPENAI_MODEL,
        )
        state.model = body["model"] = settings.OPENAI_MODEL
        return await post()


async def _attempt(
    *,
    state: _CallState,
    messages: list[dict[str, str]],
    temperature: float,
    deadline: float,
    parse: Callable[[str], Any],
    breaker: circuit.Breaker,
) -> Completion:
    allowed_in = await circuit.allow(breaker)
    if allowed_in is None:
        raise AttemptError("the model's circuit breaker is open", permanent=True)
    remaining = deadline - time.monotonic()
    if remaining < MIN_ATTEMPT_SECONDS:
        raise AttemptError("the request's time budget is spent", permanent=True, timeout=True)
    timeout = min(settings.OPENAI_TIMEOUT_SECONDS, remaining)
    client = await get_client()
    try:
        async with asyncio.timeout(timeout + GUARD_SLACK_SECONDS):
            reply = await _send(
                client, state=state, messages=messages, temperature=temperature, timeout=timeout
            )
    except (TimeoutError, openai.APIConnectionError) as failure:
        if isinstance(failure, TimeoutError) or _timed_out(failure):
            error = AttemptError(
                f"the model did not answer within {timeout:.1f}s", timeout=True, outage=True
            )
        else:
            error = AttemptError("the model endpoint is unreachable", outage=True)
    except openai.APIStatusError as status:
        error = status_error(status)
    except openai.OpenAIError as other:
        error = AttemptError(f"the model call failed ({type(other).__name__})")
    else:
        await circuit.record_success(breaker, allowed_in=allowed_in)
        return _read(reply, state=state, parse=parse)
    if error.outage:
        await circuit.record_failure(breaker)
    raise error


def _timed_out(error: BaseException) -> bool:
    """Whether a connection error was a timeout, by its first cause. The aiohttp transport
    reports every connection failure, a refused one too, as a connect timeout
    (``openai.APITimeoutError``); the aiohttp error beneath says what happened."""
    cause = error
    while cause.__cause__ is not None:
        cause = cause.__cause__
    return isinstance(cause, TimeoutError) or (
        cause is error and isinstance(error, openai.APITimeoutError)
    )


def _read(reply: bytes, *, state: _CallState, parse: Callable[[str], Any]) -> Completion:
    """Parse a reply's body (a chat completion, untrusted: any shape); a cut-off or unusable one
    raises a transient AttemptError."""
    try:
        completion = json.loads(reply)
    except ValueError:
        completion = None
    if not isinstance(completion, dict):
        raise AttemptError("the model endpoint's reply is not a chat completion")
    usage = completion.get("usage")
    if isinstance(usage, dict):
        state.prompt_tokens += _token_count(usage.get("prompt_tokens"))
        state.completion_tokens += _token_count(usage.get("completion_tokens"))
    choices = completion.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices else None
    choice = choice if isinstance(choice, dict) else {}
    message = choice.get("message")
    text = message.get("content") if isinstance(message, dict) else None
    if choice.get("finish_reason") == "length":
        # Give the next attempt more room.
        state.max_tokens = max(
            state.max_tokens, min(state.max_tokens * 2, settings.OPENAI_BATCH_MAX_TOKENS)
        )
        raise AttemptError("the model's answer was cut off")
    try:
        parsed = parse(text if isinstance(text, str) else "")
    except ModelOutputError as parse_error:
        raise AttemptError(f"the model's answer is not usable JSON ({parse_error})") from None
    return Completion(
        parsed=parsed,
        model=state.model,
        prompt_tokens=state.prompt_tokens,
        completion_tokens=state.completion_tokens,
    )


def _token_count(value: Any) -> int:
    """A token count from the reply's usage: a non-negative int, else 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


async def _with_retries(
    attempt: Callable[[], Awaitable[Completion]], *, deadline: float
) -> Completion:
    """`attempt`, and where it fails transiently, tenacity's retries within the deadline.

    Most calls succeed at once; tenacity's state (a retry object and its call state, in reference
    cycles that only the garbage collector's full passes free, which stall every request in
    flight) is made only for those that do not. Its first attempt then re-raises the first
    failure, so that the waits, the stop and the log are what they would be had tenacity made
    that attempt too."""
    try:
        return await attempt()
    except AttemptError as error:
        if not _is_transient(error):
            raise
        first_failures = [error]

    async def again() -> Completion:
        if first_failures:
            raise first_failures.pop()
        return await attempt()

    retrying = AsyncRetrying(
        stop=stop_after_attempt(max(1, settings.OPENAI_MAX_ATTEMPTS)) | _stop_at(deadline),
        wait=_wait,
        retry=retry_if_exception(_is_transient),
        before_sleep=_log_retry,
        # The back-off lets the request's turn of the event loop go (quickvault.runtime.turns).
        sleep=turns.sleep,
        reraise=True,
    )
    return await retrying(again)


async def complete(
    *,
    messages: list[dict[str, str]],
    model: str,
    max_tokens: int,
    temperature: float = 0.0,
    json_mode: bool = True,
    parse: Callable[[str], Any],
) -> Completion:
    """Ask ``model`` for ``messages``, retrying within the budget, and return the parsed answer.

    ``parse`` turns the answer's text into the caller's shape, raising ModelOutputError when it
    cannot (then another attempt is made). Raises ModelCallError when the model gives no usable
    answer: ``timeout`` is set when the last failure was a timeout (or the budget ran out), and
    ``model`` and ``usage`` say what the failed call still cost.
    """
    if not model.strip():
        raise ModelCallError("no model was named for the call", permanent=True)
    deadline = call_deadline()
    budget = max(0.0, deadline - time.monotonic())
    state = _CallState(
        model=model,
        max_tokens=max_tokens,
        json_mode=json_mode
        and settings.OPENAI_JSON_MODE
        and settings.OPENAI_BASE_URL not in _no_json_mode,
    )
    attempt = functools.partial(
        _attempt,
        state=state,
        messages=messages,
        temperature=temperature,
        deadline=deadline,
        parse=parse,
        breaker=circuit.openai_breaker(),
    )
    try:
        async with asyncio.timeout(budget):
            completion = await _with_retries(attempt, deadline=deadline)
    except TimeoutError:
        failure = AttemptError(
            f"the model gave no answer within the {budget:.1f}s budget", timeout=True
        )
    except AttemptError as error:
        failure = error
    else:
        return completion
    raise ModelCallError(
        str(failure),
        permanent=failure.permanent,
        timeout=failure.timeout,
        model=state.model,
        usage=Usage(prompt_tokens=state.prompt_tokens, completion_tokens=state.completion_tokens),
    )
