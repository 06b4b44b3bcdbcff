"""A copy of the configuration in each worker's memory, valid while its generation is current.

An analysis reads the type's fields, its default template, the running experiments, the model
routes and the prices. They are cached in the shared cache, but with Redis each read is a round
trip that a request waits for; together they were half of its time beyond the model's. Each
worker therefore keeps what it read, stamped with the configuration's *generation*: one value in
the shared cache that every save of configuration replaces (see prompts/signals.py). A request
reads the generation once (``read_generation``, beside its other first reads) and holds it for
its duration (``use_generation``, then ``release_generation``); an entry stamped with another
generation is read again. So a staff edit takes effect on the next request of every worker, as
the shared cache alone gave.

Outside a request that holds a generation (the admin, commands, tasks), reads go to the shared
cache as before. An entry is also read again after LOCAL_SECONDS, for changes made without a
save (a queryset update).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar, Token
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import transaction

GENERATION_KEY = "config:generation"
LOCAL_SECONDS = 60

T = TypeVar("T")

_generation: ContextVar[str | None] = ContextVar("config_generation", default=None)
# cache key -> (generation, read at (monotonic seconds), value)
_local: dict[str, tuple[str, float, Any]] = {}


async def read_generation() -> str | None:
    """The current generation; a new one where the shared cache has none (a first request, or
    a cache that was cleared). None where the cache cannot be reached."""
    generation = await cache.aget(GENERATION_KEY)
    if generation is None:
        fresh = uuid.uuid4().hex
        added = await cache.aadd(GENERATION_KEY, fresh, timeout=None)
        generation = fresh if added else await cache.aget(GENERATION_KEY)
    return generation


def use_generation(generation: str | None) -> Token:
    """Hold `generation` for the rest of this request (its task and the tasks it starts), until
    ``release_generation`` with the token this returns."""
    return _generation.set(generation)


def release_generation(token: Token) -> None:
    # Needed where a synchronous caller ran the request (async_to_sync hands context variables
    # back to it): code it runs afterwards is outside any request.
    _generation.reset(token)


def new_generation() -> None:
    """The configuration changed: every worker reads it again on its next request.

    Once now, for the saving transaction itself, and once more after it commits: a worker that
    read the new generation before the commit may have stored the old rows under it.
    """
    _start_generation()
    transaction.on_commit(_start_generation)


def _start_generation() -> None:
    _local.clear()
    cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)


async def aget(key: str, load: Callable[[], Awaitable[T]]) -> T:
    """The entry `key` from this worker's copy where it holds the request's generation, else
    from `load()` (which reads the shared cache, and the database behind it)."""
    generation = _generation.get()
    if generation is None:
        return await load()
    entry = _local.get(key)
    now = time.monotonic()
    if entry is not None and entry[0] == generation and now - entry[1] < LOCAL_SECONDS:
        return entry[2]
    value = await load()
    _local[key] = (generation, now, value)
    return value
