"""Pre-summed figures of the request log, per hour and per day and combination of what the
dashboards filter and group by (``RequestRollup``).

They are kept current as the log is written: each group-committed batch of log rows adds its
figures in one upsert (``add_requests``), and saving feedback moves its request's figures by what
changed (``add_feedback``, on post_save; a replacement subtracts what the earlier one added).
``rebuild(start=, end=)`` sums them again from the log for a range of days. Purging log rows
leaves them alone.

Interface
---------
``Tally``: figures being summed, by hour and key; ``add_request(...)`` / ``add_feedback_figures``.
``upsert(tally)``: add a tally to the stored rollups of its hours and of their days.
``add_requests(rows)``: the figures of committed log rows. ``add_feedback(...)``: a feedback
saved (``ocr.signals`` calls it).
``rebuild(start=, end=)``: the rollups of the days in [start, end) from the log.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connections, router, transaction
from django.utils import timezone

from ocr import buckets
from ocr.models import (
    ROLLUP_KEY_COLUMNS,
    Feedback,
    OcrRequest,
    RequestRollup,
    RequestStatus,
    RollupSpan,
)

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger(__name__)

KEY_COLUMNS = ROLLUP_KEY_COLUMNS
# The plain sums of a rollup row, without its histograms.
FIGURE_COLUMNS = (
    "requests",
    "successes",
    "cache_hits",
    "latency_ms_sum",
    "confidence_sum",
    "prompt_tokens",
    "completion_tokens",
    "cost",
    "feedback",
    "feedback_fields",
    "corrected_fields",
)
SUM_COLUMNS = (*FIGURE_COLUMNS, *buckets.HISTOGRAM_COLUMNS)
# The log's columns a rollup key and figures are read from.
LOG_COLUMNS = (
    "created_at",
    "document_type",
    "template_version",
    "provider",
    "model",
    "api_key_id",
    "experiment_id",
    "experiment_variant",
    "error_code",
    "status",
    "cached",
    "processing_time_ms",
    "confidence",
    "prompt_tokens",
    "completion_tokens",
    "cost",
)
REBUILD_CHUNK = 5000

Key = tuple[Any, ...]
Tally = dict[Key, dict[str, Any]]


def new_tally() -> Tally:
    return defaultdict(lambda: defaultdict(int))


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def day_of(moment: datetime) -> datetime:
    return hour_of(moment).replace(hour=0)


def key_of(values: dict[str, Any]) -> Key:
    """The hour and key of a log row's rollup, from its values (``LOG_COLUMNS``)."""
    return (
        hour_of(values["created_at"]),
        values["document_type"],
        values["template_version"],
        values["provider"],
        values["model"],
        values["api_key_id"] or 0,
        values["experiment_id"] or 0,
        values["experiment_variant"],
        values["error_code"],
    )


def add_request(tally: Tally, values: dict[str, Any]) -> None:
    """Add one log row's figures (its ``LOG_COLUMNS`` values) to `tally`."""
    figures = tally[key_of(values)]
    figures["requests"] += 1
    if values["status"] != RequestStatus.SUCCESS:
        return
    figures["successes"] += 1
    figures["cache_hits"] += int(values["cached"])
    milliseconds = values["processing_time_ms"]
    figures["latency_ms_sum"] += milliseconds
    figures[buckets.LATENCY_COLUMNS[buckets.latency_bucket(milliseconds)]] += 1
    confidence = values["confidence"]
    if confidence is not None:
        figures["confidence_sum"] += confidence
        figures[buckets.CONFIDENCE_COLUMNS[buckets.confidence_bucket(confidence)]] += 1
    figures["prompt_tokens"] += values["prompt_tokens"]
    figures["completion_tokens"] += values["completion_tokens"]
    figures["cost"] += Decimal(values["cost"] or 0)


def feedback_figures(
    *, field_confidence: dict[str, float | None], field_count: int, corrected: Iterable[str]
) -> dict[str, int]:
    """What one feedback adds to its request's rollup."""
    corrected = set(corrected)
    figures: dict[str, int] = defaultdict(int)
    figures["feedback"] = 1
    figures["feedback_fields"] = field_count
    figures["corrected_fields"] = len(corrected)
    for key, confidence in (field_confidence or {}).items():
        if confidence is None:
            continue
        index = buckets.confidence_bucket(confidence)
        figures[buckets.CALIBRATION_FIELDS_COLUMNS[index]] += 1
        figures[buckets.CALIBRATION_RIGHT_COLUMNS[index]] += key not in corrected
    return figures


def add_feedback_figures(tally: Tally, key: Key, figures: dict[str, int], *, sign: int = 1) -> None:
    target = tally[key]
    for name, value in figures.items():
        target[name] += sign * value


def _values_of(row: OcrRequest) -> dict[str, Any]:
    return {name: getattr(row, name) for name in LOG_COLUMNS}


def upsert(tally: Tally, *, using: str | None = None) -> None:
    """Add `tally` to the stored rollups: one INSERT ... ON CONFLICT DO UPDATE adding each
    figure, run for every key (executemany: prepared once), keys in a fixed order so that
    concurrent writers lock rows in the same order."""
    if not tally:
        return
    connection = connections[using or router.db_for_write(RequestRollup)]
    with connection.cursor() as cursor:
        upsert_with(cursor, tally, connection=connection)


def upsert_with(cursor: Any, tally: Tally, *, connection: BaseDatabaseWrapper) -> None:
    """``upsert``'s statement, run on `cursor` (a DB-API cursor that takes ``%s``
    placeholders) and written for the database of `connection`."""
    if not tally:
        return
    # Each hour's figures go to its hour's row and its day's.
    spans: dict[Key, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for key, figures in tally.items():
        for span, start in ((RollupSpan.HOUR, key[0]), (RollupSpan.DAY, day_of(key[0]))):
            target = spans[(span.value, start, *key[1:])]
            for name, value in figures.items():
                target[name] += value
    # Only these two need the database's own form; the rest are plain numbers and strings.
    start_field = RequestRollup._meta.get_field("start")
    cost = RequestRollup._meta.get_field("cost")
    cost_at = len(KEY_COLUMNS) + SUM_COLUMNS.index("cost")
    rows = []
    for key in sorted(spans, key=lambda key: tuple(str(part) for part in key)):
        figures = spans[key]
        row = [*key, *(figures.get(name, 0) for name in SUM_COLUMNS)]
        row[1] = start_field.get_db_prep_save(row[1], connection)
        row[cost_at] = cost.get_db_prep_save(Decimal(row[cost_at]), connection)
        rows.append(row)
    cursor.executemany(upsert_statement(connection), rows)


# Written once per database vendor: quoting its 65 columns for every batch took longer than
# running it.
_upsert_statements: dict[str, str] = {}


def upsert_statement(connection: BaseDatabaseWrapper) -> str:
    """The INSERT ... ON CONFLICT DO UPDATE of one rollup row, for the database of
    `connection`, with ``%s`` placeholders: the key columns, then the sums."""
    statement = _upsert_statements.get(connection.vendor)
    if statement is not None:
        return statement
    quote = connection.ops.quote_name
    table = quote(RequestRollup._meta.db_table)
    columns = ", ".join(quote(name) for name in KEY_COLUMNS + SUM_COLUMNS)
    conflict = ", ".join(quote(name) for name in KEY_COLUMNS)
    updates = ", ".join(
        f"{quote(name)} = {table}.{quote(name)} + EXCLUDED.{quote(name)}" for name in SUM_COLUMNS
    )
    placeholders = ", ".join(["%s"] * (len(KEY_COLUMNS) + len(SUM_COLUMNS)))
    statement = _upsert_statements[connection.vendor] = (
        f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
    )
    return statement


def add_requests(rows: Iterable[OcrRequest]) -> None:
    """Add the figures of committed live log rows to the rollups."""
    upsert(tally_of(rows))


def tally_of(rows: Iterable[OcrRequest]) -> Tally:
    """The rollup figures of live log rows."""
    tally = new_tally()
    for row in rows:
        add_request(tally, _values_of(row))
    return tally


def add_feedback(
    *,
    request: OcrRequest,
    before: tuple[int, tuple[str, ...]] | None,
    after: tuple[int, tuple[str, ...]],
) -> None:
    """Move the rollup of `request` from feedback `before` (None for the first) to `after`,
    each given as (field count, corrected fields)."""
    tally = new_tally()
    key = key_of(_values_of(request))
    if before is not None:
        figures = feedback_figures(
            field_confidence=request.field_confidence, field_count=before[0], corrected=before[1]
        )
        add_feedback_figures(tally, key, figures, sign=-1)
    figures = feedback_figures(
        field_confidence=request.field_confidence, field_count=after[0], corrected=after[1]
    )
    add_feedback_figures(tally, key, figures)
    upsert(tally)


def earliest_rebuildable_day() -> datetime:
    """Days before this may have lost log rows to the retention purge: rebuilding them would
    drop figures the log no longer holds."""
    cutoff = timezone.now() - timedelta(days=settings.QV_LOG_RETENTION_DAYS)
    return day_of(cutoff) + timedelta(days=1)


def rebuild(*, start: datetime, end: datetime) -> tuple[datetime, datetime, int]:
    """Replace the rollups (hours and days) of the days in [start, end) with sums from the log,
    in one transaction; the range is widened to whole UTC days and starts no earlier than
    ``earliest_rebuildable_day``. Memory grows with the rollup keys, not the log rows.
    Returns the range rebuilt and the number of log rows read."""
    start = max(day_of(start), earliest_rebuildable_day())
    end = day_of(end) + (timedelta(days=1) if end != day_of(end) else timedelta(0))
    if end <= start:
        return start, end, 0
    tally = new_tally()
    read = 0
    with transaction.atomic():
        RequestRollup.objects.filter(start__gte=start, start__lt=end).delete()
        requests = OcrRequest.objects.filter(created_at__gte=start, created_at__lt=end)
        for values in requests.values(*LOG_COLUMNS).order_by().iterator(chunk_size=REBUILD_CHUNK):
            add_request(tally, values)
            read += 1
        feedback = Feedback.objects.filter(
            request__created_at__gte=start, request__created_at__lt=end
        ).values(
            *(f"request__{name}" for name in LOG_COLUMNS),
            "request__field_confidence",
            "field_count",
            "corrected_fields",
        )
        for entry in feedback.order_by().iterator(chunk_size=REBUILD_CHUNK):
            values = {name: entry[f"request__{name}"] for name in LOG_COLUMNS}
            add_feedback_figures(
                tally,
                key_of(values),
                feedback_figures(
                    field_confidence=entry["request__field_confidence"],
                    field_count=entry["field_count"],
                    corrected=entry["corrected_fields"],
                ),
            )
        upsert(tally)
    return start, end, read
