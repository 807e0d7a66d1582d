"""Ranking segments by contribution: the levels of ``attribute`` and the tree's children.

Both work on ``Leaves`` (the window cache), so a level or a node expansion is a NumPy
group-by over at most a few hundred thousand leaves rather than a table scan.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from data_hunter.errors import DataHunterError
from data_hunter.leaves import Leaves, share_of
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
) -> Level:
    """Top ``top_n`` segments over every combination of ``depth`` free dimensions."""
    mask = None if within.is_root else leaves.mask(within)
    if total_contribution is None:
        total_contribution = total_stats(leaves, within).contribution
    free = list(dims) if dims is not None else free_dimensions(leaves, within)
    candidates: list[tuple[float, int, tuple[int, ...], SegmentStats]] = []
    for combo_index, combo in enumerate(combinations(free, depth)):
        keys, actual, expected = leaves.group(combo, mask)
        rows = _top_rows(actual - expected, top_n)
        for row in rows:
            stats = leaves.stats(combo, keys, actual, expected, total_contribution, [row], within)[
                0
            ]
            sort_key = (-abs(stats.contribution), combo_index, tuple(int(c) for c in keys[row]))
            candidates.append((*sort_key, stats))
    candidates.sort(key=lambda c: (c[0], c[1], c[2]))
    return Level(depth, [c[3] for c in candidates[:top_n]])


def attribute_levels(
    leaves: Leaves,
    top_n: int = 3,
    combo_depth: int | None = None,
    within: Segment = ROOT,
    dims: Sequence[int] | None = None,
) -> list[Level]:
    """Levels 1..combo_depth, each with its top ``top_n`` segments by |contribution|."""
    if top_n < 1:
        raise DataHunterError("--top-n must be at least 1")
    free = list(dims) if dims is not None else free_dimensions(leaves, within)
    if combo_depth is None:
        combo_depth = len(free)
    if combo_depth < 1:
        raise DataHunterError("--combo-depth must be at least 1")
    if combo_depth > len(free):
        raise DataHunterError(
            f"--combo-depth {combo_depth} is more than the {len(free)} dimensions in play"
        )
    total = total_stats(leaves, within).contribution
    return [rank_level(leaves, k, top_n, within, total, free) for k in range(1, combo_depth + 1)]


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


def ranked_children(
    leaves: Leaves,
    parent: Segment,
    total_contribution: float,
    dimensions: Sequence[str] | None = None,
) -> list[SegmentStats]:
    """All children of ``parent`` across dimensions in one list, ranked by |contribution|."""
    groups = children(leaves, parent, total_contribution, dimensions)
    merged = [s for stats in groups.values() for s in stats]
    merged.sort(key=lambda s: -abs(s.contribution))  # stable: dimension order breaks ties
    return merged
