"""Awaiting several calls at once, without a turn of the event loop where there is one call."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from quickvault.runtime.turns import waiting

T = TypeVar("T")


async def together(calls: list[Awaitable[T]]) -> list[T]:
    """``asyncio.gather(*calls)``, except that a lone call is awaited in place and no call is
    no wait.

    gather makes each call a task, which starts on the event loop's next turn and wakes its
    caller a turn after it ends. Under load a turn is the time the loop takes through every
    request that is ready, so two turns were the cost of gathering the one model call (or the
    one group of documents) that most analyses make. Several calls run side by side in their
    tasks while the request lets its turn go (``quickvault.runtime.turns.waiting``).
    """
    if not calls:
        return []
    if len(calls) == 1:
        return [await calls[0]]
    async with waiting():
        return list(await asyncio.gather(*calls))
