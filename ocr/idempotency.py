"""``Idempotency-Key``: a retried request is answered once, and its model call paid once.

The same key id, idempotency key and body within 24 hours get the first answer, with the same
``requestId``, however many times they are sent, and even while the first is still being
served: the first request claims the key (an atomic add in the cache), a retry that finds the
claim waits for the answer, polling, for as long as the first may take. The same idempotency key
with another body is 409 ``idempotency_conflict``.

Only 2xx answers are kept: a request that fails (a 4xx, a 503) gives up its claim, and its retry
is served afresh. The records are shared by every worker (``QV_IDEMPOTENCY_STORE``): in Redis
where there is one, else in the database (``ocr.idempotency_records``: a claim is one
insert-or-fail statement; expired records are purged with the expired nonces). A request
without the header costs no statement. Where Redis cannot be reached a request is served
without the guarantee (and the outage is logged by the cache layer); where the database cannot,
the request is refused with 503 and Retry-After (``ocr.errors``), and its retry is safe.
"""

from __future__ import annotations

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

from ocr import idempotency_records
from ocr.errors import ApiError, invalid_request
from quickvault.runtime import turns
from quickvault.runtime.turns import off_turn

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
    store = DatabaseStore if settings.QV_IDEMPOTENCY_STORE == "database" else CacheStore
    claim = Claim(key_id=key_id, key=key, fingerprint=fingerprint(request))
    deadline = time.monotonic() + serving_seconds()
    while True:
        claimed, found = await store.claim_or_find(claim)
        if claimed is None:  # the cache is unreachable: served without the guarantee
            return await serve()
        if claimed:
            return await serve_and_keep(store=store, claim=claim, serve=serve)
        if found is None:  # the first request failed, or its claim expired: claim it again
            continue
        if found.fingerprint != claim.fingerprint:
            raise conflict()
        if found.done:
            return Response(found.data, status=found.status)
        if time.monotonic() >= deadline:
            raise in_progress()
        await turns.sleep(POLL_SECONDS)


async def serve_and_keep(
    *, store: type[Store], claim: Claim, serve: Callable[[], Awaitable[Response]]
) -> Response:
    """Serve the claimed request; keep a 2xx answer for KEEP_SECONDS, else give up the claim."""
    try:
        response = await serve()
    except BaseException:
        await store.release(claim)
        raise
    if 200 <= response.status_code < 300:
        await store.keep(claim, status=response.status_code, data=response.data)
    else:
        await store.release(claim)
    return response


@dataclass(frozen=True)
class Claim:
    """One request's use of an idempotency key: whose, which, and its body's fingerprint."""

    key_id: str
    key: str
    fingerprint: str

    @property
    def cache_key(self) -> str:
        return f"idempotency:{self.key_id}:{self.key}"


class Store:
    """Where records live. ``claim_or_find`` returns (True, None) where this request claimed
    the key, (False, the record) where another holds it, (False, None) where the holder went
    meanwhile, and (None, None) where the store cannot be reached."""

    @staticmethod
    async def claim_or_find(claim: Claim) -> tuple[bool | None, Record | None]:
        raise NotImplementedError

    @staticmethod
    async def keep(claim: Claim, *, status: int, data: Any) -> None:
        raise NotImplementedError

    @staticmethod
    async def release(claim: Claim) -> None:
        raise NotImplementedError


class CacheStore(Store):
    """Redis: an atomic add claims; the record is the cache entry."""

    @staticmethod
    async def claim_or_find(claim: Claim) -> tuple[bool | None, Record | None]:
        mine = Record(fingerprint=claim.fingerprint)
        claimed = await cache.aadd(claim.cache_key, mine, serving_seconds())
        if claimed is None or claimed:
            return claimed, None
        return False, await cache.aget(claim.cache_key)

    @staticmethod
    async def keep(claim: Claim, *, status: int, data: Any) -> None:
        done = Record(fingerprint=claim.fingerprint, status=status, data=data)
        await cache.aset(claim.cache_key, done, KEEP_SECONDS)

    @staticmethod
    async def release(claim: Claim) -> None:
        await cache.adelete(claim.cache_key)


class DatabaseStore(Store):
    """The IdempotencyRecord table, on the worker's database thread."""

    @staticmethod
    async def claim_or_find(claim: Claim) -> tuple[bool | None, Record | None]:
        claimed, found = await off_turn(idempotency_records.claim_or_find)(
            key_id=claim.key_id,
            idempotency_key=claim.key,
            fingerprint=claim.fingerprint,
            seconds=serving_seconds(),
        )
        if found is None:
            return claimed, None
        return False, Record(fingerprint=found.fingerprint, status=found.status, data=found.data)

    @staticmethod
    async def keep(claim: Claim, *, status: int, data: Any) -> None:
        await off_turn(idempotency_records.keep)(
            key_id=claim.key_id,
            idempotency_key=claim.key,
            fingerprint=claim.fingerprint,
            status=status,
            data=data,
            seconds=KEEP_SECONDS,
        )

    @staticmethod
    async def release(claim: Claim) -> None:
        await off_turn(idempotency_records.release)(
            key_id=claim.key_id, idempotency_key=claim.key, fingerprint=claim.fingerprint
        )
