"""The cache backends whose async methods need no thread (quickvault/runtime/cache.py).

AsyncRedisCache talks to Redis through redis.asyncio, beside django-redis's sync client: the tests
that need a server use REDIS_URL (set by the CI's second run) and keys under a prefix of their
own. InlineLocMemCache answers async calls from the sync methods.
"""

from __future__ import annotations

import asyncio
import gc
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from redis.exceptions import ConnectionError as RedisConnectionError

from quickvault.runtime.cache import AsyncRedisCache, InlineLocMemCache

REDIS_URL = os.environ.get("REDIS_URL", "")
needs_redis = pytest.mark.skipif(
    not REDIS_URL, reason="needs REDIS_URL (the CI's second run sets it)"
)
# Nothing listens on the discard port of this host: connecting is refused at once.
UNREACHABLE_URL = "redis://127.0.0.1:9/0"


@dataclass(frozen=True)
class Point:
    x: int
    y: int


# An int (django-redis stores it as digits, unpickled), one past 64 bits, and pickled values.
VALUES = [
    pytest.param(42, id="int"),
    pytest.param(-7, id="negative-int"),
    pytest.param(2**70, id="int-past-64-bits"),
    pytest.param("text", id="str"),
    pytest.param({"a": [1, 2], "b": None}, id="dict"),
    pytest.param(Point(1, 2), id="dataclass"),
    pytest.param(True, id="bool"),
    pytest.param(1.5, id="float"),
]


def options(**overrides: Any) -> dict[str, Any]:
    """OPTIONS as quickvault/settings.py gives them, with `overrides`."""
    return {
        "CLIENT_CLASS": "django_redis.client.DefaultClient",
        "IGNORE_EXCEPTIONS": True,
        "SOCKET_CONNECT_TIMEOUT": 1,
        "SOCKET_TIMEOUT": 1,
        "CONNECTION_POOL_CLASS": "redis.BlockingConnectionPool",
        "CONNECTION_POOL_KWARGS": {"max_connections": 100, "timeout": 1},
        **overrides,
    }


def redis_backend(location: str, prefix: str, **overrides: Any) -> AsyncRedisCache:
    return AsyncRedisCache(location, {"OPTIONS": options(**overrides), "KEY_PREFIX": prefix})


def raw_redis() -> redis.Redis:
    return redis.Redis.from_url(REDIS_URL)


def unique(name: str) -> str:
    return f"qvtest-{name}-{uuid.uuid4().hex}"


def delete_prefixed(prefix: str) -> None:
    client = raw_redis()
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def named_connections(name: str) -> list[dict[str, Any]]:
    """The connections open on the server under the client name `name`."""
    client = raw_redis()
    try:
        return [c for c in client.client_list() if c.get("name") == name]
    finally:
        client.close()


def close_named_connections(name: str) -> None:
    client = raw_redis()
    for connection in named_connections(name):
        client.client_kill_filter(_id=connection["id"])
    client.close()


@pytest.fixture
def backend() -> Iterator[AsyncRedisCache]:
    prefix = unique("cache")
    yield redis_backend(REDIS_URL, prefix)
    delete_prefixed(prefix)


# -- AsyncRedisCache with a server ----------------------------------------------------------------


@needs_redis
@pytest.mark.parametrize("value", VALUES)
async def test_a_value_set_by_the_sync_api_is_read_by_the_async_one(backend, value):
    backend.set("key", value)

    assert await backend.aget("key") == value


@needs_redis
@pytest.mark.parametrize("value", VALUES)
async def test_a_value_set_by_the_async_api_is_read_by_the_sync_one(backend, value):
    await backend.aset("key", value)

    assert backend.get("key") == value


@needs_redis
async def test_an_int_set_by_the_async_api_can_be_incremented_by_the_sync_one(backend):
    await backend.aset("count", 41)

    assert backend.incr("count") == 42


@needs_redis
async def test_aget_of_a_missing_key_returns_the_default(backend):
    assert await backend.aget("missing", "fallback") == "fallback"


@needs_redis
async def test_aadd_adds_a_missing_key_and_leaves_an_existing_one(backend):
    assert await backend.aadd("key", "first") is True
    assert await backend.aadd("key", "second") is False

    assert backend.get("key") == "first"


@needs_redis
async def test_aset_with_a_timeout_expires(backend):
    await backend.aset("key", "value", timeout=1)
    assert await backend.aget("key") == "value"

    await asyncio.sleep(1.2)

    assert await backend.aget("key") is None


@needs_redis
async def test_aset_with_timeout_none_never_expires(backend):
    await backend.aset("key", "value", timeout=None)

    assert backend.ttl("key") is None
    assert backend.get("key") == "value"


@needs_redis
async def test_aset_with_a_zero_timeout_deletes_the_key(backend):
    backend.set("key", "value")

    await backend.aset("key", "new", timeout=0)

    assert backend.has_key("key") is False


@needs_redis
async def test_aget_many_returns_only_the_present_keys(backend):
    backend.set("a", 1)
    backend.set("b", {"two": 2})

    assert await backend.aget_many(["a", "b", "missing"]) == {"a": 1, "b": {"two": 2}}


@needs_redis
async def test_aset_many_sets_every_key_for_the_sync_api(backend):
    await backend.aset_many({"a": 1, "b": "two"}, timeout=60)

    assert backend.get_many(["a", "b"]) == {"a": 1, "b": "two"}
    assert 0 < backend.ttl("a") <= 60


@needs_redis
async def test_adelete_removes_the_key_and_says_whether_it_was_there(backend):
    backend.set("key", "value")

    assert await backend.adelete("key") is True
    assert await backend.adelete("key") is False
    assert backend.has_key("key") is False


@needs_redis
async def test_adelete_many_removes_the_named_keys_only(backend):
    backend.set_many({"a": 1, "b": 2, "c": 3})

    await backend.adelete_many(["a", "b", "missing"])

    assert backend.get_many(["a", "b", "c"]) == {"c": 3}


@needs_redis
async def test_aincr_adds_to_an_existing_int(backend):
    backend.set("count", 5)

    assert await backend.aincr("count", 3) == 8
    assert backend.get("count") == 8


@needs_redis
async def test_adecr_subtracts_from_an_existing_int(backend):
    backend.set("count", 5)

    assert await backend.adecr("count", 2) == 3
    assert backend.get("count") == 3


@needs_redis
async def test_aincr_on_a_missing_key_raises_value_error(backend):
    with pytest.raises(ValueError):
        await backend.aincr("missing")

    assert backend.has_key("missing") is False


@needs_redis
async def test_aincr_adds_past_64_bits_and_keeps_the_time_to_live(backend):
    backend.set("big", 2**70, timeout=100)

    assert await backend.aincr("big") == 2**70 + 1
    assert backend.get("big") == 2**70 + 1
    assert 0 < backend.ttl("big") <= 100


@needs_redis
async def test_aincr_keeps_the_time_to_live(backend):
    backend.set("count", 1, timeout=100)

    await backend.aincr("count")

    assert 0 < backend.ttl("count") <= 100


@needs_redis
async def test_ahas_key_says_whether_the_key_is_there(backend):
    backend.set("key", "value")

    assert await backend.ahas_key("key") is True
    assert await backend.ahas_key("missing") is False


@needs_redis
async def test_atouch_gives_a_key_a_new_timeout(backend):
    backend.set("key", "value", timeout=None)

    assert await backend.atouch("key", 1) is True
    await asyncio.sleep(1.2)

    assert backend.get("key") is None


@needs_redis
async def test_atouch_with_timeout_none_makes_a_key_persistent(backend):
    backend.set("key", "value", timeout=100)

    assert await backend.atouch("key", None) is True

    assert backend.ttl("key") is None


@needs_redis
async def test_atouch_of_a_missing_key_returns_false(backend):
    assert await backend.atouch("missing", 10) is False


@needs_redis
async def test_versions_of_a_key_are_apart_in_both_apis(backend):
    backend.set("key", "one", version=1)
    await backend.aset("key", "two", version=2)

    assert await backend.aget("key", version=1) == "one"
    assert backend.get("key", version=2) == "two"


@needs_redis
def test_cache_objects_of_one_event_loop_share_one_connection_pool():
    # Django makes a cache object per request context: 50 of them alive in one loop, as 50
    # requests in flight.
    name = unique("pool")
    prefix = unique("pool")
    location = f"{REDIS_URL}{'&' if '?' in REDIS_URL else '?'}client_name={name}"

    async def requests() -> int:
        backends = [redis_backend(location, prefix) for _ in range(50)]
        for backend in backends:
            await backend.aget("key")
        return len(named_connections(name))

    try:
        opened = asyncio.run(requests())
    finally:
        close_named_connections(name)

    assert 1 <= opened <= 2


@needs_redis
def test_a_closed_event_loop_leaves_its_connections_closed():
    name = unique("closed-loop")
    prefix = unique("closed-loop")
    location = f"{REDIS_URL}{'&' if '?' in REDIS_URL else '?'}client_name={name}"

    async def request() -> None:
        await redis_backend(location, prefix).aget("key")

    try:
        for _ in range(3):
            asyncio.run(request())  # as async_to_sync does outside a server: a loop per call
        gc.collect()
        still_open = len(named_connections(name))
    finally:
        close_named_connections(name)

    assert still_open <= 1


# -- AsyncRedisCache without a server -------------------------------------------------------------


@pytest.fixture
def unreachable() -> AsyncRedisCache:
    return redis_backend(UNREACHABLE_URL, unique("down"), SOCKET_CONNECT_TIMEOUT=0.5)


async def test_an_unreachable_redis_reads_as_the_default(unreachable):
    assert await unreachable.aget("key", "fallback") == "fallback"


async def test_an_unreachable_redis_adds_nothing(unreachable):
    assert await unreachable.aadd("key", 1) is None


async def test_an_unreachable_redis_has_no_keys_for_aget_many(unreachable):
    assert await unreachable.aget_many(["a", "b"]) == {}


async def test_an_unreachable_redis_raises_where_exceptions_are_not_ignored():
    strict = redis_backend(
        UNREACHABLE_URL, unique("down"), IGNORE_EXCEPTIONS=False, SOCKET_CONNECT_TIMEOUT=0.5
    )

    with pytest.raises(RedisConnectionError):
        await strict.aget("key")


# -- InlineLocMemCache ----------------------------------------------------------------------------


@pytest.fixture
def locmem() -> Iterator[InlineLocMemCache]:
    backend = InlineLocMemCache(unique("locmem"), {})
    yield backend
    backend.clear()


@pytest.mark.parametrize("value", VALUES)
async def test_locmem_aset_is_read_by_get(locmem, value):
    await locmem.aset("key", value)

    assert locmem.get("key") == value


async def test_locmem_set_is_read_by_aget(locmem):
    locmem.set("key", Point(1, 2))

    assert await locmem.aget("key") == Point(1, 2)
    assert await locmem.aget("missing", "fallback") == "fallback"


async def test_locmem_aadd_adds_a_missing_key_and_leaves_an_existing_one(locmem):
    assert await locmem.aadd("key", "first") is True
    assert await locmem.aadd("key", "second") is False

    assert locmem.get("key") == "first"


async def test_locmem_aincr_and_adecr_change_an_existing_int(locmem):
    locmem.set("count", 5)

    assert await locmem.aincr("count", 3) == 8
    assert await locmem.adecr("count") == 7
    assert locmem.get("count") == 7


async def test_locmem_aincr_on_a_missing_key_raises_value_error(locmem):
    with pytest.raises(ValueError):
        await locmem.aincr("missing")


async def test_locmem_aget_many_returns_only_the_present_keys(locmem):
    locmem.set_many({"a": 1, "b": 2})

    assert await locmem.aget_many(["a", "b", "missing"]) == locmem.get_many(["a", "b", "missing"])
    assert await locmem.aget_many(["a", "missing"]) == {"a": 1}


async def test_locmem_aset_many_sets_every_key(locmem):
    assert await locmem.aset_many({"a": 1, "b": 2}) == []

    assert locmem.get_many(["a", "b"]) == {"a": 1, "b": 2}


async def test_locmem_adelete_and_adelete_many_remove_keys(locmem):
    locmem.set_many({"a": 1, "b": 2, "c": 3})

    assert await locmem.adelete("a") is True
    assert await locmem.adelete("a") is False
    await locmem.adelete_many(["b"])

    assert locmem.get_many(["a", "b", "c"]) == {"c": 3}


async def test_locmem_ahas_key_says_whether_the_key_is_there(locmem):
    locmem.set("key", "value")

    assert await locmem.ahas_key("key") is True
    assert await locmem.ahas_key("missing") is False


async def test_locmem_atouch_gives_a_key_a_new_timeout(locmem):
    locmem.set("key", "value", timeout=None)

    assert await locmem.atouch("key", 0.05) is True
    assert await locmem.atouch("missing", 10) is False
    await asyncio.sleep(0.1)

    assert locmem.get("key") is None


async def test_locmem_aget_or_set_sets_only_a_missing_key(locmem):
    assert await locmem.aget_or_set("key", "first") == "first"
    assert await locmem.aget_or_set("key", "second") == "first"

    assert locmem.get("key") == "first"


async def test_locmem_aclear_empties_the_cache(locmem):
    locmem.set_many({"a": 1, "b": 2})

    await locmem.aclear()

    assert locmem.get_many(["a", "b"]) == {}
