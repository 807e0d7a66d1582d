"""The analysed window held in memory: one row per leaf (a value of every dimension).

DuckDB reads the anomaly and baseline windows once; everything after that (levels, lazy
children, explanations) is a NumPy group-by over these integer-coded leaves. Measurements on
10M rows (../shared/notes/duckdb-performance.md) show this is 3x faster than the best pure-SQL
plan and makes a tree expansion cost tens of milliseconds instead of a table scan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from data_hunter.segment import Segment, SegmentStats, Value

# Above this many possible keys a combination is grouped with np.unique instead of bincount,
# so a 10^5-value dimension crossed with others never allocates a huge dense array.
_DENSE_LIMIT = 1 << 22


@dataclass(frozen=True)
class Leaves:
    """Leaf-level actual and expected values of one metric.

    ``labels[d][c]`` is the value behind code ``c`` of dimension ``d``; labels are sorted with
    NULL (``None``) last, so codes, and every tie-break built on them, do not depend on row order.
    """

    dimensions: tuple[str, ...]
    labels: tuple[tuple[Value, ...], ...]
    codes: np.ndarray  # (n_leaves, n_dims) int32
    actual: np.ndarray  # (n_leaves,) float64
    expected: np.ndarray  # (n_leaves,) float64

    @property
    def n_leaves(self) -> int:
        return int(self.codes.shape[0])

    def dim_index(self, dimension: str) -> int:
        return self.dimensions.index(dimension)

    def code_of(self, dimension: str, value: Value) -> int | None:
        """The code of ``value`` in ``dimension``, or None when the window never saw it."""
        labels = self.labels[self.dim_index(dimension)]
        try:
            return labels.index(value)
        except ValueError:
            return None

    def mask(self, segment: Segment) -> np.ndarray:
        """Boolean mask of the leaves inside ``segment``."""
        mask = np.ones(self.n_leaves, dtype=bool)
        for dimension, value in segment.conditions:
            code = self.code_of(dimension, value)
            if code is None:
                return np.zeros(self.n_leaves, dtype=bool)
            mask &= self.codes[:, self.dim_index(dimension)] == code
        return mask

    def subset(self, mask: np.ndarray) -> Leaves:
        return Leaves(
            self.dimensions, self.labels, self.codes[mask], self.actual[mask], self.expected[mask]
        )

    def totals(self) -> tuple[float, float]:
        return float(self.actual.sum()), float(self.expected.sum())

    def group(
        self, dims: Sequence[int], mask: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Group the (masked) leaves by the dimensions at positions ``dims``.

        Returns ``(keys, actual, expected)`` where ``keys`` is an ``(n_groups, len(dims))``
        code matrix, sorted by code, with only groups that hold at least one leaf.
        """
        codes = self.codes if mask is None else self.codes[mask]
        actual = self.actual if mask is None else self.actual[mask]
        expected = self.expected if mask is None else self.expected[mask]
        if len(dims) == 0:
            keys = np.zeros((1, 0), dtype=np.int32)
            return keys, np.array([actual.sum()]), np.array([expected.sum()])
        cards = [len(self.labels[d]) for d in dims]
        size = 1
        for c in cards:
            size *= max(c, 1)
        if size <= max(_DENSE_LIMIT, 4 * len(codes)):
            # Codes are stored column-major, so each codes[:, d] is a contiguous read.
            key = codes[:, dims[0]].astype(np.int64)
            for d, c in zip(dims[1:], cards[1:], strict=True):
                key *= c
                key += codes[:, d]
            act = np.bincount(key, weights=actual, minlength=size)
            exp = np.bincount(key, weights=expected, minlength=size)
            present = np.bincount(key, minlength=size) > 0
            flat = np.nonzero(present)[0]
            act, exp = act[flat], exp[flat]
        else:
            sub = codes[:, list(dims)]
            uniq, inverse = np.unique(sub, axis=0, return_inverse=True)
            inverse = inverse.reshape(-1)
            act = np.bincount(inverse, weights=actual, minlength=len(uniq))
            exp = np.bincount(inverse, weights=expected, minlength=len(uniq))
            return uniq.astype(np.int32), act, exp
        keys = np.empty((len(flat), len(dims)), dtype=np.int32)
        rest = flat
        for j in range(len(dims) - 1, -1, -1):
            keys[:, j] = rest % cards[j]
            rest = rest // cards[j]
        return keys, act, exp

    def segment_of(self, dims: Sequence[int], key_row: Sequence[int]) -> Segment:
        return Segment(
            tuple(
                (self.dimensions[d], self.labels[d][int(c)])
                for d, c in zip(dims, key_row, strict=True)
            )
        )

    def stats(
        self,
        dims: Sequence[int],
        keys: np.ndarray,
        actual: np.ndarray,
        expected: np.ndarray,
        total_contribution: float,
        rows: Sequence[int] | np.ndarray | None = None,
        base: Segment | None = None,
    ) -> list[SegmentStats]:
        """Turn grouped arrays into ``SegmentStats`` (optionally only ``rows``), prefixed by
        the conditions of ``base``."""
        idx = range(len(keys)) if rows is None else rows
        out = []
        for i in idx:
            seg = self.segment_of(dims, keys[i])
            if base is not None and not base.is_root:
                seg = Segment.of({**base.as_dict(), **seg.as_dict()}, self.dimensions)
            out.append(
                SegmentStats(
                    seg,
                    float(actual[i]),
                    float(expected[i]),
                    share_of(float(actual[i]) - float(expected[i]), total_contribution),
                )
            )
        return out


def share_of(contribution: float, total_contribution: float) -> float | None:
    if total_contribution == 0:
        return None
    return contribution / total_contribution
