"""The label engine's pairing (ocr/rules/matching.py, ocr/rules/costs.py): least total cost,
group by group, and bounded on texts made of thousands of labels."""

from __future__ import annotations

import itertools
import logging
import random
import time

import pytest

from ocr.rules import extract
from ocr.rules.costs import MAX_WAITING_LABELS
from ocr.rules.matching import MAX_EXACT_ROWS, min_cost_matching
from prompts.document_types import shipped_document_types

UNMATCHED = 2.0


def total(pairs, costs, n_rows) -> float:
    return sum(costs[pair] for pair in pairs) + UNMATCHED * (n_rows - len(pairs))


def least_total(n_rows: int, n_cols: int, costs) -> float:
    """Every matching tried: the least total cost, a row left unmatched costing UNMATCHED."""
    best = UNMATCHED * n_rows
    for size in range(1, min(n_rows, n_cols) + 1):
        for rows in itertools.combinations(range(n_rows), size):
            for cols in itertools.permutations(range(n_cols), size):
                pairs = list(zip(rows, cols, strict=True))
                if all(pair in costs for pair in pairs):
                    best = min(best, total(pairs, costs, n_rows))
    return best


@pytest.mark.parametrize("seed", range(40))
def test_the_pairing_has_the_least_total_cost_of_all(seed):
    rng = random.Random(seed)
    n_rows, n_cols = rng.randint(1, 5), rng.randint(1, 5)
    costs = {
        (r, c): round(rng.uniform(0, 3), 2)
        for r in range(n_rows)
        for c in range(n_cols)
        if rng.random() < 0.5
    }

    pairs = min_cost_matching(n_rows, n_cols, costs, unmatched=[UNMATCHED] * n_rows)

    assert len({r for r, _ in pairs}) == len({c for _, c in pairs}) == len(pairs)
    assert total(pairs, costs, n_rows) == pytest.approx(least_total(n_rows, n_cols, costs))


def test_rows_and_columns_that_no_pair_joins_are_paired_alone():
    # Rows 0-1 compete for column 0; row 2 and column 5 are on their own.
    costs = {(0, 0): 1.0, (1, 0): 0.5, (1, 1): 1.2, (2, 5): 0.3}

    pairs = min_cost_matching(3, 6, costs, unmatched=[UNMATCHED] * 3)

    assert pairs == [(0, 0), (1, 1), (2, 5)]


def test_a_group_past_the_exact_size_takes_the_cheapest_pairs_first():
    # Row 0 takes column 0 (1.0) before row 1 can (1.01), though row 0 had column 1 (1.05)
    # and pairing both would cost less; the other rows join the group through column 0 and
    # take columns of their own.
    rows = MAX_EXACT_ROWS + 2
    costs = {(0, 0): 1.0, (0, 1): 1.05, (1, 0): 1.01}
    costs |= {(r, 0): 1.9 for r in range(2, rows)} | {(r, r): 1.2 for r in range(2, rows)}

    pairs = min_cost_matching(rows, rows, costs, unmatched=[UNMATCHED] * rows)

    assert pairs == [(0, 0)] + [(r, r) for r in range(2, rows)]


def thousands_of_labels() -> list[str]:
    """10 lines of 2,000 characters: a stop label and a text it refuses, then a label and a
    year it refuses, over and over: every waiting label could take every year near it."""
    unit = "营业期限 x 名称 2020年 "
    return [(unit * (2000 // len(unit) + 1))[:2000]] * 10


def test_a_text_of_thousands_of_labels_is_paired_in_part_with_a_warning(caplog):
    fields = shipped_document_types()["businessLicense"]
    started = time.thread_time()

    with caplog.at_level(logging.WARNING, logger="ocr.rules.costs"):
        found = extract(document_type="businessLicense", lines=thousands_of_labels(), fields=fields)

    # Paired in full it took about 25 seconds; the bound leaves a few tens of milliseconds.
    assert time.thread_time() - started < 2
    assert set(found) == {spec.key for spec in fields}
    assert f"only the first {MAX_WAITING_LABELS}" in caplog.text
