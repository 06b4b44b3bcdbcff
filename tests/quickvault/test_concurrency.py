import asyncio

import pytest

from quickvault.concurrency import together


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
