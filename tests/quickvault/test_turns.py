"""API requests take turns on the event loop (quickvault.runtime.turns): one at a time, in the
order they asked, letting the turn go only around waits that are not the loop's work."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable

from quickvault.runtime.turns import give_way, in_turn, off_turn, pause, sleep, waiting

# Long enough for any of these steps on a loaded machine; reached only when one hangs.
HANG_SECONDS = 5


def request(
    log: list[str], name: str, body: Callable[[], Awaitable[None]] | None = None
) -> Awaitable[None]:
    """A request served in turn that logs its start and its end, doing `body` between them."""

    async def work() -> None:
        log.append(f"{name} starts")
        if body is not None:
            await body()
        log.append(f"{name} ends")

    return in_turn(work)


async def twice_paused() -> None:
    await pause()
    await pause()


async def gather(*requests: Awaitable[None]) -> None:
    await asyncio.wait_for(asyncio.gather(*requests), HANG_SECONDS)


async def test_requests_that_pause_still_run_one_after_another_in_the_order_they_asked():
    log: list[str] = []

    await gather(*(request(log, name, twice_paused) for name in "abc"))

    assert log == ["a starts", "a ends", "b starts", "b ends", "c starts", "c ends"]


def waits_for(answer: asyncio.Event) -> Callable[[], Awaitable[None]]:
    async def body() -> None:
        async with waiting():
            await answer.wait()

    return body


def gives(answer: asyncio.Event) -> Callable[[], Awaitable[None]]:
    async def body() -> None:
        answer.set()
        await twice_paused()

    return body


async def test_a_request_waiting_lets_the_next_one_run_meanwhile():
    log: list[str] = []
    answer = asyncio.Event()

    await gather(request(log, "a", waits_for(answer)), request(log, "b", gives(answer)))

    assert log == ["a starts", "b starts", "b ends", "a ends"]


async def test_a_request_back_from_waiting_goes_after_those_that_asked_before_it():
    log: list[str] = []
    answer = asyncio.Event()

    await gather(
        request(log, "a", waits_for(answer)),
        request(log, "b", gives(answer)),
        request(log, "c", twice_paused),
    )

    # a asked again once answered, after c had asked.
    assert log == ["a starts", "b starts", "b ends", "c starts", "c ends", "a ends"]


async def test_a_pause_lets_work_that_is_no_requests_run_but_no_other_request():
    log: list[str] = []

    async def starts_background_work() -> None:
        asyncio.get_running_loop().call_soon(log.append, "background")
        await pause()

    await gather(request(log, "a", starts_background_work), request(log, "b"))

    assert log == ["a starts", "background", "a ends", "b starts", "b ends"]


async def test_giving_way_lets_the_requests_that_asked_meanwhile_go_first():
    log: list[str] = []

    await gather(request(log, "a", give_way), request(log, "b"))

    assert log == ["a starts", "b starts", "b ends", "a ends"]


async def test_a_task_that_a_request_starts_does_not_let_the_requests_turn_go():
    log: list[str] = []

    async def child() -> None:
        async with waiting():
            log.append("child waits")
            await asyncio.sleep(0)

    async def starts_a_task() -> None:
        await asyncio.create_task(child())

    await gather(request(log, "a", starts_a_task), request(log, "b"))

    assert log == ["a starts", "child waits", "a ends", "b starts", "b ends"]


async def test_a_request_sleeping_lets_the_next_request_run():
    log: list[str] = []

    async def backs_off() -> None:
        await sleep(0.01)

    await gather(request(log, "a", backs_off), request(log, "b"))

    assert log == ["a starts", "b starts", "b ends", "a ends"]


async def test_a_request_cancelled_in_the_queue_passes_the_turn_on():
    log: list[str] = []
    release = asyncio.Event()

    async def holds_until_released() -> None:
        while not release.is_set():
            await pause()

    first = asyncio.ensure_future(request(log, "a", holds_until_released))
    queued = asyncio.ensure_future(request(log, "b"))
    last = asyncio.ensure_future(request(log, "c"))
    await asyncio.sleep(0.01)
    queued.cancel()
    release.set()
    await gather(first, last)

    assert queued.cancelled()
    assert log == ["a starts", "a ends", "c starts", "c ends"]


async def test_a_request_cancelled_while_waiting_leaves_the_turn_to_the_others():
    log: list[str] = []

    async def waits_for_ever() -> None:
        async with waiting():
            await asyncio.Event().wait()

    waiter = asyncio.ensure_future(request(log, "a", waits_for_ever))
    await asyncio.sleep(0.01)
    waiter.cancel()
    await gather(request(log, "b"), request(log, "c"))

    assert waiter.cancelled()
    assert log == ["a starts", "b starts", "b ends", "c starts", "c ends"]


async def test_a_call_off_the_turn_lets_the_next_request_run_while_its_thread_works():
    log: list[str] = []
    called = threading.Event()

    def waits_for_the_next_request() -> None:
        if not called.wait(HANG_SECONDS):
            raise TimeoutError("the next request never ran")

    async def calls_a_thread() -> None:
        await off_turn(waits_for_the_next_request)()

    async def lets_the_thread_finish() -> None:
        called.set()

    await gather(request(log, "a", calls_a_thread), request(log, "b", lets_the_thread_finish))

    assert log == ["a starts", "b starts", "b ends", "a ends"]


async def test_outside_a_request_served_in_turn_the_helpers_just_run():
    async with waiting():
        await pause()
        await give_way()

    assert await off_turn(lambda: "called")() == "called"
