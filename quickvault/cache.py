"""An async read-through of Django's cache.

The backends that make the async calls cheap are in ``quickvault.runtime.cache``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from asgiref.sync import sync_to_async
from django.core.cache import cache

T = TypeVar("T")


async def aget_or_load(key: str, load: Callable[[], T]) -> T:
    """The cache's entry `key`, read on the event loop; where it is missing, `load()` in a
    thread: the synchronous read-through, which reads the database and fills the entry."""
    value = await cache.aget(key)
    if value is None:
        value = await sync_to_async(load)()
    return value
