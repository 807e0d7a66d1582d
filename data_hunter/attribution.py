"""Ranking segments by contribution: the levels of ``attribute`` and the tree's children.

Both work on ``Leaves`` (the window cache), so a level or a node expansion is a NumPy
group-by over at most a few hundred thousand leaves rather than a table scan.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from data_hunter.errors import DataHunterError
from data_hunter.leaves import Leaves, share_of
from data_hunter.limits import DEFAULT_MAX_CARDINALITY, MAX_COMBINATIONS
from data_hunter.rollup import Combo, Grouping, group_many
from data_hunter.segment import ROOT, Segment, SegmentStats


@dataclass(frozen=True)
class Level:
    """The top segments that combine exactly ``depth`` dimensions."""

    depth: int
    segments: list[SegmentStats]


def total_stats(leaves: Leaves, within: Segment = ROOT) -> SegmentStats:
    mask = None if within.is_root else leaves.mask(within)
    actual = float(leaves.actual.sum() if mask is None else leaves.actual[mask].sum())
    expected = float(leaves.expected.sum() if mask is None else leaves.expected[mask].sum())
    contribution = actual - expected
    return SegmentStats(within, actual, expected, share_of(contribution, contribution))


def free_dimensions(leaves: Leaves, within: Segment) -> list[int]:
    fixed = set(within.dimensions)
    return [i for i, d in enumerate(leaves.dimensions) if d not in fixed]


def combinations(dims: Sequence[int], depth: int) -> Iterator[tuple[int, ...]]:
    return itertools.combinations(dims, depth)


def _top_rows(contribution: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` largest |contribution|, ties broken by position (= code order)."""
    if len(contribution) <= n:
        candidates = np.arange(len(contribution))
    else:
        magnitude = np.abs(contribution)
        threshold = np.partition(magnitude, len(magnitude) - n)[len(magnitude) - n]
        candidates = np.nonzero(magnitude >= threshold)[0]
    order = np.lexsort((candidates, -np.abs(contribution[candidates])))
    return candidates[order][:n]


def rank_level(
    leaves: Leaves,
    depth: int,
    top_n: int,
    within: Segment = ROOT,
    total_contribution: float | None = None,
    dims: Sequence[int] | None = None,
    grouped: Mapping[Combo, Grouping] | None = None,
) -> Level:
    """Top ``top_n`` segments over every combination of ``depth`` free dimensions.

    ``grouped`` holds the combinations already grouped (``attribute_levels`` groups every
    level at once, so that each rolls up from a smaller one).
    """
    if total_contribution is None:
        total_contribution = total_stats(leaves, within).contribution
    free = list(dims) if dims is not None else free_dimensions(leaves, within)
    combos = list(combinations(free, depth))
    if grouped is None:
        grouped = group_many(leaves, combos, None if within.is_root else leaves.mask(within))
    candidates: list[tuple[float, int, tuple[int, ...], SegmentStats]] = []
    for combo_index, combo in enumerate(combos):
        g = grouped[combo]
        keys, actual, expected = g.keys, g.actual, g.expected
        rows = _top_rows(actual - expected, top_n)
        for row in rows:
            stats = leaves.stats(combo, keys, actual, expected, total_contribution, [row], within)[
                0
            ]
            sort_key = (-abs(stats.contribution), combo_index, tuple(int(c) for c in keys[row]))
            candidates.append((*sort_key, stats))
    candidates.sort(key=lambda c: (c[0], c[1], c[2]))
    return Level(depth, [c[3] for c in candidates[:top_n]])


@dataclass(frozen=True)
class LevelPlan:
    depth: int
    dims: list[int]  # dimensions at depth 1
    combo_dims: list[int]  # dimensions that take part in depth >= 2
    notes: tuple[str, ...]


def _count_combinations(n: int, depth: int) -> int:
    return sum(math.comb(n, k) for k in range(1, depth + 1))


def plan_levels(
    leaves: Leaves,
    combo_depth: int | None,
    within: Segment = ROOT,
    max_cardinality: int | None = DEFAULT_MAX_CARDINALITY,
    keep: Sequence[str] = (),
) -> LevelPlan:
    """Decide how deep to go and which dimensions to cross, explaining any limit applied."""
    if combo_depth is not None and combo_depth < 1:
        raise DataHunterError("--combo-depth must be at least 1")
    free = free_dimensions(leaves, within)
    if combo_depth is not None and combo_depth > len(free):
        raise DataHunterError(
            f"--combo-depth {combo_depth} is more than the {len(free)} dimensions in play"
        )
    notes: list[str] = []
    combo = list(free)
    if max_cardinality is not None:
        wide = [i for i in free if len(leaves.labels[i]) > max_cardinality
                and leaves.dimensions[i] not in keep]  # fmt: skip
        if wide:
            combo = [i for i in free if i not in wide]
            names = ", ".join(f"{leaves.dimensions[i]} ({len(leaves.labels[i]):,} values)"
                              for i in wide)  # fmt: skip
            notes.append(f"left out of combinations (over {max_cardinality:,} values; "
                         f"--max-cardinality to change): {names}")  # fmt: skip
    limit = max(len(combo), 1)
    depth = limit if combo_depth is None else min(combo_depth, limit)
    if combo_depth is not None and combo_depth > limit:
        notes.append(f"combinations stop at depth {limit}")
    while depth > 1 and _count_combinations(len(combo), depth) > MAX_COMBINATIONS:
        if combo_depth is not None:
            raise DataHunterError(
                f"--combo-depth {combo_depth} over {len(combo)} dimensions means "
                f"{_count_combinations(len(combo), combo_depth):,} combinations; "
                "use a smaller depth or fewer --dimensions"
            )
        depth -= 1
    if combo_depth is None and depth < limit:
        notes.append(
            f"depth capped at {depth} ({len(combo)} dimensions); pass --combo-depth to choose"
        )
    return LevelPlan(depth, free, combo, tuple(notes))


def attribute_levels(
    leaves: Leaves,
    top_n: int = 3,
    combo_depth: int | None = None,
    within: Segment = ROOT,
    plan: LevelPlan | None = None,
) -> list[Level]:
    """Levels 1..depth, each with its top ``top_n`` segments by |contribution|."""
    if top_n < 1:
        raise DataHunterError("--top-n must be at least 1")
    if plan is None:
        plan = plan_levels(leaves, combo_depth, within, max_cardinality=None)
    total = total_stats(leaves, within).contribution
    level_dims = {k: plan.dims if k == 1 else plan.combo_dims for k in range(1, plan.depth + 1)}
    combos = [c for k, dims in level_dims.items() for c in combinations(dims, k)]
    grouped = group_many(leaves, combos, None if within.is_root else leaves.mask(within))
    return [
        rank_level(leaves, k, top_n, within, total, dims, grouped) for k, dims in level_dims.items()
    ]


def children(
    leaves: Leaves,
    parent: Segment,
    total_contribution: float,
    dimensions: Sequence[str] | None = None,
) -> dict[str, list[SegmentStats]]:
    """The sub-segments of ``parent`` split by each remaining dimension, each list ranked by
    |contribution| (largest first, ties by value order).

    ``total_contribution`` is the scope's total, so that shares read as "of the whole change".
    """
    mask = leaves.mask(parent)
    fixed = set(parent.dimensions)
    names = [d for d in (dimensions or leaves.dimensions) if d not in fixed]
    out: dict[str, list[SegmentStats]] = {}
    for name in names:
        d = leaves.dim_index(name)
        keys, actual, expected = leaves.group([d], mask)
        rows = np.lexsort((np.arange(len(keys)), -np.abs(actual - expected)))
        out[name] = leaves.stats([d], keys, actual, expected, total_contribution, rows, parent)
    return out
