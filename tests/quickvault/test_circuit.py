"""The circuit breaker, whose state every worker reads from the shared cache."""

import asyncio

from asgiref.sync import async_to_sync

from quickvault import circuit
from quickvault.circuit import Breaker, CircuitState

BREAKER = Breaker(name="test", min_failures=3, failure_ratio=0.5, window_seconds=60, open_seconds=1)


async def fail(times: int, breaker: Breaker = BREAKER) -> None:
    for _ in range(times):
        await circuit.record_failure(breaker)


async def test_a_new_breaker_is_closed_and_allows_calls():
    assert await circuit.state(BREAKER) == CircuitState.CLOSED
    assert await circuit.allow(BREAKER)


async def test_breaker_opens_after_enough_failures():
    await fail(3)

    assert await circuit.state(BREAKER) == CircuitState.OPEN
    assert not await circuit.allow(BREAKER)


async def test_fewer_failures_than_the_minimum_keep_it_closed():
    await fail(2)

    assert await circuit.allow(BREAKER)


async def test_occasional_failures_among_successes_keep_it_closed():
    for _ in range(4):
        for _ in range(3):
            await circuit.record_success(BREAKER, allowed_in=CircuitState.CLOSED)
        await circuit.record_failure(BREAKER)

    assert await circuit.state(BREAKER) == CircuitState.CLOSED


async def test_state_is_shared_by_every_breaker_of_the_name():
    # Another worker builds its own Breaker with the same name and reads the same cache.
    await fail(3)
    other_worker = Breaker(name="test", min_failures=3, window_seconds=60, open_seconds=1)

    assert not await circuit.allow(other_worker)


async def test_breakers_of_other_names_are_independent():
    await fail(3)

    assert await circuit.allow(Breaker(name="another-endpoint"))


async def test_after_the_open_period_one_probe_is_allowed():
    await fail(3)
    await asyncio.sleep(1.1)

    assert await circuit.state(BREAKER) == CircuitState.HALF_OPEN
    assert await circuit.allow(BREAKER)
    assert not await circuit.allow(BREAKER)


async def test_a_successful_probe_closes_the_breaker():
    await fail(3)
    await asyncio.sleep(1.1)
    allowed_in = await circuit.allow(BREAKER)

    await circuit.record_success(BREAKER, allowed_in=allowed_in)

    assert await circuit.state(BREAKER) == CircuitState.CLOSED
    assert await circuit.allow(BREAKER)


async def test_a_success_let_through_before_the_breaker_opened_leaves_the_probe_to_decide():
    allowed_in = await circuit.allow(BREAKER)
    await fail(3)
    await asyncio.sleep(1.1)

    await circuit.record_success(BREAKER, allowed_in=allowed_in)

    assert await circuit.state(BREAKER) == CircuitState.HALF_OPEN
    assert await circuit.allow(BREAKER) == CircuitState.HALF_OPEN


async def test_a_failed_probe_opens_it_again_at_once():
    await fail(3)
    await asyncio.sleep(1.1)
    await circuit.allow(BREAKER)

    await circuit.record_failure(BREAKER)

    assert await circuit.state(BREAKER) == CircuitState.OPEN


async def test_reset_closes_the_breaker():
    await fail(3)

    await circuit.reset(BREAKER)

    assert await circuit.allow(BREAKER)


UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2},
    }
}


def test_breaker_stays_closed_while_redis_is_unreachable(settings):
    settings.CACHES = UNREACHABLE_REDIS
    settings.DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = False

    assert async_to_sync(circuit.state)(circuit.openai_breaker()) == circuit.CircuitState.CLOSED


def test_failures_are_not_counted_while_redis_is_unreachable(settings):
    settings.CACHES = UNREACHABLE_REDIS
    settings.DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = False
    breaker = circuit.openai_breaker()

    for _ in range(breaker.min_failures + 1):
        async_to_sync(circuit.record_failure)(breaker)

    assert async_to_sync(circuit.allow)(breaker) == CircuitState.CLOSED
