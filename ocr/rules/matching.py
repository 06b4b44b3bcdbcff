"""The assignment of least total cost between rows and columns (the Hungarian algorithm).

Only the pairs that exist are looked at: the rows and columns are split into the groups that
pairs connect (a label and the texts within its reach, and the labels that reach those), and
each group is solved on its own. A row without any pair stays unmatched and a column without
any stays untaken, whatever the others do, so they cost nothing. On a document the size of the
limits, with labels on most lines, this takes a few milliseconds where the whole matrix
(labels by texts, cubed) took seconds.

A group of more than MAX_EXACT_ROWS rows (no document has one: its groups are of a few labels)
is paired greedily instead, the cheapest pair first, so that no text, however made, costs the
cube of its size.
"""

from __future__ import annotations

from collections.abc import Sequence

# What leaving a row unmatched costs unless the caller says otherwise.
DEFAULT_UNMATCHED_COST = 10.0
# The cost of a pair that does not exist: above any matching made of pairs that do.
_IMPOSSIBLE = 1e6
# Past this many rows a group is paired greedily: the exact matching of a group of n rows and
# m columns takes about n * n * (n + m) steps.
MAX_EXACT_ROWS = 16


def min_cost_matching(
    n_rows: int,
    n_cols: int,
    costs: dict[tuple[int, int], float],
    *,
    unmatched: Sequence[float] | None = None,
) -> list[tuple[int, int]]:
    """Pairs (row, column) of the matching of least total cost (Hungarian algorithm), where a
    row left unmatched costs ``unmatched[row]`` (by default DEFAULT_UNMATCHED_COST); only
    pairs in ``costs`` exist. In the order of their columns."""
    if not n_rows or not costs:
        return []
    skip = list(unmatched) if unmatched is not None else [DEFAULT_UNMATCHED_COST] * n_rows
    pairs: list[tuple[int, int]] = []
    for rows, cols in connected_groups(costs):
        if len(rows) > MAX_EXACT_ROWS:
            pairs += _greedy(rows, costs, skip)
        else:
            pairs += _hungarian(rows, cols, costs, skip)
    return sorted(pairs, key=lambda pair: pair[1])


def _greedy(
    rows: list[int], costs: dict[tuple[int, int], float], skip: list[float]
) -> list[tuple[int, int]]:
    """A matching of ``rows`` made by taking the cheapest pair left, where it costs less than
    leaving its row unmatched."""
    wanted = set(rows)
    pairs = sorted(
        (cost, row, col) for (row, col), cost in costs.items() if row in wanted and cost < skip[row]
    )
    taken_rows: set[int] = set()
    taken_cols: set[int] = set()
    chosen = []
    for _, row, col in pairs:
        if row not in taken_rows and col not in taken_cols:
            taken_rows.add(row)
            taken_cols.add(col)
            chosen.append((row, col))
    return chosen


def connected_groups(costs: dict[tuple[int, int], float]) -> list[tuple[list[int], list[int]]]:
    """The (rows, columns) that the pairs in ``costs`` connect, each in ascending order."""
    parent: dict[tuple[str, int], tuple[str, int]] = {}

    def root(node: tuple[str, int]) -> tuple[str, int]:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for row, col in costs:
        parent[root(("r", row))] = root(("c", col))
    groups: dict[tuple[str, int], tuple[list[int], list[int]]] = {}
    for node in sorted(parent):
        rows, cols = groups.setdefault(root(node), ([], []))
        (cols if node[0] == "c" else rows).append(node[1])
    return list(groups.values())


def _hungarian(
    rows: list[int], cols: list[int], costs: dict[tuple[int, int], float], skip: list[float]
) -> list[tuple[int, int]]:
    """The least-cost matching of ``rows`` to ``cols`` (or to no column at ``skip[row]``)."""
    n_rows, n_cols = len(rows), len(cols)
    width = n_cols + n_rows  # one "left unmatched" column per row
    matrix = [[costs.get((r, c), _IMPOSSIBLE) for c in cols] + [skip[r]] * n_rows for r in rows]
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
        (rows[owner[j] - 1], cols[j - 1])
        for j in range(1, n_cols + 1)
        if owner[j] and (rows[owner[j] - 1], cols[j - 1]) in costs
    ]
