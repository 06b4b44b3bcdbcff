"""Provider "openai": extraction by any OpenAI-compatible Chat Completions endpoint.

``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` configure the endpoint. Each process (each event loop)
shares one ``AsyncOpenAI`` client whose connections, OPENAI_MAX_CONNECTIONS in all, are spread over
small pools (``SpreadTransport``); the SDK's own retries are off (``max_retries=0``) so that the
attempts below are the only ones.

One model call (``complete``):

- is refused at once while the circuit breaker (``ocr.circuit``, shared through the cache) is open;
- has a timeout per attempt (OPENAI_TIMEOUT_SECONDS) and a total budget per request
  (OPENAI_REQUEST_BUDGET_SECONDS) that attempts and waits together never exceed;
- is retried with tenacity, OPENAI_MAX_ATTEMPTS in all, with exponential back-off and jitter, or
  after the server's Retry-After where it sends one, on timeouts, connection errors, 408/409/429,
  5xx, and on answers that are cut off or hold no JSON (with more room for a cut-off one);
- asks for a JSON object (``response_format``) where the template wants it and the endpoint
  accepts it: an endpoint that refuses the parameter is asked again without it, and remembered;
- falls back to the default model when the endpoint does not know a routed model.

Failures raise ``ModelCallError`` (a ``ProviderError``): ``timeout`` for a timed-out call, and
``permanent`` for one not worth retrying. The answer is untrusted: this module only parses it
into strings (``ocr.model_output``); the pipeline normalises, validates and grounds it.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import json
import logging
import random
import ssl
import time
import uuid
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx
import openai
from django.conf import settings
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from ocr import circuit
from ocr.model_output import ModelOutputError, coerce_fields, parse_items, parse_object
from ocr.providers import register
from ocr.providers.base import Document, Provider, ProviderError, ProviderResult
from prompts.routing import call_cost, choose_model

if TYPE_CHECKING:
    from prompts.models import PromptTemplate

logger = logging.getLogger(__name__)

# An attempt with less time than this left in the budget is not started.
MIN_ATTEMPT_SECONDS = 0.2
# Slack over the SDK's own timeout before the hard guard cancels an attempt (a server that
# trickles bytes keeps httpx's read timeout from firing).
GUARD_SLACK_SECONDS = 0.5
# Statuses worth another attempt.
RETRY_STATUSES = frozenset({408, 409, 429})
# Base URLs whose endpoint refused response_format; they are asked without it from then on.
_no_json_mode: set[str] = set()
# One client per event loop and configuration; a loop that is gone takes its clients with it.
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple, openai.AsyncOpenAI]] = (
    weakref.WeakKeyDictionary()
)


class ModelCallError(ProviderError):
    """A model call failed. ``outage`` failures (timeouts, unreachable, 5xx, 401/403) count
    against the circuit breaker; ``retry_after`` is the server's Retry-After in seconds."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        timeout: bool = False,
        outage: bool = False,
        retry_after: float | None = None,
        truncated: bool = False,
    ) -> None:
        super().__init__(message, permanent=permanent, timeout=timeout)
        self.outage = outage
        self.retry_after = retry_after
        self.truncated = truncated
        # What the failed request still cost (replies that came back unusable), for the log.
        self.model: str | None = None
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.cost = Decimal(0)

    def shared(
        self, *, prompt_tokens: int, completion_tokens: int, cost: Decimal
    ) -> ModelCallError:
        """A copy carrying one document's share of a merged call's spent tokens."""
        copy = ModelCallError(
            str(self),
            permanent=self.permanent,
            timeout=self.timeout,
            outage=self.outage,
            retry_after=self.retry_after,
            truncated=self.truncated,
        )
        copy.model = self.model
        copy.prompt_tokens, copy.completion_tokens, copy.cost = (
            prompt_tokens,
            completion_tokens,
            cost,
        )
        return copy


class MissingItemError(ProviderError):
    """A merged call answered, but not for this document: worth a call of its own."""


@dataclass
class ModelResult(ProviderResult):
    """A ProviderResult with what a merged call needs recorded."""

    prompt_tokens_unmerged: int = 0
    batch_id: uuid.UUID | None = None
    attempts: int = 1


@dataclass
class Completion:
    """A parsed answer and what it took: tokens summed over every attempt that got a reply."""

    parsed: Any
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempts: int = 0


@dataclass
class _CallState:
    model: str
    max_tokens: int
    json_mode: bool
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempts: int = 0
    errors: list[str] = field(default_factory=list)


def endpoint_configured() -> bool:
    return bool(settings.OPENAI_API_KEY or settings.OPENAI_BASE_URL)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle takes tens of milliseconds: once per process, not once per client.
    return httpx.create_ssl_context()


# Connections per httpx pool: a pool scans every one of its connections on each request, so one
# pool of hundreds costs milliseconds of CPU per call when busy; several small ones do not.
CONNECTIONS_PER_POOL = 16


class _SpreadResponseStream(httpx.AsyncByteStream):
    def __init__(self, stream: httpx.AsyncByteStream, on_close) -> None:
        self._stream = stream
        self._on_close = on_close

    async def __aiter__(self):
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            on_close, self._on_close = self._on_close, None
            if on_close is not None:
                on_close()


class SpreadTransport(httpx.AsyncBaseTransport):
    """``max_connections`` split over pools of at most CONNECTIONS_PER_POOL; each request goes to
    the pool with the most free connections, so the total stays at most ``max_connections``."""

    def __init__(self, *, max_connections: int, verify) -> None:
        sizes = [CONNECTIONS_PER_POOL] * (max_connections // CONNECTIONS_PER_POOL)
        if max_connections % CONNECTIONS_PER_POOL:
            sizes.append(max_connections % CONNECTIONS_PER_POOL)
        self._sizes = sizes or [1]
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


def _build_client(*, base_url: str, api_key: str, max_connections: int, timeout: float):
    http_client = httpx.AsyncClient(
        transport=SpreadTransport(max_connections=max_connections, verify=_ssl_context()),
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
    )
    return openai.AsyncOpenAI(
        # A local OpenAI-compatible server may need no key; the SDK insists on one.
        api_key=api_key or "not-needed",
        base_url=base_url or None,
        max_retries=0,
        timeout=timeout,
        http_client=http_client,
    )


def get_client() -> openai.AsyncOpenAI:
    """The shared client of the running event loop for the configured endpoint."""
    loop = asyncio.get_running_loop()
    config = (
        settings.OPENAI_BASE_URL,
        settings.OPENAI_API_KEY,
        settings.OPENAI_MAX_CONNECTIONS,
        settings.OPENAI_TIMEOUT_SECONDS,
    )
    per_loop = _clients.setdefault(loop, {})
    client = per_loop.get(config)
    if client is None:
        client = _build_client(
            base_url=config[0], api_key=config[1], max_connections=config[2], timeout=config[3]
        )
        per_loop[config] = client
    return client


def retry_after_seconds(headers: httpx.Headers | None) -> float | None:
    """Seconds from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    if not headers:
        return None
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000)
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


def _wait(retry_state: RetryCallState) -> float:
    """Retry-After where the server sent one, else exponential back-off with full jitter."""
    error = retry_state.outcome.exception() if retry_state.outcome else None
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        return retry_after
    ceiling = min(
        settings.OPENAI_RETRY_MAX_SECONDS,
        settings.OPENAI_RETRY_INITIAL_SECONDS * 2 ** (retry_state.attempt_number - 1),
    )
    return random.uniform(ceiling / 2, ceiling)


def _stop_at(deadline: float) -> Callable[[RetryCallState], bool]:
    """Stop when the next attempt could not start with time left in the budget, or when the
    server's Retry-After is longer than OPENAI_RETRY_AFTER_MAX_SECONDS."""

    def stop(retry_state: RetryCallState) -> bool:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None and retry_after > settings.OPENAI_RETRY_AFTER_MAX_SECONDS:
            # The endpoint asks for a longer pause than a waiting client should sit through.
            return True
        next_start = time.monotonic() + (retry_state.upcoming_sleep or 0)
        return next_start + MIN_ATTEMPT_SECONDS >= deadline

    return stop


def _is_transient(error: BaseException) -> bool:
    return isinstance(error, ProviderError) and not error.permanent


def _log_retry(retry_state: RetryCallState) -> None:
    error = retry_state.outcome.exception() if retry_state.outcome else None
    logger.info(
        "Model call attempt %d failed (%s); retrying in %.2fs",
        retry_state.attempt_number,
        error,
        retry_state.upcoming_sleep,
    )


def _status_error(error: openai.APIStatusError) -> ModelCallError:
    status = error.status_code
    retry_after = retry_after_seconds(error.response.headers if error.response else None)
    if status == 429 or status in RETRY_STATUSES:
        return ModelCallError(f"model endpoint answered {status}", retry_after=retry_after)
    if status >= 500:
        return ModelCallError(
            f"model endpoint answered {status}", outage=True, retry_after=retry_after
        )
    # A wrong key or a forbidden model is an outage for every request, not a retry.
    return ModelCallError(
        f"model endpoint refused the request ({status})",
        permanent=True,
        outage=status in (401, 403),
    )


async def _send(
    client: openai.AsyncOpenAI,
    *,
    state: _CallState,
    messages: list[dict[str, str]],
    temperature: float,
    timeout: float,
):
    """One request to the endpoint; asks again at once without JSON mode where it is refused,
    and with the default model where the routed one is unknown."""
    kwargs: dict[str, Any] = {
        "model": state.model,
        "messages": messages,
        "temperature": temperature,
        "max_tokens": state.max_tokens,
        "stream": False,
        "timeout": timeout,
    }
    if state.json_mode:
        kwargs["response_format"] = {"type": "json_object"}
    try:
        return await client.chat.completions.create(**kwargs)
    except openai.BadRequestError as error:
        if not state.json_mode or "response_format" not in str(error).lower():
            raise
        logger.warning("The model endpoint refuses response_format; asking without JSON mode")
        _no_json_mode.add(settings.OPENAI_BASE_URL)
        state.json_mode = False
        kwargs.pop("response_format")
        return await client.chat.completions.create(**kwargs)
    except openai.NotFoundError:
        if state.model == settings.OPENAI_MODEL:
            raise
        logger.warning(
            "The model endpoint does not serve %r; using the default model %r",
            state.model,
            settings.OPENAI_MODEL,
        )
        state.model = kwargs["model"] = settings.OPENAI_MODEL
        return await client.chat.completions.create(**kwargs)


async def _attempt(
    *,
    state: _CallState,
    messages: list[dict[str, str]],
    temperature: float,
    deadline: float,
    parse: Callable[[str], Any],
    breaker: circuit.Breaker,
) -> Completion:
    state.attempts += 1
    if not await circuit.allow(breaker):
        raise ModelCallError("the model's circuit breaker is open", permanent=True)
    remaining = deadline - time.monotonic()
    if remaining < MIN_ATTEMPT_SECONDS:
        raise ModelCallError("the request's time budget is spent", permanent=True, timeout=True)
    timeout = min(settings.OPENAI_TIMEOUT_SECONDS, remaining)
    client = get_client()
    try:
        async with asyncio.timeout(timeout + GUARD_SLACK_SECONDS):
            response = await _send(
                client, state=state, messages=messages, temperature=temperature, timeout=timeout
            )
    except (TimeoutError, openai.APITimeoutError):
        error: ModelCallError = ModelCallError(
            f"the model did not answer within {timeout:.1f}s", timeout=True, outage=True
        )
    except openai.APIConnectionError:
        error = ModelCallError("the model endpoint is unreachable", outage=True)
    except openai.APIStatusError as status_error:
        error = _status_error(status_error)
    except openai.OpenAIError as other:
        error = ModelCallError(f"the model call failed ({type(other).__name__})")
    else:
        await circuit.record_success(breaker)
        return _read(response, state=state, parse=parse)
    if error.outage:
        await circuit.record_failure(breaker)
    raise error


def _read(response: Any, *, state: _CallState, parse: Callable[[str], Any]) -> Completion:
    """Parse a reply; a cut-off or unusable one raises a transient ModelCallError."""
    usage = getattr(response, "usage", None)
    if usage is not None:
        state.prompt_tokens += usage.prompt_tokens or 0
        state.completion_tokens += usage.completion_tokens or 0
    choice = response.choices[0] if getattr(response, "choices", None) else None
    text = choice.message.content if choice is not None and choice.message else None
    if choice is not None and choice.finish_reason == "length":
        # Give the next attempt more room.
        state.max_tokens = max(
            state.max_tokens, min(state.max_tokens * 2, settings.OPENAI_BATCH_MAX_TOKENS)
        )
        raise ModelCallError("the model's answer was cut off", truncated=True)
    try:
        parsed = parse(text or "")
    except ModelOutputError as parse_error:
        raise ModelCallError(
            f"the model's answer is not usable JSON ({parse_error})",
            truncated=parse_error.truncated,
        ) from None
    return Completion(
        parsed=parsed,
        model=state.model,
        prompt_tokens=state.prompt_tokens,
        completion_tokens=state.completion_tokens,
        attempts=state.attempts,
    )


async def complete(
    *,
    messages: list[dict[str, str]],
    model: str,
    max_tokens: int,
    temperature: float = 0.0,
    json_mode: bool = True,
    parse: Callable[[str], Any],
) -> Completion:
    """Ask the model, retrying within the budget, and return the parsed answer.

    Raises ModelCallError when the model gives no usable answer: ``timeout`` is set when the last
    failure was a timeout (or the budget ran out).
    """
    budget = settings.OPENAI_REQUEST_BUDGET_SECONDS
    deadline = time.monotonic() + budget
    state = _CallState(
        model=model,
        max_tokens=max_tokens,
        json_mode=json_mode
        and settings.OPENAI_JSON_MODE
        and settings.OPENAI_BASE_URL not in _no_json_mode,
    )
    breaker = circuit.openai_breaker()
    retrying = AsyncRetrying(
        stop=stop_after_attempt(max(1, settings.OPENAI_MAX_ATTEMPTS)) | _stop_at(deadline),
        wait=_wait,
        retry=retry_if_exception(_is_transient),
        before_sleep=_log_retry,
        reraise=True,
    )
    completion: Completion | None = None
    try:
        async with asyncio.timeout(budget):
            async for attempt in retrying:
                with attempt:
                    completion = await _attempt(
                        state=state,
                        messages=messages,
                        temperature=temperature,
                        deadline=deadline,
                        parse=parse,
                        breaker=breaker,
                    )
    except (TimeoutError, ModelCallError) as failure:
        error = (
            failure
            if isinstance(failure, ModelCallError)
            else ModelCallError(
                f"the model gave no answer within the {budget:.1f}s budget", timeout=True
            )
        )
        error.model = state.model
        error.prompt_tokens = state.prompt_tokens
        error.completion_tokens = state.completion_tokens
        error.cost = await call_cost(
            model=state.model,
            prompt_tokens=state.prompt_tokens,
            completion_tokens=state.completion_tokens,
        )
        raise error from None
    assert completion is not None
    return completion


def default_template(document_type: str) -> PromptTemplate:
    """An unsaved template with the shipped prompts, for a type that has no template."""
    from prompts.models import DocumentType, PromptTemplate
    from prompts.seed import SYSTEM_PROMPT, USER_PROMPT

    return PromptTemplate(
        document_type=DocumentType(key=document_type, name=document_type),
        name=document_type,
        version="0.0.0",
        system_prompt=SYSTEM_PROMPT,
        user_prompt=USER_PROMPT,
    )


def _chars(messages: list[dict[str, str]]) -> int:
    return sum(len(m["content"]) for m in messages)


def _split(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` split in proportion to ``weights``, in whole numbers that add up to it."""
    whole = sum(weights) or 1.0
    exact = [total * w / whole for w in weights]
    parts = [int(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: exact[i] - parts[i], reverse=True)
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts


@register
class OpenAIProvider(Provider):
    name = "openai"

    def is_available(self) -> bool:
        return endpoint_configured()

    async def extract(
        self, *, document: Document, template: PromptTemplate | None = None
    ) -> ModelResult:
        template = template or default_template(document.document_type)
        messages = template.render(
            lines=list(document.lines),
            fields=list(document.fields),
            document_type=document.document_type,
        )
        model = await choose_model(
            document_type=document.document_type, lines=document.lines, template=template
        )
        keys = [spec.key for spec in document.fields]
        completion = await complete(
            messages=messages,
            model=model,
            max_tokens=template.max_tokens,
            temperature=template.temperature,
            json_mode=template.json_mode,
            parse=parse_object,
        )
        return ModelResult(
            values=coerce_fields(completion.parsed, keys=keys),
            provider=self.name,
            model=completion.model,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            cost=await call_cost(
                model=completion.model,
                prompt_tokens=completion.prompt_tokens,
                completion_tokens=completion.completion_tokens,
            ),
            prompt_tokens_unmerged=completion.prompt_tokens,
            attempts=completion.attempts,
        )

    async def extract_many(
        self, *, documents: list[Document], template: PromptTemplate | None = None
    ) -> list[ProviderResult | ProviderError]:
        """Extract documents of one type in merged calls of up to OPENAI_BATCH_MAX_ITEMS.

        Each merged call shares the instructions and asks for ``{"items": [...]}``. A call that
        fails gives its error to each of its documents; a document the answer leaves out gets a
        MissingItemError of its own.
        """
        if len(documents) == 1:
            try:
                return [await self.extract(document=documents[0], template=template)]
            except ProviderError as error:
                return [error]
        size = max(1, settings.OPENAI_BATCH_MAX_ITEMS)
        chunks = [documents[i : i + size] for i in range(0, len(documents), size)]
        answers = await asyncio.gather(
            *(self._extract_merged(documents=chunk, template=template) for chunk in chunks)
        )
        return [result for answer in answers for result in answer]

    async def _extract_merged(
        self, *, documents: list[Document], template: PromptTemplate | None
    ) -> list[ProviderResult | ProviderError]:
        if len(documents) == 1:
            return await self.extract_many(documents=documents, template=template)
        template = template or default_template(documents[0].document_type)
        fields = list(documents[0].fields)
        keys = [spec.key for spec in fields]
        count = len(documents)
        messages = template.render_batch(
            documents=[list(d.lines) for d in documents],
            fields=fields,
            document_type=documents[0].document_type,
        )
        # The merged call is routed by its largest document: its model must be fit for all.
        largest = max(documents, key=lambda d: sum(len(line) for line in d.lines))
        model = await choose_model(
            document_type=largest.document_type, lines=largest.lines, template=template
        )

        def parse(text: str) -> list[dict[str, Any] | None]:
            items = parse_items(text, count=count)
            if not any(items):
                raise ModelOutputError("The answer holds no item.")
            return items

        try:
            completion = await complete(
                messages=messages,
                model=model,
                max_tokens=min(template.max_tokens * count, settings.OPENAI_BATCH_MAX_TOKENS),
                temperature=template.temperature,
                json_mode=template.json_mode,
                parse=parse,
            )
        except ModelCallError as error:
            # Each document carries its share of what the failed call still cost.
            prompt = _split(error.prompt_tokens, [1.0] * count)
            answer = _split(error.completion_tokens, [1.0] * count)
            return [
                error.shared(
                    prompt_tokens=prompt[i],
                    completion_tokens=answer[i],
                    cost=await call_cost(
                        model=error.model or model,
                        prompt_tokens=prompt[i],
                        completion_tokens=answer[i],
                    ),
                )
                for i in range(count)
            ]
        except ProviderError as error:
            return [error] * count

        # Share the call's tokens among its documents: each its own OCR text plus an equal part
        # of the shared instructions; the answer by the length of each one's object. What each
        # would have cost alone is estimated at the same tokens per character as this call.
        merged_chars = _chars(messages)
        own = [sum(len(line) + 1 for line in d.lines) for d in documents]
        shared = max(0, merged_chars - sum(own))
        prompt_shares = _split(completion.prompt_tokens, [o + shared / count for o in own])
        answer_sizes = [
            len(json.dumps(item, ensure_ascii=False)) if item else 1 for item in completion.parsed
        ]
        completion_shares = _split(completion.completion_tokens, answer_sizes)
        per_char = completion.prompt_tokens / merged_chars if merged_chars else 0.0
        batch_id = uuid.uuid4()
        results: list[ProviderResult | ProviderError] = []
        for index, (document, item) in enumerate(zip(documents, completion.parsed, strict=True)):
            if item is None:
                results.append(
                    MissingItemError(f"the merged answer has no object for item {index + 1}")
                )
                continue
            alone = _chars(
                template.render(
                    lines=list(document.lines),
                    fields=fields,
                    document_type=document.document_type,
                )
            )
            results.append(
                ModelResult(
                    values=coerce_fields(item, keys=keys),
                    provider=self.name,
                    model=completion.model,
                    prompt_tokens=prompt_shares[index],
                    completion_tokens=completion_shares[index],
                    cost=await call_cost(
                        model=completion.model,
                        prompt_tokens=prompt_shares[index],
                        completion_tokens=completion_shares[index],
                    ),
                    prompt_tokens_unmerged=round(alone * per_char),
                    batch_id=batch_id,
                    attempts=completion.attempts,
                )
            )
        return results


__all__ = [
    "Completion",
    "MissingItemError",
    "ModelCallError",
    "ModelResult",
    "OpenAIProvider",
    "complete",
    "endpoint_configured",
    "get_client",
]
