"""Is a variant's rate different from the control's? Two-proportion statistics for A/B results.

Pure functions over counts: no Django, no I/O, no state. Normal quantiles and the normal CDF come
from the standard library's ``statistics.NormalDist``.

Interface
---------
``Counts(successes, trials)``
    One arm's tally (e.g. fields left uncorrected out of fields with feedback); ``rate`` is
    successes / trials. Raises ValueError unless ``0 <= successes <= trials``.
``two_proportion_z_test(control, variant) -> ZTest``
    The pooled two-proportion z-test of H0 "equal rates": ``z`` is positive where the variant's
    rate is the higher one, ``p_value`` is two-sided. Raises ValueError where the pooled variance
    is zero (both arms all successes or all failures) or an arm has no trials.
``difference_interval(control, variant, confidence=0.95) -> (low, high)``
    The Wald (unpooled) interval of ``variant.rate - control.rate``.
``sample_size(p_control, p_variant, ratio=1.0, alpha=0.05, power=0.8) -> (n_control, n_variant)``
    Trials per arm for a two-sided test at ``alpha`` to detect the difference between these rates
    with probability ``power``, the arms split ``n_variant = ratio * n_control`` (Fleiss, without
    continuity correction; R's ``power.prop.test`` for ``ratio=1``). Rounded up.
``has_enough_data(control, variant, min_trials=30, min_expected=5) -> bool``
    Whether the normal approximation behind the test is fair to use at all.
``compare(control, variant, ...) -> Comparison``
    All of the above and a ``Verdict``: BETTER or WORSE where ``p_value < alpha`` (by the sign of
    the difference), NO_DIFFERENCE otherwise, NOT_ENOUGH_DATA (and nothing else) where
    ``has_enough_data`` is false.

Caveat: each trial is taken as independent. Fields of one document are not (a blurry scan gets
several wrong at once), so with few documents the p-value is optimistic; and looking at the
verdict every day and stopping at the first "better" raises the false-positive rate above alpha.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from statistics import NormalDist

ALPHA = 0.05
POWER = 0.8
# Below these the normal approximation misleads more than it informs: at least this many trials
# per arm, and this many successes and failures expected in each arm at the pooled rate (the
# textbook success-failure condition).
MIN_TRIALS = 30
MIN_EXPECTED = 5

_STANDARD_NORMAL = NormalDist()


@dataclass(frozen=True, slots=True)
class Counts:
    successes: int
    trials: int

    def __post_init__(self) -> None:
        if not 0 <= self.successes <= self.trials:
            raise ValueError(f"Need 0 <= successes <= trials, got {self.successes}/{self.trials}.")

    @property
    def rate(self) -> float:
        return self.successes / self.trials


@dataclass(frozen=True, slots=True)
class ZTest:
    z: float
    p_value: float


class Verdict(StrEnum):
    BETTER = "better"
    WORSE = "worse"
    NO_DIFFERENCE = "no_difference"
    NOT_ENOUGH_DATA = "not_enough_data"


@dataclass(frozen=True, slots=True)
class Comparison:
    """A variant against the control. Every figure is None under NOT_ENOUGH_DATA.

    ``difference`` is ``variant_rate - control_rate`` and ``interval`` its confidence interval.
    ``more_trials_needed`` (NO_DIFFERENCE only) is how many more trials, over both arms at their
    current split, would give the test ``power`` to detect the observed difference; 0 where there
    are already that many, None where the observed difference is zero.
    """

    verdict: Verdict
    control_rate: float | None = None
    variant_rate: float | None = None
    difference: float | None = None
    interval: tuple[float, float] | None = None
    z: float | None = None
    p_value: float | None = None
    more_trials_needed: int | None = None


def _pooled_rate(control: Counts, variant: Counts) -> float:
    return (control.successes + variant.successes) / (control.trials + variant.trials)


def two_proportion_z_test(control: Counts, variant: Counts) -> ZTest:
    """Pooled two-proportion z-test; see the module docstring."""
    if not control.trials or not variant.trials:
        raise ValueError("Both arms need at least one trial.")
    pooled = _pooled_rate(control, variant)
    variance = pooled * (1 - pooled) * (1 / control.trials + 1 / variant.trials)
    if variance == 0:
        raise ValueError("Zero variance: both arms are all successes or all failures.")
    z = (variant.rate - control.rate) / math.sqrt(variance)
    # cdf(-|z|) rather than 1 - cdf(|z|): no cancellation for large |z|.
    return ZTest(z=z, p_value=2 * _STANDARD_NORMAL.cdf(-abs(z)))


def difference_interval(
    control: Counts, variant: Counts, *, confidence: float = 1 - ALPHA
) -> tuple[float, float]:
    """Wald interval of ``variant.rate - control.rate``; see the module docstring."""
    if not control.trials or not variant.trials:
        raise ValueError("Both arms need at least one trial.")
    if not 0 < confidence < 1:
        raise ValueError(f"Confidence must lie strictly between 0 and 1, got {confidence}.")
    difference = variant.rate - control.rate
    standard_error = math.sqrt(
        control.rate * (1 - control.rate) / control.trials
        + variant.rate * (1 - variant.rate) / variant.trials
    )
    margin = _STANDARD_NORMAL.inv_cdf((1 + confidence) / 2) * standard_error
    return difference - margin, difference + margin


def sample_size(
    *,
    p_control: float,
    p_variant: float,
    ratio: float = 1.0,
    alpha: float = ALPHA,
    power: float = POWER,
) -> tuple[int, int]:
    """Trials per arm, (control, variant), to detect ``p_variant - p_control``; see the module
    docstring. Raises ValueError where the rates are equal (no size detects no difference)."""
    if p_control == p_variant:
        raise ValueError("Equal rates: no sample size detects a zero difference.")
    if ratio <= 0:
        raise ValueError(f"The ratio of the arms must be positive, got {ratio}.")
    z_alpha = _STANDARD_NORMAL.inv_cdf(1 - alpha / 2)
    z_beta = _STANDARD_NORMAL.inv_cdf(power)
    # The rate both arms share under H0, weighted by the split the arms will have.
    pooled = (p_control + ratio * p_variant) / (1 + ratio)
    n_control = (
        z_alpha * math.sqrt(pooled * (1 - pooled) * (1 + 1 / ratio))
        + z_beta * math.sqrt(p_control * (1 - p_control) + p_variant * (1 - p_variant) / ratio)
    ) ** 2 / (p_variant - p_control) ** 2
    return math.ceil(n_control), math.ceil(ratio * n_control)


def has_enough_data(
    control: Counts,
    variant: Counts,
    *,
    min_trials: int = MIN_TRIALS,
    min_expected: float = MIN_EXPECTED,
) -> bool:
    """At least ``min_trials`` per arm, and at least ``min_expected`` successes and as many
    failures expected in each arm at the pooled rate (which rules out zero variance)."""
    if control.trials < min_trials or variant.trials < min_trials:
        return False
    pooled = _pooled_rate(control, variant)
    if not 0 < pooled < 1:
        return False
    return all(
        arm.trials * pooled >= min_expected and arm.trials * (1 - pooled) >= min_expected
        for arm in (control, variant)
    )


def compare(
    control: Counts,
    variant: Counts,
    *,
    alpha: float = ALPHA,
    power: float = POWER,
    min_trials: int = MIN_TRIALS,
    min_expected: float = MIN_EXPECTED,
) -> Comparison:
    """The variant against the control, with a verdict; see the module docstring."""
    if not has_enough_data(control, variant, min_trials=min_trials, min_expected=min_expected):
        return Comparison(verdict=Verdict.NOT_ENOUGH_DATA)
    test = two_proportion_z_test(control, variant)
    difference = variant.rate - control.rate
    more_trials_needed = None
    if test.p_value < alpha:
        verdict = Verdict.BETTER if difference > 0 else Verdict.WORSE
    else:
        verdict = Verdict.NO_DIFFERENCE
        if difference != 0:
            needed = sample_size(
                p_control=control.rate,
                p_variant=variant.rate,
                ratio=variant.trials / control.trials,
                alpha=alpha,
                power=power,
            )
            more_trials_needed = max(0, needed[0] - control.trials) + max(
                0, needed[1] - variant.trials
            )
    return Comparison(
        verdict=verdict,
        control_rate=control.rate,
        variant_rate=variant.rate,
        difference=difference,
        interval=difference_interval(control, variant, confidence=1 - alpha),
        z=test.z,
        p_value=test.p_value,
        more_trials_needed=more_trials_needed,
    )
