"""The table of idempotency records, shared by every worker where there is no Redis.

Each function is one or two statements, atomic on SQLite and PostgreSQL alike, however many
workers race for the same key: a claim is one insert-or-fail (``ON CONFLICT``), and an expired
record is taken over in place. They are synchronous: async code runs them through
``sync_to_async``, on the worker's database thread.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import connection, models
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder

from ocr.batches import delete_expired_in_batches


class IdempotencyRecordQuerySet(models.QuerySet):
    def expired(self) -> IdempotencyRecordQuerySet:
        return self.filter(expires_at__lt=timezone.now())

    def delete_expired(self, *, batch_size: int = 5000, max_batches: int | None = None) -> int:
        """Delete expired records in batches; returns how many went."""
        return delete_expired_in_batches(
            self.expired(), batch_size=batch_size, max_batches=max_batches
        )


class IdempotencyRecord(models.Model):
    """A key's Idempotency-Key: the body it was sent with and, once served, the answer."""

    key_id = models.CharField(max_length=64)
    idempotency_key = models.CharField(max_length=128)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    answer = models.TextField(blank=True, default="", help_text="The answer's JSON.")
    expires_at = models.DateTimeField(db_index=True)

    objects = IdempotencyRecordQuerySet.as_manager()

    class Meta:
        app_label = "ocr"
        constraints = [
            models.UniqueConstraint(
                fields=["key_id", "idempotency_key"], name="idempotencyrecord_key_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key_id}:{self.idempotency_key}"


@dataclass(frozen=True)
class Found:
    """A live record: the body's fingerprint and, once served, the answer."""

    fingerprint: str
    status: int | None
    data: Any


def _table() -> str:
    return connection.ops.quote_name(IdempotencyRecord._meta.db_table)


def _moment(seconds: float = 0) -> Any:
    return connection.ops.adapt_datetimefield_value(timezone.now() + timedelta(seconds=seconds))


def claim_or_find(
    *, key_id: str, idempotency_key: str, fingerprint: str, seconds: float
) -> tuple[bool, Found | None]:
    """Claim the key for `seconds` for a request with `fingerprint`: (True, None) where this
    call claimed it, else (False, the live record that holds it), or (False, None) where that
    record went between the two statements (its request failed: claim again)."""
    table = _table()
    sql = (
        f"INSERT INTO {table} (key_id, idempotency_key, fingerprint, status, answer, expires_at) "
        "VALUES (%s, %s, %s, NULL, '', %s) ON CONFLICT (key_id, idempotency_key) DO UPDATE SET "
        "fingerprint = excluded.fingerprint, status = NULL, answer = '', "
        f"expires_at = excluded.expires_at WHERE {table}.expires_at < %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [key_id, idempotency_key, fingerprint, _moment(seconds), _moment()])
        if cursor.rowcount == 1:
            return True, None
        cursor.execute(
            f"SELECT fingerprint, status, answer FROM {table} "
            "WHERE key_id = %s AND idempotency_key = %s AND expires_at >= %s",
            [key_id, idempotency_key, _moment()],
        )
        row = cursor.fetchone()
    if row is None:
        return False, None
    found_fingerprint, status, answer = row
    data = json.loads(answer) if status is not None else None
    return False, Found(fingerprint=found_fingerprint, status=status, data=data)


def keep(
    *,
    key_id: str,
    idempotency_key: str,
    fingerprint: str,
    status: int,
    data: Any,
    seconds: float,
) -> None:
    """Record the answer of the claim of `fingerprint`, kept for `seconds`."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_table()} SET status = %s, answer = %s, expires_at = %s "
            "WHERE key_id = %s AND idempotency_key = %s AND fingerprint = %s AND status IS NULL",
            [
                status,
                json.dumps(data, cls=JSONEncoder, ensure_ascii=False),
                _moment(seconds),
                key_id,
                idempotency_key,
                fingerprint,
            ],
        )


def release(*, key_id: str, idempotency_key: str, fingerprint: str) -> None:
    """Give up the unanswered claim of `fingerprint`, so a retry is served afresh."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {_table()} "
            "WHERE key_id = %s AND idempotency_key = %s AND fingerprint = %s AND status IS NULL",
            [key_id, idempotency_key, fingerprint],
        )
