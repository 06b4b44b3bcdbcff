"""Cache backends whose async methods need no thread.

Django's cache API is synchronous underneath: ``aget`` and the rest hand each call to a thread.
An analysis makes several cache calls (the nonce, the key, the configuration, the circuit
breaker, the routing), and with a hundred requests in flight those threads, and the GIL they
contend for, cost more than the calls themselves.

Mirrors the semantics of Django 5.2's ``BaseCache`` async methods and of django-redis's
``DefaultClient`` (see README.md, and tests/quickvault/test_runtime_upstream.py, which fails when
they change upstream). quickvault/settings.py names these classes only while QV_FAST_API_PATH is
on; off, the cache is Django's LocMemCache or django-redis's RedisCache.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django_redis.cache import RedisCache
from redis import asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

# What django-redis turns into a cache miss under IGNORE_EXCEPTIONS.
REDIS_ERRORS = (RedisConnectionError, RedisTimeoutError, ResponseError, socket.timeout)

# Where OPTIONS leave them out: redis-py's BlockingConnectionPool size, and a wait for a free
# connection as short as quickvault/settings.py gives (an async caller must not stall long).
DEFAULT_MAX_CONNECTIONS = 50
DEFAULT_POOL_TIMEOUT_SECONDS = 1
MS_PER_SECOND = 1000


# Adds only to a key that exists, as django-redis's incr does: a missing key is an error, not 1.
INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then
    return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""


class InlineLocMemCache(LocMemCache):
    """LocMemCache whose async methods run the sync ones on the event loop: they only take a lock
    around a dict, so the thread Django would hand each call to costs more than the call."""

    async def aadd(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self.add(key, value, timeout, version)

    async def aget(self, key, default=None, version=None):
        return self.get(key, default, version)

    async def aset(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self.set(key, value, timeout, version)

    async def atouch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self.touch(key, timeout, version)

    async def adelete(self, key, version=None):
        return self.delete(key, version)

    async def aget_many(self, keys, version=None):
        return self.get_many(keys, version)

    async def aget_or_set(self, key, default, timeout=DEFAULT_TIMEOUT, version=None):
        return self.get_or_set(key, default, timeout, version)

    async def ahas_key(self, key, version=None):
        return self.has_key(key, version)

    async def aincr(self, key, delta=1, version=None):
        return self.incr(key, delta, version)

    async def adecr(self, key, delta=1, version=None):
        return self.decr(key, delta, version)

    async def aset_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self.set_many(data, timeout, version)

    async def adelete_many(self, keys, version=None):
        return self.delete_many(keys, version)

    async def aclear(self):
        return self.clear()


# One client per event loop and pool configuration, shared by every cache object (see _aclient).
_loop_clients: dict[asyncio.AbstractEventLoop, dict[tuple, aioredis.Redis]] = {}


def _forget_closed_loops() -> None:
    """Drop the clients of loops that have closed (async_to_sync makes a loop per call outside
    a server). Their connections refer back to their loop, so a weak mapping never let them go;
    dropped here, the collector closes their sockets."""
    for loop in [loop for loop in _loop_clients if loop.is_closed()]:
        del _loop_clients[loop]


class AsyncRedisCache(RedisCache):
    """django-redis's cache, whose async methods talk to Redis through redis.asyncio.

    Keys and values are made by the django-redis client, so the sync and the async methods read
    what the other wrote. As with IGNORE_EXCEPTIONS for the sync methods, an unreachable Redis
    reads as a miss: None (``aget_many``: {}) instead of an error. Each event loop has its own
    connection pool (a worker has one loop; tests make one per call), sized and timed out as
    OPTIONS sizes the sync one.
    """

    def _aclient(self) -> aioredis.Redis:
        # Django makes a cache object per request (per async context), so the clients are kept
        # beside the class, as django-redis keeps its connection pools: one per event loop and
        # configuration. Kept on the object, every request opened connections of its own.
        options = self._params.get("OPTIONS", {})
        pool_options = options.get("CONNECTION_POOL_KWARGS", {})
        location = self._server if isinstance(self._server, str) else self._server[0]
        config = (
            location.split(",")[0],
            pool_options.get("max_connections", DEFAULT_MAX_CONNECTIONS),
            pool_options.get("timeout", DEFAULT_POOL_TIMEOUT_SECONDS),
            options.get("SOCKET_CONNECT_TIMEOUT"),
            options.get("SOCKET_TIMEOUT"),
        )
        loop = asyncio.get_running_loop()
        per_loop = _loop_clients.get(loop)
        if per_loop is None:
            _forget_closed_loops()
            per_loop = _loop_clients[loop] = {}
        client = per_loop.get(config)
        if client is None:
            url, max_connections, timeout, connect_timeout, socket_timeout = config
            pool = aioredis.BlockingConnectionPool.from_url(
                url,
                max_connections=max_connections,
                timeout=timeout,
                socket_connect_timeout=connect_timeout,
                socket_timeout=socket_timeout,
            )
            client = per_loop[config] = aioredis.Redis(connection_pool=pool)
        return client

    async def _run(self, command, *, failed: Any = None) -> Any:
        """Await command(client); `failed` where Redis cannot be reached and errors are
        ignored (see IGNORE_EXCEPTIONS)."""
        try:
            return await command(self._aclient())
        except REDIS_ERRORS:
            if not self._ignore_exceptions:
                raise
            if self._log_ignored_exceptions:
                self.logger.exception("Exception ignored")
            return failed

    def _milliseconds(self, timeout: float | None) -> int | None:
        if timeout is DEFAULT_TIMEOUT:
            timeout = self.default_timeout
        return None if timeout is None else int(timeout * MS_PER_SECOND)

    async def _set(self, key, value, timeout, version, *, only_new: bool) -> bool | None:
        redis_key = self.client.make_key(key, version=version)
        expiry = self._milliseconds(timeout)
        if expiry is not None and expiry <= 0:
            # As django-redis: an expired add changes nothing, an expired set deletes.
            if only_new:
                return not await self.ahas_key(key, version=version)
            return await self.adelete(key, version=version)
        encoded = self.client.encode(value)
        return await self._run(
            lambda redis: self._bool(redis.set(redis_key, encoded, nx=only_new, px=expiry))
        )

    @staticmethod
    async def _bool(awaitable) -> bool:
        return bool(await awaitable)

    async def aadd(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return await self._set(key, value, timeout, version, only_new=True)

    async def aset(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return await self._set(key, value, timeout, version, only_new=False)

    async def aget(self, key, default=None, version=None):
        redis_key = self.client.make_key(key, version=version)
        found = await self._run(lambda redis: redis.get(redis_key))
        return default if found is None else self.client.decode(found)

    async def aget_many(self, keys, version=None):
        keys = list(keys)
        if not keys:
            return {}
        redis_keys = [self.client.make_key(key, version=version) for key in keys]
        found = await self._run(lambda redis: redis.mget(redis_keys), failed=[None] * len(keys))
        return {
            key: self.client.decode(value)
            for key, value in zip(keys, found, strict=True)
            if value is not None
        }

    async def aset_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        expiry = self._milliseconds(timeout)
        if expiry is not None and expiry <= 0:
            await self.adelete_many(list(data), version=version)
            return []

        async def set_all(redis: aioredis.Redis) -> None:
            async with redis.pipeline(transaction=False) as pipe:
                for key, value in data.items():
                    redis_key = self.client.make_key(key, version=version)
                    pipe.set(redis_key, self.client.encode(value), px=expiry)
                await pipe.execute()

        await self._run(set_all)
        return []

    async def adelete(self, key, version=None):
        redis_key = self.client.make_key(key, version=version)
        return await self._run(lambda redis: self._bool(redis.delete(redis_key)))

    async def adelete_many(self, keys, version=None):
        redis_keys = [self.client.make_key(key, version=version) for key in keys]
        if redis_keys:
            await self._run(lambda redis: redis.delete(*redis_keys))

    async def ahas_key(self, key, version=None):
        redis_key = self.client.make_key(key, version=version)
        return await self._run(lambda redis: self._bool(redis.exists(redis_key)))

    async def atouch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        redis_key = self.client.make_key(key, version=version)
        expiry = self._milliseconds(timeout)
        if expiry is None:
            return await self._run(lambda redis: self._bool(redis.persist(redis_key)))
        return await self._run(lambda redis: self._bool(redis.pexpire(redis_key, expiry)))

    async def aincr(self, key, delta=1, version=None):
        redis_key = self.client.make_key(key, version=version)

        async def incr(redis: aioredis.Redis) -> int:
            try:
                value = await redis.eval(INCR_EXISTING, 1, redis_key, delta)
            except ResponseError:
                # The stored value is not an integer Redis can add to (a pickled one, or one
                # past 64 bits): add in Python, keeping the key's time to live.
                ttl = await redis.pttl(redis_key)
                found = await redis.get(redis_key)
                if found is None:
                    raise ValueError(f"Key {key!r} not found") from None
                value = self.client.decode(found) + delta
                await redis.set(redis_key, self.client.encode(value), px=ttl if ttl > 0 else None)
                return value
            if value is None:
                raise ValueError(f"Key {key!r} not found")
            return value

        return await self._run(incr)

    async def adecr(self, key, delta=1, version=None):
        return await self.aincr(key, -delta, version=version)

    async def aclear(self):
        return await self._run(lambda redis: redis.flushdb())
