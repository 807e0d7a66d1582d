"""Values that every part of data-hunter passes around: a segment and its numbers.

A segment is a conjunction of ``dimension = value`` conditions. It is kept as a sorted-by-
dimension-order tuple so that two paths to the same segment (``country=BR`` then
``device=ios``, or the other way round) compare and hash equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Value = str | None
"""A dimension value. ``None`` is SQL NULL, which is a segment of its own."""

NULL_LABEL = "(null)"


def format_value(value: Value) -> str:
    return NULL_LABEL if value is None else value


@dataclass(frozen=True, order=True)
class Segment:
    """``dimension = value`` conditions; the empty segment is the whole table."""

    conditions: tuple[tuple[str, Value], ...] = ()

    @classmethod
    def of(cls, mapping: dict[str, Value], order: tuple[str, ...] | None = None) -> Segment:
        """Build from a mapping; ``order`` (the schema's dimension order) fixes the key order."""
        keys = list(mapping)
        if order is not None:
            rank = {d: i for i, d in enumerate(order)}
            keys.sort(key=lambda d: rank.get(d, len(rank)))
        return cls(tuple((k, mapping[k]) for k in keys))

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(d for d, _ in self.conditions)

    @property
    def depth(self) -> int:
        return len(self.conditions)

    @property
    def is_root(self) -> bool:
        return not self.conditions

    def as_dict(self) -> dict[str, Value]:
        return dict(self.conditions)

    def contains(self, other: Segment) -> bool:
        """True when every row of ``other`` is also a row of ``self``."""
        mine = self.as_dict()
        theirs = other.as_dict()
        return all(d in theirs and theirs[d] == v for d, v in mine.items())

    def label(self) -> str:
        """Human form: ``country=BR & device=ios``; the whole table is ``All``."""
        if not self.conditions:
            return "All"
        return " & ".join(f"{d}={format_value(v)}" for d, v in self.conditions)

    def __str__(self) -> str:
        return self.label()


ROOT = Segment()
"""The whole table (or the whole drilled-into scope)."""


@dataclass(frozen=True)
class SegmentStats:
    """One result row: a segment's actual, expected and contribution over a window pair.

    ``share`` is contribution / total contribution of the analysed scope, ``None`` when that
    total is exactly zero (a share of nothing is undefined, not 0 or infinity).
    """

    segment: Segment
    actual: float
    expected: float
    share: float | None = None
    score: float | None = field(default=None, compare=False)

    @property
    def contribution(self) -> float:
        return self.actual - self.expected

    @property
    def change(self) -> float | None:
        """Relative change against expected; ``None`` when nothing was expected."""
        if self.expected == 0:
            return None
        return self.contribution / abs(self.expected)
