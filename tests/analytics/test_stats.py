"""The two-proportion statistics behind the experiments' verdicts, against worked examples.

Expected values come from published examples or from the formulas worked out here with
``math.erfc`` and table constants, never from ``statistics.NormalDist`` as the module uses.
"""

import math

import pytest

from analytics.stats import (
    Counts,
    Verdict,
    compare,
    difference_interval,
    sample_size,
    two_proportion_z_test,
)

Z_975 = 1.959964  # the 97.5% quantile of the standard normal, from tables
Z_80 = 0.841621  # the 80% quantile

# Stat Trek, "Hypothesis test: difference in proportions": 51% of 200 men and 38% of 100 women
# caught a cold; pooled SE 0.061, z = -2.13 (women against men), P = 0.034 (from the rounded z).
MEN = Counts(successes=102, trials=200)
WOMEN = Counts(successes=38, trials=100)


def two_sided_p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


def test_z_test_matches_the_textbook_example():
    test = two_proportion_z_test(MEN, WOMEN)

    assert test.z == pytest.approx(-2.13, abs=0.005)
    assert test.p_value == pytest.approx(0.034, abs=0.001)


def test_p_value_is_the_two_sided_normal_tail_of_the_pooled_z():
    z = (0.38 - 0.51) / math.sqrt(140 / 300 * 160 / 300 * (1 / 100 + 1 / 200))

    test = two_proportion_z_test(MEN, WOMEN)

    assert test.z == pytest.approx(z, rel=1e-12)
    assert test.p_value == pytest.approx(two_sided_p(z), rel=1e-9)


def test_z_is_positive_where_the_variant_rate_is_higher():
    test = two_proportion_z_test(WOMEN, MEN)

    assert test.z == pytest.approx(2.13, abs=0.005)


def test_z_test_refuses_zero_variance():
    with pytest.raises(ValueError, match="Zero variance"):
        two_proportion_z_test(Counts(successes=50, trials=50), Counts(successes=80, trials=80))


def test_interval_matches_the_textbook_example():
    # Stat Trek, "Confidence interval: difference between proportions": 40% of 400 boys and 30%
    # of 300 girls; the 90% interval is 0.10 ± 0.06, from 0.04 to 0.16.
    low, high = difference_interval(
        Counts(successes=90, trials=300), Counts(successes=160, trials=400), confidence=0.90
    )

    assert (low, high) == (pytest.approx(0.04, abs=0.005), pytest.approx(0.16, abs=0.005))


def test_interval_is_95_percent_by_default():
    margin = Z_975 * math.sqrt(0.3 * 0.7 / 300 + 0.4 * 0.6 / 400)

    low, high = difference_interval(
        Counts(successes=90, trials=300), Counts(successes=160, trials=400)
    )

    assert (low, high) == (pytest.approx(0.1 - margin), pytest.approx(0.1 + margin))


def test_sample_size_matches_r_power_prop_test():
    # R: power.prop.test(p1 = .50, p2 = .75, power = .90) gives n = 76.7 per group.
    assert sample_size(p_control=0.5, p_variant=0.75, power=0.9) == (77, 77)


def test_sample_size_defaults_to_80_percent_power():
    # R: power.prop.test(p1 = .50, p2 = .75, power = .80) gives n = 57.7 per group.
    assert sample_size(p_control=0.5, p_variant=0.75) == (58, 58)


def test_sample_size_with_unequal_arms_reaches_the_power():
    n_control, n_variant = sample_size(p_control=0.9, p_variant=0.95, ratio=3)
    # The power of the pooled test at these sizes, worked out directly.
    pooled = (0.9 * n_control + 0.95 * n_variant) / (n_control + n_variant)
    se_null = math.sqrt(pooled * (1 - pooled) * (1 / n_control + 1 / n_variant))
    se_alternative = math.sqrt(0.9 * 0.1 / n_control + 0.95 * 0.05 / n_variant)
    power = 0.5 * math.erfc(-((0.05 - Z_975 * se_null) / se_alternative) / math.sqrt(2))

    assert n_variant == pytest.approx(3 * n_control, abs=3)
    assert 0.80 <= power < 0.805


def test_sample_size_refuses_equal_rates():
    with pytest.raises(ValueError, match="Equal rates"):
        sample_size(p_control=0.9, p_variant=0.9)


def test_counts_refuse_more_successes_than_trials():
    with pytest.raises(ValueError):
        Counts(successes=10, trials=9)


def test_significantly_higher_rate_is_better():
    z = 0.05 / math.sqrt(0.875 * 0.125 * (2 / 1000))

    comparison = compare(Counts(successes=850, trials=1000), Counts(successes=900, trials=1000))

    assert comparison.verdict == Verdict.BETTER
    assert comparison.difference == pytest.approx(0.05)
    assert comparison.p_value == pytest.approx(two_sided_p(z), rel=1e-9)


def test_significantly_lower_rate_is_worse():
    comparison = compare(Counts(successes=900, trials=1000), Counts(successes=850, trials=1000))

    assert comparison.verdict == Verdict.WORSE
    assert comparison.difference == pytest.approx(-0.05)


def test_no_significant_difference_estimates_the_feedback_still_needed():
    # 85% against 88% over 100 trials each: p = 0.53; 80% power at this difference needs
    # n per arm by the Fleiss formula, so 2 * (n - 100) more over both arms.
    pooled = 0.865
    n = math.ceil(
        (Z_975 * math.sqrt(2 * pooled * (1 - pooled)) + Z_80 * math.sqrt(0.85 * 0.15 + 0.88 * 0.12))
        ** 2
        / 0.03**2
    )

    comparison = compare(Counts(successes=85, trials=100), Counts(successes=88, trials=100))

    assert comparison.verdict == Verdict.NO_DIFFERENCE
    assert comparison.more_trials_needed == 2 * (n - 100)


def test_equal_rates_need_no_estimate():
    comparison = compare(Counts(successes=85, trials=100), Counts(successes=170, trials=200))

    assert comparison.verdict == Verdict.NO_DIFFERENCE
    assert comparison.p_value == pytest.approx(1.0)
    assert comparison.more_trials_needed is None


def test_fewer_than_30_trials_on_a_side_is_not_enough_data():
    comparison = compare(Counts(successes=20, trials=29), Counts(successes=900, trials=1000))

    assert comparison.verdict == Verdict.NOT_ENOUGH_DATA
    assert (comparison.difference, comparison.interval, comparison.p_value) == (None, None, None)


def test_zero_variance_is_not_enough_data():
    comparison = compare(Counts(successes=100, trials=100), Counts(successes=300, trials=300))

    assert comparison.verdict == Verdict.NOT_ENOUGH_DATA


def test_too_few_expected_failures_is_not_enough_data():
    # 40/40 against 36/40 would give p = 0.04, yet Fisher's exact test says 0.12: with about two
    # failures expected per arm the normal approximation cannot be trusted.
    comparison = compare(Counts(successes=40, trials=40), Counts(successes=36, trials=40))

    assert comparison.verdict == Verdict.NOT_ENOUGH_DATA
