"""API requests take turns on the event loop: one at a time on the CPU, in the order they asked.

An event loop interleaves the requests it holds at every ``await``: a request that gives the loop
up goes behind every other ready request, so requests that arrive together finish together,
each after the work of all of them. With clients that send again as soon as they are answered,
and a model that answers in a steady time, such a group comes back together a round later and
keeps its shape for good: a stall of the worker once turned into a burst of late answers every
round. Taking turns, a group leaves one request after another instead, each after its own work
and that of the requests before it, and comes back spread out.

- ``in_turn`` runs a request's work holding its turn of the loop, taken after every request
  that asked before it. First come, first served: served oldest first instead, replies that came
  back together took the turn ahead of the next round's requests, and the group formed again.
- ``waiting`` lets the turn go around a wait that is not this loop's work (the model's reply,
  a lock another process holds, a row another task commits) and takes it again, behind the
  requests that asked meanwhile.
- ``pause`` gives the loop a turn and keeps the request's: replies and requests that are on their
  way in move on, other requests stay queued. The pipeline pauses between its steps, so that a
  model reply is read as soon as it comes rather than after the steps of every request ahead.
- ``give_way`` lets the requests queued meanwhile go first (between the documents of a batch),
  and ``sleep`` sleeps without the turn (a back-off, a poll).
- ``off_turn`` is ``sync_to_async`` for the calls of the worker's database thread, which wait
  there behind other requests' calls (and a write, for a lock another process holds). A Redis
  command keeps the turn: it answers in a fraction of a millisecond, and handing the turn on
  would queue the request again behind every other, for each command.

Work that is no request's (background tasks; the tasks a request gathers, ``together`` letting
its turn go meanwhile) runs whenever the loop reaches it, as before. Outside a request served in
turn (Django's stock path, tasks, tests) ``waiting`` and ``pause`` do nothing, ``give_way``
yields the loop once, and ``off_turn`` is ``sync_to_async``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from asgiref.sync import sync_to_async

T = TypeVar("T")


@dataclass
class _Turns:
    """Whether a request of one event loop holds the turn, and who asked for it next."""

    held: bool = False
    queue: collections.deque[asyncio.Future[None]] = field(default_factory=collections.deque)

    async def take(self) -> None:
        if not self.held and not self.queue:
            self.held = True
            return
        future = asyncio.get_running_loop().create_future()
        self.queue.append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.hand_on()  # handed over as it was cancelled: the next one gets it
            raise

    def hand_on(self) -> None:
        while self.queue:
            future = self.queue.popleft()
            if not future.done():
                future.set_result(None)  # still held, now by that request
                return
        self.held = False


@dataclass
class _Request:
    turns: _Turns
    task: asyncio.Task | None
    holds: bool = False

    async def take_turn(self) -> None:
        await self.turns.take()
        self.holds = True

    def let_turn_go(self) -> None:
        self.holds = False
        self.turns.hand_on()


_turns_of_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Turns] = (
    weakref.WeakKeyDictionary()
)
_request: ContextVar[_Request | None] = ContextVar("quickvault_request_turn", default=None)


def _turns() -> _Turns:
    loop = asyncio.get_running_loop()
    turns = _turns_of_loop.get(loop)
    if turns is None:
        turns = _turns_of_loop[loop] = _Turns()
    return turns


def _holding() -> _Request | None:
    """The request whose task this is, where it holds its turn."""
    request = _request.get()
    # Tasks a request starts inherit its context; only the request's own task holds its turn.
    if request is None or not request.holds or request.task is not asyncio.current_task():
        return None
    return request


async def in_turn(work: Callable[[], Awaitable[T]]) -> T:
    """Await `work()`, a request's work, holding a turn of the event loop."""
    request = _Request(turns=_turns(), task=asyncio.current_task())
    token = _request.set(request)
    try:
        await request.take_turn()
        return await work()
    finally:
        if request.holds:
            request.let_turn_go()
        _request.reset(token)


@contextlib.asynccontextmanager
async def waiting() -> AsyncIterator[None]:
    """Let the request's turn go for the body, a wait on something other than this loop's work,
    and take it again after."""
    request = _holding()
    if request is None:
        yield
        return
    request.let_turn_go()
    cancelled = False
    try:
        yield
    except asyncio.CancelledError:
        cancelled = True  # the request ends: no turn to wait for
        raise
    finally:
        if not cancelled:
            await request.take_turn()


async def pause() -> None:
    """Give the event loop a turn, keeping the request's: what is on its way in (a model's
    reply, a new request) moves on; other requests wait."""
    if _holding() is not None:
        await asyncio.sleep(0)


async def sleep(seconds: float) -> None:
    """``asyncio.sleep(seconds)``, letting the request's turn go meanwhile."""
    async with waiting():
        await asyncio.sleep(seconds)


async def give_way() -> None:
    """Let other requests run before going on: those that asked for the turn meanwhile have
    theirs first (outside a request served in turn, those the loop holds ready)."""
    await sleep(0)


def off_turn(function: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """``sync_to_async(function)``, awaited without the request's turn: the call queues on the
    worker's database thread behind every request's, and a write may wait there for a lock
    another process holds."""
    call = sync_to_async(function)

    async def waited(*args: Any, **kwargs: Any) -> T:
        async with waiting():
            return await call(*args, **kwargs)

    return waited
