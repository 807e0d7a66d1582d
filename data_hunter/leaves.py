"""The analysed window held in memory: one row per leaf (a value of every dimension).

DuckDB reads the anomaly and baseline windows once; everything after that (levels, lazy
children, explanations) is a NumPy group-by over these integer-coded leaves. Measurements on
10M rows (../shared/notes/duckdb-performance.md) show this is 3x faster than the best pure-SQL
plan and makes a tree expansion cost tens of milliseconds instead of a table scan.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from data_hunter.segment import Segment, SegmentStats, Value

# A group-by counts into one slot per possible key while there are at most this many
# possible keys per row (or _DENSE_MIN in all), and sorts the keys beyond: a 10^5-value
# dimension crossed with others, or a small grouping with many possible keys, never
# allocates a huge, mostly empty array.
_DENSE_MIN = 1 << 16
_DENSE_PER_ROW = 8
_KEY_LIMIT = 1 << 62


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
        # Codes are stored column-major, so each codes[:, d] is a contiguous read.
        columns = [codes[:, d] for d in dims]
        cards = [len(self.labels[d]) for d in dims]
        return group_columns(columns, cards, actual, expected)

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


def group_columns(
    columns: Sequence[np.ndarray],
    cards: Sequence[int],
    actual: np.ndarray,
    expected: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum ``actual`` and ``expected`` by the combined value of integer-coded ``columns``.

    Returns ``(keys, actual, expected)``: an ``(n_groups, len(columns))`` column-major code
    matrix sorted by code, and the sums, for groups holding at least one row. Codes of column
    ``j`` lie in ``[0, cards[j])``. This is the one group-by of the core: the leaves, and the
    smaller groupings rolled up from them, are all grouped here.
    """
    n = len(actual)
    if len(columns) == 0:
        keys = np.zeros((1, 0), dtype=np.int32)
        return keys, np.array([actual.sum()]), np.array([expected.sum()])
    size = math.prod(max(c, 1) for c in cards)
    if size >= _KEY_LIMIT:
        # The combined key would overflow int64: group the rows of codes themselves.
        sub = np.column_stack(columns)
        uniq, inverse = np.unique(sub, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        act = np.bincount(inverse, weights=actual, minlength=len(uniq))
        exp = np.bincount(inverse, weights=expected, minlength=len(uniq))
        return np.asfortranarray(uniq, dtype=np.int32), act, exp
    # Narrow arithmetic is about twice as fast; bincount wants the platform integer.
    narrow = np.int32 if size < 1 << 31 else np.int64
    key: np.ndarray[tuple[int], np.dtype[np.signedinteger]] = columns[0].astype(narrow)
    for column, c in zip(columns[1:], cards[1:], strict=True):
        key *= c
        key += column
    key = key.astype(np.intp)
    if size <= max(_DENSE_MIN, _DENSE_PER_ROW * n):
        # Few possible keys for the rows: count into one slot per possible key.
        act = np.bincount(key, weights=actual, minlength=size)
        exp = np.bincount(key, weights=expected, minlength=size)
        present = np.zeros(size, dtype=bool)
        present[key] = True
        flat = np.nonzero(present)[0]
        act, exp = act[flat], exp[flat]
    else:
        # Many more possible keys than rows (a wide dimension, or few rows): sort instead of
        # allocating a mostly empty array.
        flat, inverse = np.unique(key, return_inverse=True)
        inverse = inverse.reshape(-1)
        act = np.bincount(inverse, weights=actual, minlength=len(flat))
        exp = np.bincount(inverse, weights=expected, minlength=len(flat))
    keys = np.empty((len(flat), len(columns)), dtype=np.int32, order="F")
    rest = flat.astype(narrow)
    for j in range(len(columns) - 1, 0, -1):
        rest, keys[:, j] = np.divmod(rest, cards[j])
    keys[:, 0] = rest
    return keys, act, exp
