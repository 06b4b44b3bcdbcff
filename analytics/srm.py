"""The sample-ratio-mismatch check of an experiment: does the traffic each variant served match
the weights? A chi-square goodness-of-fit test; p below SRM_P_VALUE says the assignment or the
logging is skewed, and the variants' results cannot be compared as they are."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

SRM_P_VALUE = 0.001
# The chi-square approximation needs this many expected requests in every variant.
MIN_EXPECTED = 5
_ITERATIONS = 500
_EPSILON = 1e-14


@dataclass(frozen=True)
class SampleRatio:
    """Observed counts and shares beside the expected shares, and the test's outcome."""

    counts: tuple[int, ...]
    observed: tuple[float, ...]
    expected: tuple[float, ...]
    chi_square: float | None
    p_value: float | None

    @property
    def mismatch(self) -> bool:
        return self.p_value is not None and self.p_value < SRM_P_VALUE


def chi_square_survival(x: float, df: int) -> float:
    """P(X >= x) for a chi-square variable with ``df`` degrees of freedom: the regularized upper
    incomplete gamma function Q(df/2, x/2), by its series or its continued fraction."""
    if x <= 0:
        return 1.0
    a, z = df / 2, x / 2
    log_prefix = a * math.log(z) - z - math.lgamma(a)
    if z < a + 1:  # the series for P(a, z)
        term = total = 1 / a
        for n in range(1, _ITERATIONS):
            term *= z / (a + n)
            total += term
            if abs(term) < abs(total) * _EPSILON:
                break
        return max(0.0, 1 - total * math.exp(log_prefix))
    # Lentz's continued fraction for Q(a, z)
    b = z + 1 - a
    c, d = 1 / 1e-300, 1 / b
    h = d
    for n in range(1, _ITERATIONS):
        an = -n * (n - a)
        b += 2
        d = an * d + b
        d = 1 / (d if abs(d) > 1e-300 else 1e-300)
        c = b + an / c
        c = c if abs(c) > 1e-300 else 1e-300
        h *= d * c
        if abs(d * c - 1) < _EPSILON:
            break
    return min(1.0, math.exp(log_prefix) * h)


def sample_ratio(*, counts: Sequence[int], weights: Sequence[int]) -> SampleRatio:
    """The observed split of ``counts`` against the split ``weights`` ask for; the test runs
    only with two or more variants and MIN_EXPECTED expected requests in each."""
    total, weight_total = sum(counts), sum(weights)
    expected = tuple(w / weight_total for w in weights) if weight_total else ()
    observed = tuple(c / total for c in counts) if total else tuple(0.0 for _ in counts)
    chi_square = p_value = None
    if len(counts) >= 2 and expected and all(total * e >= MIN_EXPECTED for e in expected):
        chi_square = sum(
            (c - total * e) ** 2 / (total * e) for c, e in zip(counts, expected, strict=True)
        )
        p_value = chi_square_survival(chi_square, len(counts) - 1)
    return SampleRatio(tuple(counts), observed, expected, chi_square, p_value)
