"""Realistic request-log rows for demos and benchmarks, written in bulk through the same writers
as live traffic (``ocr.request_log.write_rows``, so the rollups follow), with some feedback.

Interface: ``generate(rows=, days=, seed=, chunk=, progress=) -> GeneratedTraffic``.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from ocr import request_log, rollups
from ocr.models import ApiKey, Feedback, OcrRequest, RequestStatus
from prompts.models import DocumentType, PromptTemplate

CHUNK = 5000
ERROR_SHARE = 0.03
CACHED_SHARE = 0.12
RULES_SHARE = 0.2
FEEDBACK_SHARE = 0.05
ERROR_CODES = ("upstream_error", "upstream_timeout", "invalid_request", "forbidden")
MODELS = (
    ("gpt-4o-mini", Decimal("0.00000015"), Decimal("0.0000006")),
    ("gpt-4o", Decimal("0.0000025"), Decimal("0.00001")),
)
DEMO_KEY_NAMES = ("demo traffic: ios", "demo traffic: android", "demo traffic: web")


@dataclass(frozen=True)
class GeneratedTraffic:
    requests: int
    feedback: int


@dataclass(frozen=True)
class _TypeShape:
    key: str
    fields: tuple[str, ...]
    versions: tuple[str, ...]


def _shapes() -> list[_TypeShape]:
    shapes = []
    for document_type in DocumentType.objects.prefetch_related("fields").order_by("key"):
        versions = tuple(
            PromptTemplate.objects.filter(document_type=document_type).values_list(
                "version", flat=True
            )
        ) or ("1.0.0",)
        fields = tuple(field.key for field in document_type.fields.all()) or ("value",)
        shapes.append(_TypeShape(key=document_type.key, fields=fields, versions=versions))
    return shapes or [_TypeShape(key="idCard", fields=("name", "idNumber"), versions=("1.0.0",))]


def _keys() -> list[ApiKey]:
    keys = list(ApiKey.objects.filter(name__in=DEMO_KEY_NAMES))
    for name in DEMO_KEY_NAMES[len(keys) :]:
        keys.append(ApiKey.issue(name=name, rate_limit=0)[0])
    return keys


def _row(randomness: random.Random, *, shape: _TypeShape, key: ApiKey, moment) -> OcrRequest:
    version = randomness.choice(shape.versions)
    if randomness.random() < ERROR_SHARE:
        return OcrRequest(
            api_key=key,
            document_type=shape.key,
            template_version=version,
            status=RequestStatus.ERROR,
            error_code=randomness.choice(ERROR_CODES),
            created_at=moment,
        )
    cached = randomness.random() < CACHED_SHARE
    rules = randomness.random() < RULES_SHARE
    model, prompt_price, completion_price = randomness.choice(MODELS)
    prompt_tokens = 0 if cached or rules else randomness.randint(400, 1400)
    completion_tokens = 0 if cached or rules else randomness.randint(60, 260)
    if cached:
        milliseconds = randomness.randint(2, 20)
    else:
        median = 40 if rules else 900
        milliseconds = int(median * math.exp(randomness.gauss(0, 0.5)))
    field_confidence = {
        field: round(min(0.999, max(0.05, randomness.betavariate(8, 1.5))), 3)
        for field in shape.fields
    }
    return OcrRequest(
        api_key=key,
        document_type=shape.key,
        template_version=version,
        provider="rules" if rules else "openai",
        model="" if rules else model,
        status=RequestStatus.SUCCESS,
        confidence=round(min(field_confidence.values()), 3),
        field_confidence=field_confidence,
        processing_time_ms=milliseconds,
        cached=cached,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost=prompt_tokens * prompt_price + completion_tokens * completion_price,
        created_at=moment,
    )


def _feedback(randomness: random.Random, rows: list[OcrRequest]) -> int:
    """Feedback on some served rows, stored in bulk and added to the rollups as the live
    feedback is (``ocr.rollups.feedback_figures``)."""
    chosen = [
        row
        for row in rows
        if row.status == RequestStatus.SUCCESS and randomness.random() < FEEDBACK_SHARE
    ]
    # The log's writer inserts without reading ids back.
    ids = dict(
        OcrRequest.objects.filter(request_id__in=[row.request_id for row in chosen]).values_list(
            "request_id", "id"
        )
    )
    feedback = []
    tally = rollups.new_tally()
    for row in chosen:
        # A value is corrected more often the less sure the service was of it.
        corrected = sorted(
            key
            for key, confidence in row.field_confidence.items()
            if randomness.random() > confidence
        )
        feedback.append(
            Feedback(
                request_id=ids[row.request_id],
                corrections={key: "corrected" for key in corrected},
                corrected_fields=corrected,
                field_count=len(row.field_confidence),
                created_at=row.created_at,
            )
        )
        rollups.add_feedback_figures(
            tally,
            rollups.key_of({name: getattr(row, name) for name in rollups.LOG_COLUMNS}),
            rollups.feedback_figures(
                field_confidence=row.field_confidence,
                field_count=len(row.field_confidence),
                corrected=corrected,
            ),
        )
    with transaction.atomic():
        Feedback.objects.bulk_create(feedback)
        rollups.upsert(tally)
    return len(feedback)


def generate(
    *,
    rows: int,
    days: int,
    seed: int | None = None,
    chunk: int = CHUNK,
    progress: Callable[[int], None] | None = None,
) -> GeneratedTraffic:
    """Write `rows` log rows spread evenly over the last `days` days, oldest first."""
    randomness = random.Random(seed)
    shapes = _shapes()
    keys = _keys()
    now = timezone.now()
    span = timedelta(days=days).total_seconds()
    written = feedback = 0
    while written < rows:
        size = min(chunk, rows - written)
        # Oldest first, a chunk to a slice of the period: a chunk's rows share few rollup keys,
        # so its upsert is small, as a live batch's is.
        window_start = span * (1 - written / rows)
        window = span * size / rows
        batch = []
        for _ in range(size):
            moment = now - timedelta(seconds=window_start - randomness.random() * window)
            row = _row(
                randomness,
                shape=randomness.choice(shapes),
                key=randomness.choice(keys),
                moment=moment,
            )
            row.request_id = uuid.UUID(int=randomness.getrandbits(128), version=4)
            batch.append(row)
        failed = [outcome for outcome in request_log.write_rows(batch) if outcome is not None]
        if failed:
            raise failed[0]
        feedback += _feedback(randomness, batch)
        written += len(batch)
        if progress:
            progress(len(batch))
    return GeneratedTraffic(requests=written, feedback=feedback)
