"""A circuit breaker whose state lives in the Django cache, so every worker shares it.

During an outage of the model endpoint each call would otherwise wait for its timeout and
retries; once the breaker is open every worker fails fast and the pipeline answers from the
built-in extractor at once.

- closed: calls go through. Failures and calls are counted in fixed windows; when a window holds
  at least ``min_failures`` failures and they are at least ``failure_ratio`` of its calls, the
  breaker opens. Counting a ratio, not a run, keeps a healthy endpoint's occasional 500 from
  tripping it while many requests are in flight.
- open: calls are refused for ``open_seconds``.
- half-open: then one caller at a time (whoever claims the probe key) may try; its success closes
  the breaker, a failure opens it again at once.

With Redis as the cache the counters are atomic across processes; with the local-memory cache
(the embedded default) the state is per process, which is all there is then.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import models


class CircuitState(models.TextChoices):
    CLOSED = "closed", "Closed"
    OPEN = "open", "Open"
    HALF_OPEN = "half_open", "Half-open"


@dataclass(frozen=True)
class Breaker:
    """A breaker's name (its cache namespace) and thresholds."""

    name: str
    min_failures: int = 5
    failure_ratio: float = 0.5
    window_seconds: int = 30
    open_seconds: float = 30.0
    # How long one half-open probe may take before another caller may probe.
    probe_seconds: float = 30.0

    def key(self, part: str) -> str:
        return f"circuit:{self.name}:{part}"

    def window_keys(self, now: float | None = None) -> tuple[str, str]:
        bucket = int((time.time() if now is None else now) // self.window_seconds)
        return self.key(f"{bucket}:calls"), self.key(f"{bucket}:failures")


def openai_breaker() -> Breaker:
    """The breaker of the model endpoint, configured from settings."""
    return Breaker(
        name="openai",
        min_failures=settings.OPENAI_CIRCUIT_MIN_FAILURES,
        failure_ratio=settings.OPENAI_CIRCUIT_FAILURE_RATIO,
        window_seconds=settings.OPENAI_CIRCUIT_WINDOW_SECONDS,
        open_seconds=settings.OPENAI_CIRCUIT_OPEN_SECONDS,
        probe_seconds=settings.OPENAI_TIMEOUT_SECONDS + 1,
    )


def _ttl(seconds: float) -> int:
    # Cache timeouts are whole seconds on some backends; never round an open breaker down to 0.
    return max(1, math.ceil(seconds))


async def _incr(key: str, *, ttl: int) -> int | None:
    # None where the cache cannot be reached (it ignores the error and answers None).
    # Incremented first: the key exists for all but the first call of a window, so this is one
    # round trip to the cache where adding first took two.
    try:
        return await cache.aincr(key)
    except ValueError:
        pass
    if await cache.aadd(key, 1, ttl):
        return 1
    try:
        return await cache.aincr(key)
    except ValueError:
        # Added by another caller, and expired since.
        await cache.aset(key, 1, ttl)
        return 1


async def state(breaker: Breaker) -> CircuitState:
    """The breaker's state as every worker sees it."""
    found = await cache.aget_many([breaker.key("open"), breaker.key("half_open")])
    if breaker.key("open") in found:
        return CircuitState.OPEN
    if breaker.key("half_open") in found:
        return CircuitState.HALF_OPEN
    return CircuitState.CLOSED


async def allow(breaker: Breaker) -> CircuitState | None:
    """Whether a call may go through now: the state it goes through in, for
    ``record_success``, or None. In half-open state only the one caller that claims the probe
    may; the others are refused until it has answered."""
    current = await state(breaker)
    if current == CircuitState.OPEN:
        return None
    if current == CircuitState.HALF_OPEN:
        claimed = await cache.aadd(breaker.key("probe"), 1, _ttl(breaker.probe_seconds))
        return current if claimed else None
    return current


async def trip(breaker: Breaker) -> None:
    """Open the breaker now (for open_seconds), then half-open until a probe succeeds."""
    await cache.aset(
        breaker.key("open"), time.time() + breaker.open_seconds, _ttl(breaker.open_seconds)
    )
    # Half-open outlives open: after the open period the first failure re-opens at once.
    await cache.aset(breaker.key("half_open"), 1, _ttl(breaker.open_seconds * 10 + 60))
    await cache.adelete(breaker.key("probe"))


async def record_success(breaker: Breaker, *, allowed_in: CircuitState) -> None:
    """A call that ``allow`` let through in `allowed_in` succeeded: the half-open probe's
    success closes the breaker, forgetting the window's counts; any other success is counted.

    Only the probe closes a breaker. A call let through while it was closed does not read its
    state again, which saves every model call a round trip to the cache; were the breaker
    tripped while that call was on its way, its success would say little of the endpoint now.
    """
    calls_key, failures_key = breaker.window_keys()
    if allowed_in == CircuitState.HALF_OPEN:
        await cache.adelete_many(
            [breaker.key("half_open"), breaker.key("probe"), calls_key, failures_key]
        )
        return
    await _incr(calls_key, ttl=_ttl(breaker.window_seconds * 2))


async def record_failure(breaker: Breaker) -> None:
    """A call failed in a way that speaks of the endpoint (timeout, unreachable, 5xx): count it,
    and open the breaker when the window's failures cross the thresholds."""
    current = await state(breaker)
    if current == CircuitState.HALF_OPEN:
        await trip(breaker)
        return
    if current == CircuitState.OPEN:
        return
    calls_key, failures_key = breaker.window_keys()
    ttl = _ttl(breaker.window_seconds * 2)
    calls = await _incr(calls_key, ttl=ttl)
    failures = await _incr(failures_key, ttl=ttl)
    if calls is None or failures is None:
        # The cache (Redis) is unreachable: nothing is counted, and nothing can be opened.
        return
    if failures >= breaker.min_failures and failures >= breaker.failure_ratio * calls:
        await trip(breaker)


async def reset(breaker: Breaker) -> None:
    """Close the breaker and forget its counts (staff or tests)."""
    calls_key, failures_key = breaker.window_keys()
    await cache.adelete_many(
        [
            breaker.key("open"),
            breaker.key("half_open"),
            breaker.key("probe"),
            calls_key,
            failures_key,
        ]
    )
