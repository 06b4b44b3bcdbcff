import asyncio

import pytest

from quickvault.concurrency import together
from quickvault.runtime.turns import in_turn, pause


async def task_of_call() -> asyncio.Task | None:
    await asyncio.sleep(0)
    return asyncio.current_task()


async def test_a_lone_call_runs_in_the_callers_task():
    (task,) = await together([task_of_call()])

    assert task is asyncio.current_task()


async def test_several_calls_run_in_tasks_of_their_own_at_once():
    started = asyncio.Event()

    async def waits_for_the_other() -> str:
        await started.wait()
        return "second"

    async def lets_the_other_go() -> str:
        started.set()
        return "first"

    results = await asyncio.wait_for(together([waits_for_the_other(), lets_the_other_go()]), 5)

    assert results == ["second", "first"]


async def test_a_lone_calls_error_reaches_the_caller():
    async def fails() -> None:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        await together([fails()])


async def test_no_calls_give_no_results():
    assert await together([]) == []


async def test_gathering_no_calls_keeps_the_requests_turn_of_the_loop():
    log: list[str] = []

    async def gathers_nothing() -> None:
        log.append("a starts")
        await pause()  # the other request asks for the turn meanwhile
        await together([])
        log.append("a ends")

    async def another_request() -> None:
        log.append("b")

    await asyncio.wait_for(asyncio.gather(in_turn(gathers_nothing), in_turn(another_request)), 5)

    assert log == ["a starts", "a ends", "b"]


async def test_gathering_several_calls_lets_the_requests_turn_go_while_they_run():
    log: list[str] = []
    answered = asyncio.Event()

    async def gathers_two_waits() -> None:
        log.append("a starts")
        await together([answered.wait(), answered.wait()])
        log.append("a ends")

    async def answers() -> None:
        log.append("b")
        answered.set()

    await asyncio.wait_for(asyncio.gather(in_turn(gathers_two_waits), in_turn(answers)), 5)

    assert log == ["a starts", "b", "a ends"]
