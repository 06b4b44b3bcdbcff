"""The request log: one OcrRequest row per analysis, sensitive values masked.

Rows are written before the answer goes out, so a feedback call that follows an analysis, on any
worker, finds its row. On SQLite a row is written at once on the event loop, with its rollups, in
one transaction, where the write lock is free (``quickvault.runtime.loop_writes``). Otherwise,
and always on PostgreSQL, the writes are group-committed: each request queues its row and waits
until it is committed; a task of its event loop inserts every queued row in one INSERT statement
(one thread hop, one pooled connection, one brief hold of SQLite's write lock) for many requests,
instead of one each queueing on the database, and then the rows queued meanwhile. With one
request at a time it is the single insert it would be anyway. The statement is made before
the database is touched, so the lock that SQLite's writers (every worker process) share is held
only while it runs.

``record_success`` and ``record_failure`` are where live traffic is counted, all at once: the log
row, the rollups the dashboards read (``ocr.rollups``, one upsert per batch) and the Prometheus
metrics (``ocr.metrics``). Whatever is not live traffic (an evaluation run) calls neither, and so
shows in none of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import AutoField, Field

from ocr import metrics, rollups
from ocr.masking import mask_sensitive
from ocr.models import ApiKey, OcrRequest, RequestStatus
from ocr.parsers import storable
from quickvault.runtime.loop_writes import (
    LOCK_TRIES,
    compiling_connection,
    sqlite_file,
    write_soon,
)
from quickvault.runtime.turns import waiting

if TYPE_CHECKING:
    from ocr.analysis import Analysis

logger = logging.getLogger(__name__)


def masked_fields(analysis: Analysis) -> dict[str, str | None]:
    """The analysis's field values with every sensitive one masked, as the log keeps them."""
    sensitive = {spec.key for spec in analysis.specs if spec.sensitive}
    return {
        key: mask_sensitive(value) if key in sensitive else value
        for key, value in analysis.fields.items()
    }


def success_row(
    *, api_key: ApiKey | None, analysis: Analysis, lines: tuple[str, ...]
) -> OcrRequest:
    """The unsaved log row of a served analysis."""
    return OcrRequest(
        request_id=analysis.request_id,
        api_key=api_key,
        document_type=analysis.document_type,
        template_id=analysis.template["id"] if analysis.template else None,
        template_version=analysis.template["version"] if analysis.template else "",
        experiment_id=analysis.experiment["id"] if analysis.experiment else None,
        experiment_variant=analysis.experiment["variant"] if analysis.experiment else "",
        provider=analysis.provider,
        model=analysis.model or "",
        status=RequestStatus.SUCCESS,
        confidence=analysis.confidence,
        field_confidence=analysis.field_confidence,
        # Free of NUL and lone surrogates, which PostgreSQL refuses: a model may answer them.
        fields=storable(masked_fields(analysis)),
        validation=storable(analysis.validation),
        warnings=storable(analysis.warnings),
        processing_time_ms=analysis.processing_time_ms,
        cached=analysis.cached,
        prompt_tokens=analysis.usage.prompt_tokens,
        completion_tokens=analysis.usage.completion_tokens,
        cost=analysis.cost,
        prompt_tokens_unmerged=analysis.usage.prompt_tokens_unmerged,
        batch_id=analysis.batch_id,
        raw_text=storable("\n".join(lines)) if settings.QV_STORE_RAW_TEXT else "",
    )


def failure_row(
    *,
    api_key: ApiKey | None,
    document_type: str | None,
    error_code: str,
    experiment: dict[str, Any] | None = None,
) -> OcrRequest:
    """The unsaved log row of an analysis that failed with `error_code`; `experiment` is the
    answer's ``experiment`` where one chose the template, so that a variant's failures count
    against it."""
    return OcrRequest(
        api_key=api_key,
        document_type=document_type or "",
        experiment_id=experiment["id"] if experiment else None,
        experiment_variant=experiment["variant"] if experiment else "",
        status=RequestStatus.ERROR,
        error_code=error_code,
    )


def insert_statements(rows: list[OcrRequest]) -> list[tuple[list[OcrRequest], str, tuple]]:
    """The INSERT statements for `rows`, as many rows to a statement as the database takes,
    each with its rows.

    They are made here, before the database is touched: bulk_create would open a transaction
    first and hold SQLite's one write lock (which every worker process shares) through all of
    its Python work, where these statements hold it only while they run. Each value is the
    field's own ``get_db_prep_save`` of its ``pre_save``, as Django's compiler takes it."""
    connection = compiling_connection(router.db_for_write(OcrRequest))
    fields = _inserted_fields()
    for row in rows:
        row._prepare_related_fields_for_save(operation_name="bulk_create")
    size = max(1, connection.ops.bulk_batch_size(fields, rows))
    statements: list[tuple[list[OcrRequest], str, tuple]] = []
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        params = tuple(
            field.get_db_prep_save(field.pre_save(row, add=True), connection)
            for row in chunk
            for field in fields
        )
        statements.append((chunk, insert_statement(connection, rows=len(chunk)), params))
    return statements


@functools.cache
def _inserted_fields() -> list[Field]:
    return [
        f
        for f in OcrRequest._meta.concrete_fields
        if not f.generated and not isinstance(f, AutoField)
    ]


# Kept by database vendor and number of rows, up to batches of KEPT_STATEMENT_ROWS (larger ones
# are rare, and their text long): Django's compiler wrote the same text for every request, and
# took longer to write it than the database takes to run it.
_insert_statements: dict[tuple[str, int], str] = {}
KEPT_STATEMENT_ROWS = 64


def insert_statement(connection: BaseDatabaseWrapper, *, rows: int) -> str:
    """The INSERT of `rows` log rows, for the database of `connection`, with ``%s``
    placeholders: each row's values in the order of ``_inserted_fields``."""
    statement = _insert_statements.get((connection.vendor, rows))
    if statement is not None:
        return statement
    quote = connection.ops.quote_name
    fields = _inserted_fields()
    columns = ", ".join(quote(field.column) for field in fields)
    values = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * rows)
    statement = f"INSERT INTO {quote(OcrRequest._meta.db_table)} ({columns}) VALUES {values}"
    if rows <= KEPT_STATEMENT_ROWS:
        _insert_statements[(connection.vendor, rows)] = statement
    return statement


def execute(statement: str, params: tuple) -> None:
    """Run one INSERT. It commits on its own (autocommit); inside a caller's transaction (tests,
    atomic blocks) it gets a savepoint, so a failure leaves that transaction usable."""
    connection = connections[router.db_for_write(OcrRequest)]
    savepoint = transaction.atomic(using=connection.alias) if connection.in_atomic_block else None
    with savepoint or contextlib.nullcontext(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def insert_rows(
    rows: list[OcrRequest],
    *,
    statements: list[tuple[list[OcrRequest], str, tuple]] | None = None,
) -> list[Exception | None]:
    """Insert `rows`, by `statements` where they are made already (``insert_statements``).
    Returns, per row, None once it is committed or the error that kept it out: a statement that
    fails is retried row by row, so a bad row (its key deleted meanwhile, say) does not take the
    other requests' rows down with it."""
    outcome: dict[int, Exception | None] = {}
    if statements is None:
        statements = insert_statements(rows)
    for chunk, statement, params in statements:
        try:
            execute(statement, params)
            outcome.update(dict.fromkeys(map(id, chunk)))
            continue
        except DatabaseError as error:
            if len(chunk) == 1:
                outcome[id(chunk[0])] = error
                continue
        for row in chunk:
            try:
                ((_, statement, params),) = insert_statements([row])
                execute(statement, params)
                outcome[id(row)] = None
            except DatabaseError as error:
                outcome[id(row)] = error
    return [outcome[id(row)] for row in rows]


def write_rows(
    rows: list[OcrRequest],
    *,
    statements: list[tuple[list[OcrRequest], str, tuple]] | None = None,
) -> list[Exception | None]:
    """Insert `rows` (``insert_rows``) and add the committed ones to the rollups, in one upsert.
    The live writes and bulk loads (``manage.py generate_traffic``) both come through here.

    A failed rollup upsert is logged and does not fail the rows: they are committed, and
    ``manage.py rebuild_rollups`` sums their hours again."""
    outcomes = insert_rows(rows, statements=statements)
    committed = [row for row, outcome in zip(rows, outcomes, strict=True) if outcome is None]
    try:
        rollups.add_requests(committed)
    except DatabaseError:
        logger.exception("The rollups missed %d log rows; rebuild their hours", len(committed))
    return outcomes


@dataclass
class _QueuedRow:
    row: OcrRequest
    committed: asyncio.Future[None]


@dataclass
class _LoopQueue:
    """The rows of one event loop waiting for a transaction, and the task writing them."""

    rows: list[_QueuedRow] = field(default_factory=list)
    # Writes batch after batch while rows wait, and ends when none do.
    writer: asyncio.Task[None] | None = None


# Futures and tasks belong to one event loop: one queue per loop (the server has one per
# worker; tests and async_to_sync make others), dropped with its loop.
_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopQueue] = (
    weakref.WeakKeyDictionary()
)


async def _write_batch(batch: list[_QueuedRow]) -> None:
    """Insert the batch on the event loop where SQLite's write lock is free within a few tries
    (``write_on_loop``), else on the thread of the request that started the writing task
    (its connection, as Django expects; in tests the test's transaction), and settle every
    row's future, whatever happens."""
    rows = [queued.row for queued in batch]
    try:
        if await write_on_loop(rows, tries=LOCK_TRIES):
            outcomes: list[Exception | None] = [None] * len(rows)
        else:
            # Made on the event loop: the database thread then holds the GIL, which the
            # loop waits for, only while it hands the statements to the driver.
            statements = insert_statements(rows)
            outcomes = await sync_to_async(write_rows)(rows, statements=statements)
    except asyncio.CancelledError:
        for queued in batch:
            queued.committed.cancel()
        raise
    except Exception as error:
        # Not re-raised: each writer gets the error from its own row's future.
        outcomes = [error] * len(batch)
    for queued, outcome in zip(batch, outcomes, strict=True):
        if queued.committed.done():
            continue
        if outcome is None:
            queued.committed.set_result(None)
        else:
            queued.committed.set_exception(outcome)


async def _write_queued(queue: _LoopQueue) -> None:
    """Write the queue's rows, a batch at a time, until none wait."""
    try:
        while queue.rows:
            batch, queue.rows = queue.rows, []
            await _write_batch(batch)
    finally:
        queue.writer = None


async def write_on_loop(rows: list[OcrRequest], *, tries: int) -> bool:
    """Insert `rows` and add them to the rollups, in one transaction, on the event loop where
    SQLite's write lock is free (``quickvault.runtime.loop_writes.write_soon``: `tries` tries,
    after a short wait each time another process held the lock; one try never gives the loop
    up); False, with nothing written, where it was not or the database thread must write
    them."""
    alias = router.db_for_write(OcrRequest)
    if sqlite_file(alias) is None:
        # Not made here for nothing: the database thread's path makes its own.
        return False
    statements = insert_statements(rows)
    tally = rollups.tally_of(rows)

    def insert_and_add_up(cursor: Any) -> bool:
        for _, statement, params in statements:
            cursor.execute(statement, params)
        rollups.upsert_with(cursor, tally, connection=compiling_connection(alias))
        return True

    return await write_soon(alias, insert_and_add_up, tries=tries) is not None


async def write_row(row: OcrRequest) -> None:
    """Insert `row` and return once it is committed: at once on the event loop where it can
    (``write_on_loop``), or else by a task of the event loop, with the rows other requests of
    this loop are writing at the same time, on the loop after a turn or on the database thread.
    Raises the database's error."""
    if await write_on_loop([row], tries=1):
        return
    loop = asyncio.get_running_loop()
    queue = _queues.get(loop)
    if queue is None:
        queue = _queues[loop] = _LoopQueue()
    queued = _QueuedRow(row=row, committed=loop.create_future())
    queue.rows.append(queued)
    if queue.writer is None:
        # A task of its own, not a request's: a request whose client hangs up stops waiting
        # for its row, and the batch, its row and the others, is written all the same. The
        # request waits for its row alone, so it goes on as soon as that is committed.
        queue.writer = loop.create_task(_write_queued(queue))
    async with waiting():
        await queued.committed


async def write_row_or_retry(row: OcrRequest) -> None:
    """write_row, except that a row the database refuses (down, or a bad value) does not fail
    the request that was served: the error is logged and the row written again later, once
    (``retry_later``)."""
    try:
        await write_row(row)
    except Exception as error:
        logger.error(
            "Request log row %s not written (%s: %s); retrying in the background",
            row.request_id,
            type(error).__name__,
            error,
        )
        retry_later(row)


class _Retries:
    """Rows to write again, each once, after QV_LOG_RETRY_SECONDS, by one background thread
    (independent of any event loop, so a retry outlives the request). Bounded by
    QV_LOG_RETRY_MAX_ROWS; a row over the bound, or refused again, is logged as lost."""

    def __init__(self) -> None:
        self.due: list[tuple[float, OcrRequest]] = []
        self.condition = threading.Condition()
        self.thread: threading.Thread | None = None

    def add(self, row: OcrRequest) -> None:
        with self.condition:
            if len(self.due) >= settings.QV_LOG_RETRY_MAX_ROWS:
                _log_lost(row, "the retry queue is full")
                return
            self.due.append((time.monotonic() + settings.QV_LOG_RETRY_SECONDS, row))
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(
                    target=self.run, name="request-log-retry", daemon=True
                )
                self.thread.start()
            self.condition.notify()

    def take(self, *, everything: bool = False) -> list[OcrRequest]:
        """Remove and return the rows that are due (all of them with `everything`)."""
        with self.condition:
            now = time.monotonic()
            rows = [row for due, row in self.due if everything or due <= now]
            self.due = [] if everything else [(d, r) for d, r in self.due if d > now]
            return rows

    def run(self) -> None:
        while True:
            with self.condition:
                if self.due:
                    wait = min(due for due, _ in self.due) - time.monotonic()
                    if wait > 0:
                        self.condition.wait(wait)
                else:
                    self.condition.wait()
            write_again(self.take())


_retries = _Retries()


def retry_later(row: OcrRequest) -> None:
    """Write `row` again after QV_LOG_RETRY_SECONDS, from a background thread."""
    _retries.add(row)


def retry_now() -> int:
    """Write every row waiting for its retry now, on this thread; returns how many were written
    (for shutdown and tests)."""
    return write_again(_retries.take(everything=True))


def write_again(rows: list[OcrRequest]) -> int:
    """The one retry of `rows`: each one refused again is logged as lost."""
    if not rows:
        return 0
    written = 0
    try:
        outcomes = insert_rows(rows)
    except Exception as error:
        outcomes = [error] * len(rows)
    finally:
        if threading.current_thread().name == "request-log-retry":
            connections.close_all()
    for row, outcome in zip(rows, outcomes, strict=True):
        if outcome is None:
            written += 1
        else:
            _log_lost(row, f"{type(outcome).__name__}: {outcome}")
    return written


def _log_lost(row: OcrRequest, why: str) -> None:
    # What was paid for stays findable: the request, the tokens and the cost (never the values).
    logger.error(
        "Request log row %s lost (%s): key=%s type=%s model=%s tokens=%s+%s cost=%s",
        row.request_id,
        why,
        row.api_key_id,
        row.document_type,
        row.model,
        row.prompt_tokens,
        row.completion_tokens,
        row.cost,
    )


async def record_success(
    *, api_key: ApiKey | None, analysis: Analysis, lines: tuple[str, ...]
) -> None:
    """Log a served analysis and count it in the metrics; returns once its row is committed, or
    queued for a retry."""
    await write_row_or_retry(success_row(api_key=api_key, analysis=analysis, lines=lines))
    metrics.observe_success(analysis)


async def record_failure(
    *,
    api_key: ApiKey | None,
    document_type: str | None,
    error_code: str,
    experiment: dict[str, Any] | None = None,
) -> None:
    """Log an analysis that failed with `error_code` and count it in the metrics; return once its
    row is committed, or queued for a retry."""
    await write_row_or_retry(
        failure_row(
            api_key=api_key,
            document_type=document_type,
            error_code=error_code,
            experiment=experiment,
        )
    )
    metrics.observe_failure(document_type=document_type, error_code=error_code)
