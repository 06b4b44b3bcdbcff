"""The assignment of least total cost between rows and columns (the Hungarian algorithm)."""

from __future__ import annotations

from collections.abc import Sequence

# What leaving a row unmatched costs unless the caller says otherwise.
DEFAULT_UNMATCHED_COST = 10.0
# The cost of a pair that does not exist: above any matching made of pairs that do.
_IMPOSSIBLE = 1e6


def min_cost_matching(
    n_rows: int,
    n_cols: int,
    costs: dict[tuple[int, int], float],
    *,
    unmatched: Sequence[float] | None = None,
) -> list[tuple[int, int]]:
    """Pairs (row, column) of the matching of least total cost (Hungarian algorithm), where a
    row left unmatched costs ``unmatched[row]`` (by default DEFAULT_UNMATCHED_COST); only
    pairs in ``costs`` exist."""
    if not n_rows or not costs:
        return []
    skip = list(unmatched) if unmatched is not None else [DEFAULT_UNMATCHED_COST] * n_rows
    width = n_cols + n_rows  # one "left unmatched" column per row
    matrix = [
        [costs.get((r, c), _IMPOSSIBLE) for c in range(n_cols)] + [skip[r]] * n_rows
        for r in range(n_rows)
    ]
    u = [0.0] * (n_rows + 1)
    v = [0.0] * (width + 1)
    owner = [0] * (width + 1)
    way = [0] * (width + 1)
    for i in range(1, n_rows + 1):
        owner[0] = i
        j0 = 0
        minv = [float("inf")] * (width + 1)
        done = [False] * (width + 1)
        while True:
            done[j0] = True
            i0, delta, j1 = owner[j0], float("inf"), 0
            for j in range(1, width + 1):
                if done[j]:
                    continue
                cur = matrix[i0 - 1][j - 1] - u[i0] - v[j]
                if cur < minv[j]:
                    minv[j], way[j] = cur, j0
                if minv[j] < delta:
                    delta, j1 = minv[j], j
            for j in range(width + 1):
                if done[j]:
                    u[owner[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if owner[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    return [
        (owner[j] - 1, j - 1)
        for j in range(1, n_cols + 1)
        if owner[j] and (owner[j] - 1, j - 1) in costs
    ]
