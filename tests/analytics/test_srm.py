import math

import pytest

from analytics.srm import chi_square_survival, sample_ratio


@pytest.mark.parametrize(
    ("x", "df", "p"),
    [(3.841458820694124, 1, 0.05), (10.827566170662733, 1, 0.001), (5.991464547107979, 2, 0.05)],
)
def test_chi_square_survival_matches_the_tables(x, df, p):
    assert math.isclose(chi_square_survival(x, df), p, rel_tol=1e-6)


def test_216_against_104_under_equal_weights_is_a_mismatch():
    ratio = sample_ratio(counts=[216, 104], weights=[50, 50])

    assert ratio.mismatch
    assert ratio.observed == (0.675, 0.325)


def test_a_split_close_to_the_weights_is_no_mismatch():
    assert not sample_ratio(counts=[905, 95], weights=[90, 10]).mismatch


def test_too_few_requests_are_not_tested():
    ratio = sample_ratio(counts=[3, 0], weights=[1, 1])

    assert (ratio.p_value, ratio.mismatch) == (None, False)
