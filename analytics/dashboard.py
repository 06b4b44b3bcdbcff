"""The figures of the staff dashboard, read from the hourly rollups (``ocr.models.RequestRollup``)
and never from the request log, so that a 90-day view costs what a day's does.

Interface
---------
``Filters.from_query(query) -> Filters``: the dashboard's filters from the URL query (``from``,
``to`` as YYYY-MM-DD, ``documentType``, ``apiKey``, ``model``, ``template`` as ``TYPE@VERSION`` or
a version); ``errors`` names what could not be read (it is left out, never a 500).
``summary(filters)``, ``trends(filters)``, ``table(filters, name)``, ``calibration(filters)``,
``choices(filters)``: plain dicts and lists for the page, its charts and its CSV downloads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import F, QuerySet, Sum
from django.utils import timezone

from ocr import buckets, rollups
from ocr.models import ApiKey, RequestRollup, RollupSpan

DEFAULT_DAYS = 7
# A longer range is cut to this many days, so one query never sums years of hours.
MAX_DAYS = 400
# Ranges up to this many days are drawn per hour, longer ones per day.
HOURLY_UP_TO_DAYS = 2

# The tables of the page, each a grouping of the rollups; also the CSV downloads' names.
TABLES: dict[str, tuple[str, ...]] = {
    "by_type": ("document_type",),
    "by_template": ("document_type", "template_version"),
    "by_model": ("provider", "model"),
    "by_api_key": ("api_key_id",),
    "errors": ("document_type", "error_code"),
}
TABLE_TITLES = {
    "by_type": "By document type",
    "by_template": "By template version",
    "by_model": "By provider and model",
    "by_api_key": "By API key",
    "errors": "Errors by code",
}
# The sums every table and trend needs; calibration sums its own columns.
FIGURE_COLUMNS = (
    *rollups.FIGURE_COLUMNS,
    *buckets.LATENCY_COLUMNS,
    *buckets.CONFIDENCE_COLUMNS,
)


def _day(text: str) -> date:
    return date.fromisoformat(text)


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    document_type: str = ""
    api_key: str = ""
    model: str = ""
    template: str = ""
    errors: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_query(cls, query: Mapping[str, str], *, today: date | None = None) -> Filters:
        today = today or timezone.now().date()
        errors: list[str] = []
        end = today
        if query.get("to"):
            try:
                end = _day(query["to"])
            except ValueError:
                errors.append("“to” must be a date as YYYY-MM-DD; showing up to today.")
        start = end - timedelta(days=DEFAULT_DAYS - 1)
        if query.get("from"):
            try:
                start = _day(query["from"])
            except ValueError:
                errors.append("“from” must be a date as YYYY-MM-DD; showing the last 7 days.")
        if start > end:
            errors.append("“from” is after “to”; showing the day “to” only.")
            start = end
        if (end - start).days >= MAX_DAYS:
            errors.append(f"At most {MAX_DAYS} days at once; showing the last {MAX_DAYS}.")
            start = end - timedelta(days=MAX_DAYS - 1)
        return cls(
            start=start,
            end=end,
            document_type=query.get("documentType", "").strip()[:64],
            api_key=query.get("apiKey", "").strip()[:64],
            model=query.get("model", "").strip()[:200],
            template=query.get("template", "").strip()[:100],
            errors=tuple(errors),
        )

    @property
    def hourly(self) -> bool:
        return (self.end - self.start).days < HOURLY_UP_TO_DAYS

    def query(self) -> dict[str, str]:
        """The filters as the URL query holds them (empty ones left out)."""
        values = {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "documentType": self.document_type,
            "apiKey": self.api_key,
            "model": self.model,
            "template": self.template,
        }
        return {name: value for name, value in values.items() if value}

    def rollups(self, *, span: str = RollupSpan.DAY) -> QuerySet[RequestRollup]:
        """The rollups of the range's days (or hours) that pass every filter."""
        begin = datetime.combine(self.start, time(), tzinfo=UTC)
        finish = datetime.combine(self.end + timedelta(days=1), time(), tzinfo=UTC)
        rows = RequestRollup.objects.between(begin, finish, span=span)
        if self.document_type:
            rows = rows.filter(document_type=self.document_type)
        if self.model:
            rows = rows.filter(model=self.model)
        if self.template:
            document_type, _, version = self.template.rpartition("@")
            rows = rows.filter(template_version=version)
            if document_type:
                rows = rows.filter(document_type=document_type)
        if self.api_key:
            key = ApiKey.objects.filter(key_id=self.api_key).values_list("pk", flat=True).first()
            rows = rows.filter(api_key_id=key if key is not None else -1)
        return rows


def _sums(rows: QuerySet[RequestRollup], group_by: Iterable[str]) -> list[dict[str, Any]]:
    grouped = rows.values(*group_by) if group_by else rows
    sums = {name: Sum(name) for name in FIGURE_COLUMNS}
    if not group_by:
        return [grouped.aggregate(**sums)]
    return list(grouped.annotate(**sums).order_by(*group_by))


def _ratio(part: float | None, whole: float | None) -> float | None:
    return part / whole if whole else None


def figures(sums: dict[str, Any]) -> dict[str, Any]:
    """The derived figures of a row of sums: rates, means, percentiles and accuracy."""
    row = {name: sums.get(name) or 0 for name in FIGURE_COLUMNS}
    latency = [row[name] for name in buckets.LATENCY_COLUMNS]
    rated = sum(row[name] for name in buckets.CONFIDENCE_COLUMNS)
    successes = row["successes"]
    return {
        "requests": row["requests"],
        "successes": successes,
        "errors": row["requests"] - successes,
        "success_rate": _ratio(successes, row["requests"]),
        "cache_hits": row["cache_hits"],
        "mean_latency_ms": _ratio(row["latency_ms_sum"], successes),
        "p50_latency_ms": buckets.quantile(latency, 0.5, buckets.LATENCY_EDGES_MS),
        "p95_latency_ms": buckets.quantile(latency, 0.95, buckets.LATENCY_EDGES_MS),
        "mean_confidence": _ratio(row["confidence_sum"], rated),
        "feedback": row["feedback"],
        "feedback_fields": row["feedback_fields"],
        "corrected_fields": row["corrected_fields"],
        "accuracy": (
            1 - row["corrected_fields"] / row["feedback_fields"] if row["feedback_fields"] else None
        ),
        "prompt_tokens": row["prompt_tokens"],
        "completion_tokens": row["completion_tokens"],
        "cost": Decimal(row["cost"]),
    }


def summary(filters: Filters) -> dict[str, Any]:
    return figures(_sums(filters.rollups(), ())[0])


def _key_names(ids: Iterable[int]) -> dict[int, str]:
    return {
        pk: f"{name} ({key_id})"
        for pk, name, key_id in ApiKey.objects.filter(pk__in=set(ids)).values_list(
            "pk", "name", "key_id"
        )
    }


def table(filters: Filters, name: str) -> list[dict[str, Any]]:
    """The rows of table `name` (one of ``TABLES``): its grouping columns and ``figures``."""
    group_by = TABLES[name]
    rows = filters.rollups()
    if name == "errors":
        rows = rows.exclude(error_code="")
    result = [
        {**{column: sums[column] for column in group_by}, **figures(sums)}
        for sums in _sums(rows, group_by)
    ]
    if name == "by_api_key":
        names = _key_names(row["api_key_id"] for row in result)
        for row in result:
            row["api_key"] = names.get(
                row["api_key_id"], "—" if not row["api_key_id"] else "deleted"
            )
    return result


def trends(filters: Filters) -> dict[str, Any]:
    """Per period (hour or day) and document type: the figures the charts draw.
    ``{"periods": [label, ...], "types": {type: {figure: [value per period]}}}``."""
    span = RollupSpan.HOUR if filters.hourly else RollupSpan.DAY
    rows = _sums(
        filters.rollups(span=span).annotate(period=F("start")), ("period", "document_type")
    )
    step = timedelta(hours=1) if filters.hourly else timedelta(days=1)
    moment = datetime.combine(filters.start, time(), tzinfo=UTC)
    finish = datetime.combine(filters.end + timedelta(days=1), time(), tzinfo=UTC)
    periods: list[datetime] = []
    while moment < finish:
        periods.append(moment)
        moment += step
    index = {period: number for number, period in enumerate(periods)}
    drawn = (
        "requests",
        "success_rate",
        "p50_latency_ms",
        "p95_latency_ms",
        "mean_confidence",
        "accuracy",
        "cost",
    )
    types: dict[str, dict[str, list[Any]]] = {}
    for sums in rows:
        series = types.setdefault(
            sums["document_type"] or "unknown", {name: [None] * len(periods) for name in drawn}
        )
        position = index.get(sums["period"].astimezone(UTC))
        if position is None:
            continue
        derived = figures(sums)
        for name in drawn:
            value = derived[name]
            series[name][position] = float(value) if isinstance(value, Decimal) else value
    label = "%Y-%m-%d %H:00" if filters.hourly else "%Y-%m-%d"
    return {"periods": [period.strftime(label) for period in periods], "types": types}


def calibration(filters: Filters) -> list[dict[str, Any]]:
    """The reliability diagram: per field-confidence bucket, the fields feedback covered and the
    share it left uncorrected."""
    columns = buckets.CALIBRATION_FIELDS_COLUMNS + buckets.CALIBRATION_RIGHT_COLUMNS
    sums = filters.rollups().aggregate(**{name: Sum(name) for name in columns})
    rows = []
    for index in range(buckets.CONFIDENCE_BUCKET_COUNT):
        low, high = buckets.confidence_bounds(index)
        seen = sums[buckets.CALIBRATION_FIELDS_COLUMNS[index]] or 0
        right = sums[buckets.CALIBRATION_RIGHT_COLUMNS[index]] or 0
        rows.append(
            {
                "bucket": f"{low:.1f}–{high:.1f}",
                "expected": (low + high) / 2,
                "fields": seen,
                "accuracy": _ratio(right, seen),
            }
        )
    return rows


def confidence_histogram(filters: Filters) -> list[dict[str, Any]]:
    sums = filters.rollups().aggregate(**{name: Sum(name) for name in buckets.CONFIDENCE_COLUMNS})
    total = sum(value or 0 for value in sums.values())
    rows = []
    for index, name in enumerate(buckets.CONFIDENCE_COLUMNS):
        low, high = buckets.confidence_bounds(index)
        count = sums[name] or 0
        rows.append(
            {"bucket": f"{low:.1f}–{high:.1f}", "count": count, "share": _ratio(count, total)}
        )
    return rows


def choices(filters: Filters) -> dict[str, list[Any]]:
    """The values the filters offer: what the range's rollups hold."""
    rows = RequestRollup.objects.between(
        datetime.combine(filters.start, time(), tzinfo=UTC),
        datetime.combine(filters.end + timedelta(days=1), time(), tzinfo=UTC),
    )
    combinations = set(
        rows.values_list("document_type", "model", "template_version", "api_key_id")
        .distinct()
        .order_by()
    )
    types = sorted({row[0] for row in combinations} - {""})
    models = sorted({row[1] for row in combinations} - {""})
    templates = sorted({f"{row[0]}@{row[2]}" for row in combinations if row[0] and row[2]})
    key_ids = {row[3] for row in combinations} - {0}
    keys = sorted(ApiKey.objects.filter(pk__in=key_ids).values_list("key_id", "name"))
    return {"document_types": types, "models": models, "templates": templates, "api_keys": keys}
