"""The fixed bucket edges of the rollups' histograms, so that percentiles and calibration can be
read from pre-summed counts. Changing an edge changes what a column means: add a migration and
rebuild the rollups (``manage.py rebuild_rollups``).

Interface: ``latency_bucket(ms)``, ``confidence_bucket(value)``, their ``*_COLUMNS`` and
``quantile(counts, q, edges)``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

# Milliseconds; a bucket holds the values up to its edge, the last one everything above.
LATENCY_EDGES_MS = (50, 100, 250, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 20000, 30000)
# Ten buckets of 0.1: [0, 0.1), [0.1, 0.2), ... [0.9, 1.0].
CONFIDENCE_BUCKET_COUNT = 10

LATENCY_COLUMNS = tuple(f"latency_b{i}" for i in range(len(LATENCY_EDGES_MS) + 1))
CONFIDENCE_COLUMNS = tuple(f"confidence_b{i}" for i in range(CONFIDENCE_BUCKET_COUNT))
# Per field-confidence bucket: fields that feedback covered, and those it left uncorrected.
CALIBRATION_FIELDS_COLUMNS = tuple(
    f"calibration_fields_b{i}" for i in range(CONFIDENCE_BUCKET_COUNT)
)
CALIBRATION_RIGHT_COLUMNS = tuple(f"calibration_right_b{i}" for i in range(CONFIDENCE_BUCKET_COUNT))
HISTOGRAM_COLUMNS = (
    LATENCY_COLUMNS + CONFIDENCE_COLUMNS + CALIBRATION_FIELDS_COLUMNS + CALIBRATION_RIGHT_COLUMNS
)


def latency_bucket(milliseconds: float) -> int:
    return bisect_left(LATENCY_EDGES_MS, milliseconds)


def confidence_bucket(value: float) -> int:
    return min(CONFIDENCE_BUCKET_COUNT - 1, max(0, int(value * CONFIDENCE_BUCKET_COUNT)))


def confidence_bounds(index: int) -> tuple[float, float]:
    return index / CONFIDENCE_BUCKET_COUNT, (index + 1) / CONFIDENCE_BUCKET_COUNT


def quantile(counts: Sequence[int], q: float, edges: Sequence[float]) -> float | None:
    """The `q` quantile (0 to 1) of a histogram of `counts` over buckets bounded by `edges`
    (one fewer than the counts; the first bucket starts at 0), interpolated within its bucket;
    the lower edge of the open last bucket where it falls there. None for an empty histogram."""
    total = sum(counts)
    if not total:
        return None
    rank = q * total
    seen = 0
    for index, count in enumerate(counts):
        if count and seen + count >= rank:
            if index >= len(edges):
                return float(edges[-1])
            low = edges[index - 1] if index else 0
            return low + (edges[index] - low) * (rank - seen) / count
        seen += count
    return float(edges[-1])
