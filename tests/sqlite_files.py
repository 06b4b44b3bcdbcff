"""SQLite files as the tests hold them from outside the service."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def write_lock_held(path: Path | str) -> Iterator[sqlite3.Connection]:
    """A connection of its own to `path` holding SQLite's write lock (BEGIN IMMEDIATE), as
    another worker's transaction does; executing COMMIT or ROLLBACK on it releases the lock,
    and leaving the block rolls back whatever is still open."""
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        try:
            yield other
        finally:
            if other.in_transaction:
                other.execute("ROLLBACK")
