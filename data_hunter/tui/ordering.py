"""How the tree orders a segment's children, and which child dominates its parent (pure).

Three orders, cycled with ``o``:

* ``|contribution|``: how much of the change the segment carries (the default);
* ``relative change``: how far the segment moved against its own expectation; a segment
  that appeared from nothing (expected 0) comes first; ties by |contribution|;
* ``surprise``: ``|contribution| x log(1 + |relative change|)``: big *and* unusual segments
  first, so a large segment that merely grew with everything else ranks below a smaller one
  that moved a lot (a relative change is capped at x100 so a brand-new value stays finite).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from data_hunter.segment import SegmentStats

ORDERS: tuple[str, ...] = ("|contribution|", "relative change", "surprise")
MAX_CHANGE = 100.0
DOMINANT = 0.9


def relative_change(s: SegmentStats) -> float:
    """``|actual / expected - 1|``; ``inf`` for a segment that appeared (expected 0)."""
    change = s.change
    if change is None:
        return math.inf if s.contribution != 0 else 0.0
    return abs(change)


def surprise(s: SegmentStats) -> float:
    return abs(s.contribution) * math.log1p(min(relative_change(s), MAX_CHANGE))


def _key(order: str) -> Callable[[SegmentStats], tuple[float, float]]:
    if order == "relative change":
        return lambda s: (-relative_change(s), -abs(s.contribution))
    if order == "surprise":
        return lambda s: (-surprise(s), -abs(s.contribution))
    return lambda s: (-abs(s.contribution), 0.0)


def ordered(stats: Iterable[SegmentStats], order: str = ORDERS[0]) -> list[SegmentStats]:
    """``stats`` best first by ``order`` (stable: input order on ties)."""
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}")
    return sorted(stats, key=_key(order))


def next_order(order: str) -> str:
    return ORDERS[(ORDERS.index(order) + 1) % len(ORDERS)]


def parent_share(child: SegmentStats, parent: SegmentStats | None) -> float | None:
    """The fraction of the parent's change that ``child`` accounts for."""
    if parent is None or parent.contribution == 0:
        return None
    return child.contribution / parent.contribution


def dominant(child: SegmentStats, parent: SegmentStats | None) -> bool:
    """``child`` accounts for nearly all (>= 90%) of its parent's change."""
    share = parent_share(child, parent)
    return share is not None and share >= DOMINANT
