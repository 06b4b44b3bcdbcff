"""Short SQLite writes of API requests, run on the event loop instead of the database thread.

On the embedded default an analysis writes twice: its nonce, before the model is called, and its
log row with the rollups, after. Through ``sync_to_async`` each write queued for the worker's one
database thread, and that thread then waited for the interpreter lock, which the event loop holds
while it serves other requests: a write of a tenth of a millisecond cost the request several
turns of the loop and, under load, tens of milliseconds (README.md, workaround 6).

``write_soon`` runs such a write on the calling thread (the event loop's), on a connection of
that thread's own, in one transaction that takes SQLite's write lock at once or not at all. Where
another process holds the lock it tries again after a short wait, a few times: by then the other
process has most often committed. Where the lock stays held, or a statement fails, nothing
is written and it returns None: the caller then writes through Django on the database thread, as
it would without this module, where the busy timeout waits and the errors are handled and
logged. So the event loop never waits for a lock, and every outcome but the quick one takes the
path that was there before.

The loop's connection never checkpoints the write-ahead log itself: a checkpoint copies the log
into the database file and syncs it, milliseconds that every request in flight would wait for.
A thread of the process does it instead, after every CHECKPOINT_EVERY_COMMITS commits here.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar, TypeVar

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.sqlite3.base import SQLiteCursorWrapper
from prometheus_client import Counter

from quickvault.runtime import fast_api_path, turns

logger = logging.getLogger(__name__)

T = TypeVar("T")

SQLITE_ENGINE = "django.db.backends.sqlite3"
# About a thousand pages, SQLite's own default for its automatic checkpoints, at the few pages an
# analysis writes.
CHECKPOINT_EVERY_COMMITS = 200
# Statements differ by their columns, not their values: a handful at most.
CONVERTED_STATEMENTS_KEPT = 64
# How long a write on the event loop (``write_soon``) that found SQLite's write lock held waits
# before each of its next tries: the other worker holds the lock for a fraction of a
# millisecond, or a few when its process waits for a core, while a turn of a quiet event loop
# takes microseconds. All of them (7.5 ms) are less than the database thread's hop under load.
LOCK_RETRY_WAITS_SECONDS = (0.0005, 0.001, 0.002, 0.004)
# Tries of a write on the event loop before it goes to the database thread.
LOCK_TRIES = len(LOCK_RETRY_WAITS_SECONDS) + 1

WRITES = Counter(
    "quickvault_sqlite_loop_writes",
    "Writes tried on the event loop, by outcome: committed; busy (another process held "
    "SQLite's write lock); failed. Busy and failed ones were written on the database thread.",
    ["outcome"],
)


@functools.cache
def compiling_connection(alias: str) -> BaseDatabaseWrapper:
    """A connection object of database `alias` that only compiles statements and quotes names,
    never connects: one per process, on either path. ``connections[alias]`` on the event loop
    is one per request (its storage follows the request's context), each a new object in
    reference cycles for the garbage collector's full passes."""
    return connections.create_connection(alias)


def sqlite_file(alias: str) -> str | None:
    """The file of database `alias` where its writes may run on the event loop: the fast path
    is on and the database is SQLite in a file. None otherwise (PostgreSQL, or SQLite in memory,
    as tests have it, where the rows belong to the test's transaction on another connection)."""
    if not fast_api_path():
        return None
    database = connections.settings[alias]
    if database["ENGINE"] != SQLITE_ENGINE:
        return None
    name = database["NAME"]
    if isinstance(name, Path):
        return str(name)
    if not name or name == ":memory:" or "mode=memory" in name:
        return None
    return name


class _CursorWrapper(SQLiteCursorWrapper):
    """Django's cursor of SQLite (``%s`` placeholders), keeping the few statements it converts:
    the loop writes the same three statements again and again, and Django converts each with a
    regular expression on every run."""

    converted: ClassVar[dict[str, str]] = {}

    def convert_query(self, query: str, *, param_names: list[str] | None = None) -> str:
        if param_names is not None:
            return super().convert_query(query, param_names=param_names)
        converted = self.converted.get(query)
        if converted is None:
            converted = super().convert_query(query)
            if len(self.converted) < CONVERTED_STATEMENTS_KEPT:
                self.converted[query] = converted
        return converted


class _ThreadConnections(threading.local):
    def __init__(self) -> None:
        self.by_file: dict[str, sqlite3.Connection] = {}


_connections = _ThreadConnections()


def _connection(alias: str, path: str) -> sqlite3.Connection:
    """This thread's connection to `path`, set as Django sets its connections to database
    `alias` (foreign keys enforced, the database's ``init_command``), but autocommit
    (transactions are begun explicitly), with no busy wait and no automatic checkpoints."""
    connection = _connections.by_file.get(path)
    if connection is None:
        connection = sqlite3.connect(
            path,
            timeout=0,
            isolation_level=None,
            check_same_thread=False,
            uri=path.startswith("file:"),
        )
        connection.execute("PRAGMA foreign_keys = ON")
        init_command = connections.settings[alias].get("OPTIONS", {}).get("init_command", "")
        for command in init_command.split(";"):
            if command := command.strip():
                connection.execute(command)
        connection.execute("PRAGMA busy_timeout = 0")
        connection.execute("PRAGMA wal_autocheckpoint = 0")
        _connections.by_file[path] = connection
    return connection


def _forget(path: str) -> None:
    connection = _connections.by_file.pop(path, None)
    if connection is not None:
        connection.close()


async def write_soon(
    alias: str, work: Callable[[sqlite3.Cursor], T], *, tries: int = LOCK_TRIES
) -> T | None:
    """Run `work` on a cursor of this thread's own connection to database `alias`, in one
    transaction, and return what it returns once committed. `work` executes statements as
    Django writes them (``%s`` placeholders) and must not return None.

    Where another process holds SQLite's write lock, the write is tried again after waiting
    LOCK_RETRY_WAITS_SECONDS (the loop serves other requests meanwhile), `tries` times in all.
    Each try takes the lock at once or not at all, so the loop never waits for it.

    Returns None, with nothing written, where the database is not SQLite in a file (or the fast
    path is off), where the lock was held at every try, or where a statement or the commit
    fails: the caller then writes through Django on the database thread. That thread costs the
    request tens of milliseconds under load (the interpreter lock), so every refusal there is a
    request in the tail of the latencies."""
    path = sqlite_file(alias)
    if path is None:
        return None
    for attempt in range(tries):
        if attempt:
            waits = LOCK_RETRY_WAITS_SECONDS
            await turns.sleep(waits[min(attempt, len(waits)) - 1])
        try:
            return _write(alias, path, work)
        except _LockBusy:
            continue
    return None


class _LockBusy(Exception):
    """Another connection holds SQLite's write lock."""


def _write(alias: str, path: str, work: Callable[[sqlite3.Cursor], T]) -> T | None:
    try:
        connection = _connection(alias, path)
        cursor = connection.cursor(factory=_CursorWrapper)
        cursor.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as error:
        # Locked by another writer, most often; a connection that fails otherwise is opened
        # afresh next time.
        if getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY:
            WRITES.labels("busy").inc()
            raise _LockBusy from error
        WRITES.labels("failed").inc()
        _forget(path)
        return None
    try:
        outcome = work(cursor)
        cursor.execute("COMMIT")
    except sqlite3.Error as error:
        _roll_back(path, connection)
        WRITES.labels("failed").inc()
        logger.debug("Write on the event loop not taken (%s); on the database thread", error)
        return None
    except BaseException:
        _roll_back(path, connection)
        raise
    WRITES.labels("committed").inc()
    _checkpointer.count_commit(path)
    return outcome


def _roll_back(path: str, connection: sqlite3.Connection) -> None:
    try:
        connection.rollback()
    except sqlite3.Error:
        _forget(path)
        return
    if connection.in_transaction:
        _forget(path)


class _Checkpointer:
    """Checkpoints the write-ahead logs of the files written on event loops, on a thread of its
    own (one per process, started with the first commit), so no event loop does it."""

    def __init__(self) -> None:
        self.commits: dict[str, int] = {}
        self.due: set[str] = set()
        self.condition = threading.Condition()
        self.thread: threading.Thread | None = None

    def count_commit(self, path: str) -> None:
        with self.condition:
            self.commits[path] = self.commits.get(path, 0) + 1
            if self.commits[path] < CHECKPOINT_EVERY_COMMITS:
                return
            self.commits[path] = 0
            self.due.add(path)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(
                    target=self.run, name="sqlite-checkpoint", daemon=True
                )
                self.thread.start()
            self.condition.notify()

    def run(self) -> None:
        while True:
            with self.condition:
                while not self.due:
                    self.condition.wait()
                path = self.due.pop()
            checkpoint(path)


_checkpointer = _Checkpointer()


def checkpoint(path: str) -> None:
    """Copy what the write-ahead log of `path` holds into the database file, as far as readers
    allow (PASSIVE: it waits for nobody)."""
    try:
        with contextlib.closing(
            sqlite3.connect(path, timeout=0, isolation_level=None, uri=path.startswith("file:"))
        ) as connection:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except sqlite3.Error:
        logger.warning("Checkpoint of %s failed; the next one tries again", path, exc_info=True)
