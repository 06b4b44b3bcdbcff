"""Redis calls with a short total timeout and a local circuit breaker.

A hung or unreachable Redis used to cost every cache call its socket timeouts, one after
another: some ten calls a request, a second each. Here:

- each async call has a total timeout (QV_REDIS_TIMEOUT_SECONDS, connection included); the sync
  calls get the same as their socket timeouts (see ``cache_options`` in the settings);
- after a failure this process skips Redis for QV_REDIS_SKIP_SECONDS: a call then answers at
  once as if Redis had failed (a miss, or the error where errors are not ignored). The first
  call after that tries Redis again;
- an outage is logged once when it starts and once when it ends, never per call.

The breaker is per process (``redis_breaker``): it guards this process's waiting, which no other
process can do for it. ``GuardedRedisMixin`` puts it in front of a django-redis cache backend
(its sync client and ``_run``, the async path of ``quickvault.runtime.cache.AsyncRedisCache``);
``GuardedAsyncRedisCache`` is that backend with it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

from django.conf import settings
from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from quickvault.runtime.cache import REDIS_ERRORS, AsyncRedisCache

logger = logging.getLogger(__name__)

# The django-redis client's methods that talk to Redis; the rest (make_key, encode, decode)
# are local and pass through unguarded.
IO_METHODS = frozenset(
    {
        "add",
        "clear",
        "decr",
        "delete",
        "delete_many",
        "delete_pattern",
        "expire",
        "expire_at",
        "get",
        "get_many",
        "has_key",
        "incr",
        "incr_version",
        "iter_keys",
        "keys",
        "lock",
        "persist",
        "pexpire",
        "pexpire_at",
        "pttl",
        "set",
        "set_many",
        "touch",
        "ttl",
    }
)


class RedisSkipped(RedisConnectionError):
    """Redis was not called: it failed moments ago (see ``RedisBreaker``)."""


class RedisBreaker:
    """This process's view of whether Redis is reachable: after a failure it is skipped for
    ``skip_seconds``. Thread-safe; shared by the sync and async paths."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.skip_until = 0.0
        self.down_since: float | None = None
        self.skipped = 0

    def allows(self) -> bool:
        """Whether a call may go to Redis now."""
        if time.monotonic() >= self.skip_until:
            return True
        with self.lock:
            self.skipped += 1
        return False

    def failed(self, error: BaseException | None) -> None:
        with self.lock:
            self.skip_until = time.monotonic() + settings.QV_REDIS_SKIP_SECONDS
            starts = self.down_since is None
            if starts:
                self.down_since = time.monotonic()
        if starts:
            # Once per outage, without a traceback: the cause's name and text say enough.
            logger.warning(
                "Redis is unreachable (%s: %s); skipping it for %.0fs at a time until it answers",
                type(error).__name__,
                error,
                settings.QV_REDIS_SKIP_SECONDS,
            )

    def succeeded(self) -> None:
        if self.down_since is None:
            return
        with self.lock:
            since, self.down_since = self.down_since, None
            skipped, self.skipped = self.skipped, 0
        if since is not None:
            logger.warning(
                "Redis answers again after %.1fs; %d calls skipped meanwhile",
                time.monotonic() - since,
                skipped,
            )

    def reset(self) -> None:
        with self.lock:
            self.skip_until = 0.0
            self.down_since = None
            self.skipped = 0


redis_breaker = RedisBreaker()


def skipped_error() -> ConnectionInterrupted:
    error = ConnectionInterrupted(connection=None)
    error.__cause__ = RedisSkipped("Redis skipped after a recent failure")
    return error


class _GuardedClient:
    """A django-redis client whose Redis calls go through ``redis_breaker``."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name not in IO_METHODS:
            return attribute

        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not redis_breaker.allows():
                raise skipped_error()
            try:
                result = attribute(*args, **kwargs)
            except ConnectionInterrupted as error:
                redis_breaker.failed(error.__cause__)
                raise
            redis_breaker.succeeded()
            return result

        return guarded


class GuardedRedisMixin:
    """Put ``redis_breaker`` and a total timeout in front of a django-redis cache backend."""

    _guarded_client: _GuardedClient | None = None

    @property
    def client(self) -> Any:
        if self._guarded_client is None:
            self._guarded_client = _GuardedClient(super().client)
        return self._guarded_client

    async def _run(self, command, *, failed: Any = None) -> Any:
        """Await command(client) within QV_REDIS_TIMEOUT_SECONDS; `failed` at once while Redis
        is skipped, or when it fails and errors are ignored (IGNORE_EXCEPTIONS)."""
        if not redis_breaker.allows():
            if not self._ignore_exceptions:
                raise RedisSkipped("Redis skipped after a recent failure")
            return failed
        try:
            async with asyncio.timeout(settings.QV_REDIS_TIMEOUT_SECONDS):
                result = await command(self._aclient())
        except (*REDIS_ERRORS, TimeoutError) as error:
            redis_breaker.failed(error)
            if not self._ignore_exceptions:
                if isinstance(error, TimeoutError):
                    raise RedisTimeoutError("Redis did not answer in time") from error
                raise
            return failed
        redis_breaker.succeeded()
        return result


class GuardedAsyncRedisCache(GuardedRedisMixin, AsyncRedisCache):
    """``quickvault.runtime.cache.AsyncRedisCache`` behind ``redis_breaker``."""


class GuardedRedisCache(GuardedRedisMixin, RedisCache):
    """django-redis's stock cache (QV_FAST_API_PATH off) behind ``redis_breaker``: its async
    methods run the sync ones, whose client is guarded."""
