"""A cache of integer counters in a database table, shared by every worker process.

The rate limiter (django-ratelimit) counts a key's analyses a minute with ``add`` and ``incr``.
Without Redis each worker's in-process cache kept counts of its own; Django's DatabaseCache is
shared but its ``incr`` reads then writes (two workers lose a count) and every write runs a
row count for culling. Here ``add`` and ``incr`` are one statement each and atomic on SQLite and
PostgreSQL alike; so is ``add_to`` (made or added to at once), with which the daily quotas count
(``ocr.quotas``). The table (LOCATION) is made by a migration of the ``ocr`` app
(``ocr.models.RateCounter``); expired rows are replaced in place and purged with
``delete_expired``.
"""

from __future__ import annotations

import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.db import connection

# What "no expiry" means here: counters are short-lived in practice.
NEVER_SECONDS = 10 * 365 * 24 * 3600


class DatabaseCounterCache(BaseCache):
    """Integer values only: a counter store with the cache interface the rate limiter uses."""

    def __init__(self, table: str, params: dict) -> None:
        super().__init__(params)
        self._table = table

    def _expires(self, timeout) -> float:
        """Unix time of expiry (BaseCache turns a timeout into one); "never" is far ahead."""
        expires = self.get_backend_timeout(timeout)
        return expires if expires is not None else time.time() + NEVER_SECONDS

    def _sql(self, template: str) -> str:
        return template.format(table=connection.ops.quote_name(self._table))

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        """Set `key` to `value` unless it holds a live value; whether it was set."""
        key = self.make_and_validate_key(key, version=version)
        sql = self._sql(
            "INSERT INTO {table} (cache_key, value, expires) VALUES (%s, %s, %s) "
            "ON CONFLICT (cache_key) DO UPDATE SET value = excluded.value, "
            "expires = excluded.expires WHERE {table}.expires < %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [key, int(value), self._expires(timeout), time.time()])
            return cursor.rowcount == 1

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> None:
        key = self.make_and_validate_key(key, version=version)
        sql = self._sql(
            "INSERT INTO {table} (cache_key, value, expires) VALUES (%s, %s, %s) "
            "ON CONFLICT (cache_key) DO UPDATE SET value = excluded.value, "
            "expires = excluded.expires"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [key, int(value), self._expires(timeout)])

    def get(self, key, default=None, version=None):
        key = self.make_and_validate_key(key, version=version)
        sql = self._sql("SELECT value FROM {table} WHERE cache_key = %s AND expires >= %s")
        with connection.cursor() as cursor:
            cursor.execute(sql, [key, time.time()])
            row = cursor.fetchone()
        return default if row is None else row[0]

    def incr(self, key, delta=1, version=None) -> int:
        """Add `delta` to a live counter in one statement; ValueError where there is none."""
        key = self.make_and_validate_key(key, version=version)
        sql = self._sql(
            "UPDATE {table} SET value = value + %s WHERE cache_key = %s AND expires >= %s "
            "RETURNING value"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [int(delta), key, time.time()])
            row = cursor.fetchone()
        if row is None:
            raise ValueError(f"Key {key!r} not found.")
        return row[0]

    def add_to(self, key, delta, timeout=DEFAULT_TIMEOUT, version=None) -> int:
        """Add `delta` to the counter `key`, made (expiring after `timeout`) where missing or
        expired; the new count. One statement, so racing workers lose no count."""
        key = self.make_and_validate_key(key, version=version)
        sql = self._sql(
            "INSERT INTO {table} (cache_key, value, expires) VALUES (%s, %s, %s) "
            "ON CONFLICT (cache_key) DO UPDATE SET "
            "value = CASE WHEN {table}.expires < %s THEN excluded.value "
            "ELSE {table}.value + excluded.value END, "
            "expires = CASE WHEN {table}.expires < %s THEN excluded.expires "
            "ELSE {table}.expires END "
            "RETURNING value"
        )
        now = time.time()
        with connection.cursor() as cursor:
            cursor.execute(sql, [key, int(delta), self._expires(timeout), now, now])
            return cursor.fetchone()[0]

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        sql = self._sql("UPDATE {table} SET expires = %s WHERE cache_key = %s AND expires >= %s")
        with connection.cursor() as cursor:
            cursor.execute(sql, [self._expires(timeout), key, time.time()])
            return cursor.rowcount == 1

    def delete(self, key, version=None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        with connection.cursor() as cursor:
            cursor.execute(self._sql("DELETE FROM {table} WHERE cache_key = %s"), [key])
            return cursor.rowcount == 1

    def has_key(self, key, version=None) -> bool:
        return self.get(key, version=version) is not None

    def clear(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(self._sql("DELETE FROM {table}"))

    def delete_expired(self) -> int:
        """Delete the counters whose time is up; returns how many."""
        with connection.cursor() as cursor:
            cursor.execute(self._sql("DELETE FROM {table} WHERE expires < %s"), [time.time()])
            return cursor.rowcount
