"""Short SQLite writes on the event loop: committed at once, or nothing written and the caller
told to take the database thread. On SQLite files only: the test database lives in memory, so
these tests add a database file of their own beside it."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connections

from quickvault.runtime.loop_writes import (
    CHECKPOINT_EVERY_COMMITS,
    SQLITE_ENGINE,
    write_soon,
)
from tests.metrics import loop_write_count
from tests.sqlite_files import write_lock_held

CHECKPOINT_WAIT_SECONDS = 30
# Rows of eight pages each (SQLite would checkpoint at a thousand pages on its own), so the
# database file shows what was checkpointed into it.
ROW_BYTES = 8 * 4096


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A SQLite file in WAL mode, as the embedded default keeps it, with a table `item`, known
    to Django as a database of its own; yields its alias and path."""
    path = tmp_path / "loop.sqlite3"
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT UNIQUE, body BLOB)")
    alias = f"loop-{tmp_path.name}"
    connections.settings[alias] = {"ENGINE": SQLITE_ENGINE, "NAME": str(path)}
    yield alias, path
    del connections.settings[alias]


def insert(*names: str) -> Callable[[sqlite3.Cursor], int]:
    def work(cursor: sqlite3.Cursor) -> int:
        for name in names:
            cursor.execute("INSERT INTO item (name) VALUES (%s)", [name])
        return len(names)

    return work


def stored_names(path: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return [name for (name,) in db.execute("SELECT name FROM item ORDER BY id")]


async def test_a_write_is_committed_and_returns_what_its_work_returned(sqlite_file):
    alias, path = sqlite_file

    assert await write_soon(alias, insert("a", "b"), tries=1) == 2

    assert stored_names(path) == ["a", "b"]


async def test_nothing_is_written_while_another_connection_holds_the_write_lock(sqlite_file):
    alias, path = sqlite_file
    with write_lock_held(path):
        assert await write_soon(alias, insert("a"), tries=1) is None

    assert stored_names(path) == []


async def test_a_write_goes_through_once_the_lock_is_released(sqlite_file):
    alias, path = sqlite_file
    with write_lock_held(path) as other:
        await write_soon(alias, insert("refused"), tries=1)
        other.execute("COMMIT")

    assert await write_soon(alias, insert("a"), tries=1) == 1
    assert stored_names(path) == ["a"]


async def test_a_write_refused_for_the_lock_is_tried_again_after_a_wait(sqlite_file):
    alias, path = sqlite_file
    with write_lock_held(path) as other:
        refusals = loop_write_count("busy")
        write = asyncio.ensure_future(write_soon(alias, insert("a"), tries=2))
        # The other writer commits two turns of the loop after the first try: a quiet loop
        # turns in microseconds, sooner than another process commits, so a second try one
        # turn after the first would find the lock still held.
        loop = asyncio.get_running_loop()
        loop.call_soon(loop.call_soon, other.execute, "COMMIT")

        assert await write == 1

    assert loop_write_count("busy") == refusals + 1
    assert stored_names(path) == ["a"]


async def test_a_write_refused_for_the_lock_on_every_try_is_left_to_the_caller(sqlite_file):
    alias, path = sqlite_file
    with write_lock_held(path):
        refusals = loop_write_count("busy")

        assert await write_soon(alias, insert("a"), tries=3) is None

    assert loop_write_count("busy") == refusals + 3
    assert stored_names(path) == []


async def test_a_write_that_fails_is_not_tried_again(sqlite_file):
    alias, path = sqlite_file

    assert await write_soon(alias, insert("a", "a"), tries=3) is None

    assert stored_names(path) == []


async def test_the_statements_keep_djangos_placeholders_and_percent_signs(sqlite_file):
    alias, _ = sqlite_file

    def select(cursor: sqlite3.Cursor) -> str:
        return cursor.execute("SELECT '100%%' || %s", ["!"]).fetchone()[0]

    # The second run converts the statement from what the first kept.
    assert [await write_soon(alias, select, tries=1) for _ in range(2)] == ["100%!", "100%!"]


async def test_the_loops_connection_is_set_as_the_database_is_but_never_waits(sqlite_file):
    alias, _ = sqlite_file
    connections.settings[alias]["OPTIONS"] = {
        "init_command": "PRAGMA busy_timeout=20000;PRAGMA mmap_size=1048576;"
    }

    def pragmas(cursor: sqlite3.Cursor) -> dict[str, int]:
        names = ("mmap_size", "busy_timeout", "wal_autocheckpoint", "foreign_keys")
        return {name: cursor.execute(f"PRAGMA {name}").fetchone()[0] for name in names}

    assert await write_soon(alias, pragmas, tries=1) == {
        "mmap_size": 1048576,
        "busy_timeout": 0,
        "wal_autocheckpoint": 0,
        "foreign_keys": 1,
    }


async def test_a_failing_statement_takes_the_whole_transaction_back(sqlite_file):
    alias, path = sqlite_file

    assert await write_soon(alias, insert("a", "b", "a"), tries=1) is None

    assert stored_names(path) == []
    assert await write_soon(alias, insert("c"), tries=1) == 1


async def test_an_error_of_the_work_itself_is_raised_and_nothing_is_written(sqlite_file):
    alias, path = sqlite_file

    def fails(cursor: sqlite3.Cursor) -> int:
        cursor.execute("INSERT INTO item (name) VALUES (%s)", ["a"])
        raise ValueError("not a database error")

    with pytest.raises(ValueError):
        await write_soon(alias, fails, tries=1)

    assert stored_names(path) == []


async def test_a_database_in_memory_is_left_to_django(db):
    # The test database: its rows belong to the test's transaction, on Django's connection.
    called = []

    assert await write_soon("default", called.append, tries=1) is None
    assert called == []


async def test_nothing_runs_on_the_loop_with_the_fast_path_off(sqlite_file, settings):
    alias, path = sqlite_file
    settings.QV_FAST_API_PATH = False

    assert await write_soon(alias, insert("a"), tries=1) is None

    assert stored_names(path) == []


async def test_the_write_ahead_log_is_checkpointed_by_a_thread_of_its_own(sqlite_file):
    alias, path = sqlite_file
    size_before = path.stat().st_size

    def insert_large(cursor: sqlite3.Cursor) -> bool:
        cursor.execute("INSERT INTO item (body) VALUES (%s)", [bytes(ROW_BYTES)])
        return True

    for _ in range(CHECKPOINT_EVERY_COMMITS - 1):
        await write_soon(alias, insert_large, tries=1)
    # The loop's connection never checkpoints: every row is still in the log alone.
    assert path.stat().st_size == size_before

    await write_soon(alias, insert_large, tries=1)

    deadline = time.monotonic() + CHECKPOINT_WAIT_SECONDS
    while path.stat().st_size < CHECKPOINT_EVERY_COMMITS * ROW_BYTES:
        assert time.monotonic() < deadline, "no checkpoint copied the log into the file"
        time.sleep(0.05)
