"""Grouping many dimension combinations at once, each rolled up from the smallest grouping
that contains it.

Why: a depth-3 attribution over 8 dimensions groups 92 combinations. Grouped straight from
the leaves (408k of them for a week against four weeks at 10M rows) each costs ~3.5 ms, a
third of a second in all, most of the attribution after the window scan. A grouping over
four dimensions is usually 10-100x smaller than the leaves (dimensions are correlated: a
region belongs to one country, an OS to one device), and each of its 3-dimension subsets
rolls up from it for a fraction of the cost; the 2- and 1-dimension groupings roll up from
the 3-dimension ones. A few 4-dimension "parents" cover every 3-dimension combination, so the
leaves are read ~15 times instead of 92 (bench/README.md has the measured effect).

The sums are the same numbers added in another order: equal up to float rounding, and the
same whatever the row order, because every grouping is sorted by code.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from data_hunter.leaves import Leaves, group_columns

Combo = tuple[int, ...]
"""Dimension positions (in ``Leaves.dimensions`` order, increasing)."""


@dataclass(frozen=True)
class Grouping:
    """Sums of actual and expected per value combination of ``dims``."""

    dims: Combo
    keys: np.ndarray  # (rows, len(dims)) int32 codes, column-major, sorted by code
    actual: np.ndarray
    expected: np.ndarray

    @property
    def rows(self) -> int:
        return int(self.keys.shape[0])

    def roll_up(self, dims: Combo, cards: Sequence[int]) -> Grouping:
        """The grouping over ``dims``, a subset of this one's dimensions."""
        position = {d: j for j, d in enumerate(self.dims)}
        columns = [self.keys[:, position[d]] for d in dims]
        keys, actual, expected = group_columns(
            columns, [cards[d] for d in dims], self.actual, self.expected
        )
        return Grouping(dims, keys, actual, expected)


def leaf_grouping(leaves: Leaves, mask: np.ndarray | None = None) -> Grouping:
    """The (masked) leaves themselves, as the grouping over every dimension."""
    dims = tuple(range(len(leaves.dimensions)))
    if mask is None:
        return Grouping(dims, leaves.codes, leaves.actual, leaves.expected)
    return Grouping(dims, leaves.codes[mask], leaves.actual[mask], leaves.expected[mask])


def group_many(
    leaves: Leaves, combos: Iterable[Combo], mask: np.ndarray | None = None
) -> dict[Combo, Grouping]:
    """The grouping of every combination in ``combos`` over the (masked) leaves."""
    wanted = sorted(set(combos), key=lambda c: (-len(c), c))
    if not wanted:
        return {}
    cards = [len(labels) for labels in leaves.labels]
    base = leaf_grouping(leaves, mask)
    depth = len(wanted[0])
    parent_of = _cover([c for c in wanted if len(c) == depth], cards, len(base.dims))
    parents: dict[Combo, Grouping] = {}
    done: dict[Combo, Grouping] = {}
    for combo in wanted:
        source = base
        parent = parent_of.get(combo)
        if parent is not None and parent != base.dims:  # a parent of every dimension is base
            if parent not in parents:
                parents[parent] = base.roll_up(parent, cards)
            source = parents[parent]
        else:
            # The smallest grouping already made one dimension wider than this one.
            for d in range(len(base.dims)):
                wider = done.get(tuple(sorted((*combo, d)))) if d not in combo else None
                if wider is not None and wider.rows < source.rows:
                    source = wider
        done[combo] = source.roll_up(combo, cards)
    return done


def _cover(top: list[Combo], cards: Sequence[int], n_dims: int) -> dict[Combo, Combo]:
    """Parents one dimension wider that cover the deepest combinations, chosen greedily.

    A parent costs one pass over the leaves, so it is only worth making when it serves at
    least two combinations; among parents serving as many, the one with the fewest possible
    value combinations is likely the smallest.
    """
    if not top:
        return {}
    depth = len(top[0])
    if depth + 1 > n_dims:
        return {}
    universe = sorted({d for combo in top for d in combo})
    uncovered = set(top)
    parent_of: dict[Combo, Combo] = {}
    for combo in top:
        if combo not in uncovered:
            continue
        best: tuple[int, int, Combo] | None = None
        for extra in universe:
            if extra in combo:
                continue
            candidate = tuple(sorted((*combo, extra)))
            served = sum(1 for sub in itertools.combinations(candidate, depth) if sub in uncovered)
            rank = (-served, math.prod(max(cards[d], 1) for d in candidate), candidate)
            if best is None or rank < best:
                best = rank
        if best is None or -best[0] < 2:
            uncovered.discard(combo)  # grouped straight from the leaves
            continue
        parent = best[2]
        for sub in itertools.combinations(parent, depth):
            if sub in uncovered:
                uncovered.discard(sub)
                parent_of[sub] = parent
    return parent_of
