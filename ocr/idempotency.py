"""``Idempotency-Key``: a retried request is answered once, and its model call paid once.

The same key id, idempotency key and body within 24 hours get the first answer, with the same
``requestId``, however many times they are sent, and even while the first is still being
served: the first request claims the key (an atomic add in the cache), a retry that finds the
claim waits for the answer, polling, for as long as the first may take. The same idempotency key
with another body is 409 ``idempotency_conflict``.

Only 2xx answers are kept: a request that fails (a 4xx, a 503) gives up its claim, and its retry
is served afresh. The records live in the cache: with Redis every worker shares them; on the
embedded default each worker process has its own. Where the cache cannot be reached a request is
served without the guarantee (and the outage is logged by the cache layer).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response

from ocr.errors import ApiError, invalid_request

HEADER = "Idempotency-Key"
VALID_KEY = re.compile(r"[A-Za-z0-9_-]{1,128}")
# How long an answer is kept for the retries of its request.
KEEP_SECONDS = 24 * 3600
# A waiting retry looks for the answer this often.
POLL_SECONDS = 0.05
# Beyond the model's budget, what the rest of a request (logging, the fallback) may take.
SERVING_MARGIN_SECONDS = 10.0
IN_PROGRESS_RETRY_AFTER_SECONDS = 1

SCHEMA_PARAMETER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    pattern=r"^[A-Za-z0-9_-]{1,128}$",
    description="1-128 of [A-Za-z0-9_-]: a retry with the same key and body gets the first answer.",
)


@dataclass(frozen=True)
class Record:
    """What the cache holds for one idempotency key: the body it was used with, and once the
    request was served, its answer."""

    fingerprint: str
    status: int | None = None
    data: Any = None

    @property
    def done(self) -> bool:
        return self.status is not None


def idempotency_key(request: Request) -> str | None:
    """The request's Idempotency-Key, None where it has none; 400 where it is malformed."""
    value = request.headers.get(HEADER)
    if value is None:
        return None
    if not VALID_KEY.fullmatch(value):
        raise invalid_request(
            "Idempotency-Key must be 1 to 128 characters of [A-Za-z0-9_-].",
            {HEADER: ["1 to 128 characters of [A-Za-z0-9_-]."]},
        )
    return value


def fingerprint(request: Request) -> str:
    """The method, path and raw body, hashed: what "the same request" means."""
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.get_full_path().encode(), request.body):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def serving_seconds() -> float:
    """How long the first request may take, and a retry wait for it."""
    return settings.OPENAI_REQUEST_BUDGET_SECONDS + SERVING_MARGIN_SECONDS


def conflict() -> ApiError:
    return ApiError(
        status_code=409,
        code="idempotency_conflict",
        message="This Idempotency-Key was already used with another body.",
        details={HEADER: ["Used with another body."]},
    )


def in_progress() -> ApiError:
    return ApiError(
        status_code=409,
        code="idempotency_conflict",
        message="A request with this Idempotency-Key is still being served; retry shortly.",
        details={HEADER: ["Still being served."]},
        headers={"Retry-After": str(IN_PROGRESS_RETRY_AFTER_SECONDS)},
    )


async def respond(
    *, request: Request, key_id: str, serve: Callable[[], Awaitable[Response]]
) -> Response:
    """Answer `request` by `serve()`, once per idempotency key and body (see the module)."""
    key = idempotency_key(request)
    if key is None:
        return await serve()
    cache_key = f"idempotency:{key_id}:{key}"
    mine = Record(fingerprint=fingerprint(request))
    deadline = time.monotonic() + serving_seconds()
    while True:
        claimed = await cache.aadd(cache_key, mine, serving_seconds())
        if claimed is None:  # the cache is unreachable: served without the guarantee
            return await serve()
        if claimed:
            return await serve_and_keep(cache_key=cache_key, record=mine, serve=serve)
        found = await cache.aget(cache_key)
        if found is None:  # the first request failed, or its claim expired: claim it again
            continue
        if found.fingerprint != mine.fingerprint:
            raise conflict()
        if found.done:
            return Response(found.data, status=found.status)
        if time.monotonic() >= deadline:
            raise in_progress()
        await asyncio.sleep(POLL_SECONDS)


async def serve_and_keep(
    *, cache_key: str, record: Record, serve: Callable[[], Awaitable[Response]]
) -> Response:
    """Serve the claimed request; keep a 2xx answer for KEEP_SECONDS, else give up the claim."""
    try:
        response = await serve()
    except BaseException:
        await cache.adelete(cache_key)
        raise
    if 200 <= response.status_code < 300:
        done = Record(
            fingerprint=record.fingerprint, status=response.status_code, data=response.data
        )
        await cache.aset(cache_key, done, KEEP_SECONDS)
    else:
        await cache.adelete(cache_key)
    return response
