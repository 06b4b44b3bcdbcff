"""Backing up and restoring the database.

On PostgreSQL (DATABASE_URL set) a backup is a `pg_dump` in custom format and a restore is
`pg_restore --clean --if-exists`; on the embedded default (SQLite) both use SQLite's online backup
API, which copies a consistent snapshot while the service keeps writing. Each backup is one file
named for the UTC moment it was taken, in a directory that keeps the newest few.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connections

DEFAULT_DIRECTORY = "backups"
DEFAULT_KEEP = 7
FILE_PREFIX = "quickvault-"
# Sorts as it reads; the microseconds keep two backups in one second apart.
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%S_%fZ"
POSTGRES_SUFFIX = ".dump"
SQLITE_SUFFIX = ".sqlite3"
PARTIAL_SUFFIX = ".partial"
# A dump or a restore of this service's database takes seconds; past this something is stuck.
COMMAND_TIMEOUT_SECONDS = 3600
SQLITE_MAGIC = b"SQLite format 3\x00"
POSTGRES_CUSTOM_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that could not be done; the message is one line for the operator."""


def backup_directory() -> Path:
    """BACKUP_DIR, or `backups` beside manage.py."""
    configured = os.environ.get("BACKUP_DIR", "").strip()
    return Path(configured) if configured else Path(settings.BASE_DIR) / DEFAULT_DIRECTORY


def backups_to_keep() -> int:
    """BACKUP_KEEP: how many of the newest backups a new one leaves in the directory (>= 1)."""
    configured = os.environ.get("BACKUP_KEEP", "").strip()
    try:
        keep = int(configured) if configured else DEFAULT_KEEP
    except ValueError:
        raise BackupError(f"BACKUP_KEEP must be a whole number, not {configured!r}.") from None
    if keep < 1:
        raise BackupError("BACKUP_KEEP must be 1 or more.")
    return keep


def back_up(*, directory: Path, keep: int, alias: str = "default") -> Path:
    """Write a backup of database `alias` into `directory`, delete all but the newest `keep`
    backups there, and return the new file's path."""
    if keep < 1:
        raise BackupError("Keep at least one backup.")
    connection = connections[alias]
    suffix = _suffix_for(connection.vendor)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime(TIMESTAMP_FORMAT)
    target = directory / f"{FILE_PREFIX}{stamp}{suffix}"
    # Written under another name first, so a failed backup never counts as one.
    partial = directory / f"{target.name}{PARTIAL_SUFFIX}"
    try:
        if connection.vendor == "postgresql":
            _pg_dump(connection.settings_dict, partial)
        else:
            _sqlite_backup(connection, partial)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    prune(directory=directory, keep=keep, suffix=suffix)
    return target


def restore(*, path: Path, alias: str = "default") -> None:
    """Replace the contents of database `alias` with the backup at `path`."""
    connection = connections[alias]
    if not path.is_file():
        raise BackupError(f"No backup file at {path}.")
    if path.suffix != _suffix_for(connection.vendor):
        raise BackupError(
            f"{path.name} is not a {connection.vendor} backup "
            f"(expected a {_suffix_for(connection.vendor)} file)."
        )
    if connection.vendor == "postgresql":
        _check_magic(path, POSTGRES_CUSTOM_MAGIC, "a pg_dump custom-format file")
        # The restore drops and recreates tables: no connection of ours may hold them.
        connections.close_all()
        _pg_restore(connection.settings_dict, path)
    else:
        _check_magic(path, SQLITE_MAGIC, "an SQLite database")
        _sqlite_restore(connection, path)
    connections.close_all()


def prune(*, directory: Path, keep: int, suffix: str) -> list[Path]:
    """Delete all but the newest `keep` backups with `suffix` in `directory`; return the deleted.

    Only files this module names are considered, so other files in the directory are safe.
    """
    backups = sorted(directory.glob(f"{FILE_PREFIX}*{suffix}"))
    doomed = backups[:-keep] if keep else backups
    for path in doomed:
        path.unlink()
    return doomed


def _suffix_for(vendor: str) -> str:
    if vendor == "postgresql":
        return POSTGRES_SUFFIX
    if vendor == "sqlite":
        return SQLITE_SUFFIX
    raise BackupError(f"Backups of a {vendor} database are not supported.")


def _check_magic(path: Path, magic: bytes, what: str) -> None:
    with path.open("rb") as file:
        if file.read(len(magic)) != magic:
            raise BackupError(f"{path.name} is not {what}.")


def _postgres_environment(settings_dict: dict) -> dict[str, str]:
    """The libpq variables for the database; the password goes here, never on a command line."""
    environment = dict(os.environ)
    values = {
        "PGHOST": settings_dict.get("HOST"),
        "PGPORT": settings_dict.get("PORT"),
        "PGUSER": settings_dict.get("USER"),
        "PGPASSWORD": settings_dict.get("PASSWORD"),
        "PGDATABASE": settings_dict.get("NAME"),
        "PGSSLMODE": settings_dict.get("OPTIONS", {}).get("sslmode"),
    }
    environment.update({name: str(value) for name, value in values.items() if value})
    return environment


def _run_postgres_tool(arguments: list[str], settings_dict: dict) -> None:
    tool = arguments[0]
    executable = shutil.which(tool)
    if executable is None:
        raise BackupError(f"{tool} is not installed (Debian: apt-get install postgresql-client).")
    try:
        completed = subprocess.run(
            [executable, *arguments[1:]],
            env=_postgres_environment(settings_dict),
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BackupError(f"{tool} did not finish in {COMMAND_TIMEOUT_SECONDS} s.") from None
    if completed.returncode != 0:
        lines = [line for line in completed.stderr.strip().splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit status {completed.returncode}"
        raise BackupError(f"{tool} failed: {reason}")


def _pg_dump(settings_dict: dict, target: Path) -> None:
    _run_postgres_tool(
        ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}"],
        settings_dict,
    )


def _pg_restore(settings_dict: dict, source: Path) -> None:
    # One transaction: a restore that fails halfway leaves the database as it was.
    _run_postgres_tool(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            f"--dbname={settings_dict['NAME']}",
            str(source),
        ],
        settings_dict,
    )


def _sqlite_backup(connection, target: Path) -> None:
    connection.ensure_connection()
    destination = sqlite3.connect(target)
    try:
        connection.connection.backup(destination)
        # The copy carries the live database's WAL mode; a backup is one self-contained file.
        destination.execute("PRAGMA journal_mode=DELETE")
    finally:
        destination.close()


def _sqlite_restore(connection, source_path: Path) -> None:
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    try:
        try:
            healthy = source.execute("PRAGMA quick_check").fetchone()[0] == "ok"
            has_schema = source.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'django_migrations'"
            ).fetchone()
        except sqlite3.DatabaseError as error:
            raise BackupError(
                f"{source_path.name} is not a readable SQLite database: {error}"
            ) from None
        if not healthy:
            raise BackupError(f"{source_path.name} fails SQLite's integrity check.")
        if not has_schema:
            raise BackupError(f"{source_path.name} holds no migrated database.")
        if connection.in_atomic_block:
            raise BackupError("Cannot restore inside a transaction.")
        connection.ensure_connection()
        # The online backup API writes the whole database under SQLite's own locks, so other
        # connections see the old contents or the new, never a half-copied file.
        source.backup(connection.connection)
    finally:
        source.close()
