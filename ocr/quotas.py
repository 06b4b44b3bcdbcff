"""Per-key daily quotas: analyses and model tokens a UTC day, set per key in the admin.

A request over a quota is refused with 429 ``quota_exceeded`` and a ``Retry-After`` of the
seconds left until UTC midnight, when the counts start again.

- Analyses are counted before the work, each item of a batch as one; a request refused for its
  quota is not served, and is still counted (a client that keeps trying stays over).
- Tokens (prompt and completion, of every model call the request paid for) are known only once
  the model has answered: they are added afterwards, and a request is refused once the day's
  tokens have reached the quota. The last request served may take a key past it.

The counts have the day in their key and are shared by every worker (``QV_QUOTA_STORE``): in
Redis where there is one, else in the rate limiter's counter table (``quickvault.counters``,
one statement per count; past days' rows are purged with the expired nonces). Only a key with
a quota set is counted: the others cost no statement. Where Redis cannot be reached the count
is unknown and the request is served: a quota is a cost ceiling, and an outage of the cache is
not the client's doing (the rate limit and the model's circuit breaker still bound the cost).
Where the database holds them and cannot be reached, the request is refused with 503 and
Retry-After, as every request that needs the database is (``ocr.errors``).
"""

from __future__ import annotations

import functools
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache

from ocr.analysis import Analysis
from ocr.errors import ApiError
from ocr.models import ApiKey, RateCounter
from quickvault.counters import DatabaseCounterCache
from quickvault.runtime.turns import off_turn

# The counters outlive their day by this much, so a clock a little behind still finds them.
EXPIRY_MARGIN_SECONDS = 3600


def seconds_to_utc_midnight(now: datetime | None = None) -> int:
    """Whole seconds (at least 1) until the next UTC midnight."""
    now = now or datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, math.ceil((midnight - now).total_seconds()))


def counter_key(*, api_key: ApiKey, what: str, now: datetime | None = None) -> str:
    day = (now or datetime.now(UTC)).strftime("%Y%m%d")
    return f"quota:{api_key.key_id}:{day}:{what}"


def counter_ttl() -> int:
    return seconds_to_utc_midnight() + EXPIRY_MARGIN_SECONDS


@functools.cache
def database_counters() -> DatabaseCounterCache:
    return DatabaseCounterCache(RateCounter._meta.db_table, {})


def in_database() -> bool:
    return settings.QV_QUOTA_STORE == "database"


async def read(key: str) -> int | None:
    """The counter `key`; None where it is missing or the cache cannot be reached."""
    if in_database():
        return await off_turn(database_counters().get)(key)
    return await cache.aget(key)


async def add(key: str, amount: int) -> int | None:
    """Add `amount` to the counter `key` (made, expiring after its day, where missing); return
    the new count, or None where the cache cannot be reached."""
    ttl = counter_ttl()
    if in_database():
        return await off_turn(database_counters().add_to)(key, amount, ttl)
    try:
        return await cache.aincr(key, amount)
    except ValueError:
        pass
    added = await cache.aadd(key, amount, ttl)
    if added is None:
        return None
    if added:
        return amount
    try:
        return await cache.aincr(key, amount)
    except ValueError:
        return None


def quota_exceeded(*, what: str, quota: int) -> ApiError:
    retry_after = seconds_to_utc_midnight()
    return ApiError(
        status_code=429,
        code="quota_exceeded",
        message=f"Over the key's daily quota of {quota} {what}; it resets at 00:00 UTC.",
        details={"quota": quota, "unit": what, "retryAfter": retry_after},
        headers={"Retry-After": str(retry_after)},
    )


async def enforce_daily_quotas(*, api_key: ApiKey, analyses: int) -> None:
    """Count `analyses` against the key's daily request quota and check its token quota; raise
    429 ``quota_exceeded`` where either is used up."""
    if api_key.daily_token_quota:
        used = await read(counter_key(api_key=api_key, what="tokens"))
        if used is not None and used >= api_key.daily_token_quota:
            raise quota_exceeded(what="tokens", quota=api_key.daily_token_quota)
    if api_key.daily_request_quota and analyses:
        count = await add(counter_key(api_key=api_key, what="analyses"), analyses)
        if count is not None and count > api_key.daily_request_quota:
            raise quota_exceeded(what="analyses", quota=api_key.daily_request_quota)


async def record_tokens(*, api_key: ApiKey, tokens: int) -> None:
    """Add the model tokens a request paid for to the key's count for today."""
    if api_key.daily_token_quota and tokens > 0:
        await add(counter_key(api_key=api_key, what="tokens"), tokens)


def tokens_paid(results: list[Any]) -> int:
    """The model tokens the analyses among `results` (analyses and errors) paid for."""
    return sum(
        result.usage.prompt_tokens + result.usage.completion_tokens
        for result in results
        if isinstance(result, Analysis)
    )
