"""The window cache: one scan of the anomaly and baseline windows, kept as NumPy leaves.

Every question the user asks about a window pair (levels, the children of any segment, an
explanation, another metric) is answered from this cache without touching the table again.
Building it is one DuckDB query returned as Arrow; the text dimensions are dictionary-encoded
by Arrow and re-coded so that codes follow the sorted values (NULL last), which makes every
ordering derived from them independent of row order.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from data_hunter import sql
from data_hunter.leaves import Leaves, group_columns
from data_hunter.segment import ROOT, Segment, Value
from data_hunter.windows import WindowPair

_KEY_LIMIT = 1 << 62


@dataclass(frozen=True)
class WindowCube:
    """Leaf sums of every loaded metric over the anomaly window and over the baseline."""

    windows: WindowPair
    dimensions: tuple[str, ...]
    labels: tuple[tuple[Value, ...], ...]
    codes: np.ndarray
    actual: dict[str, np.ndarray]
    expected: dict[str, np.ndarray]
    rows: int
    within: Segment = ROOT
    nonfinite: dict[str, int] | None = None  # NaN/Inf metric values counted as 0, per metric
    anomaly_rows: int = 0

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(self.actual)

    def leaves(self, metric: str) -> Leaves:
        return Leaves(
            self.dimensions, self.labels, self.codes, self.actual[metric], self.expected[metric]
        )

    def project(self, dimensions: Sequence[str]) -> WindowCube:
        """The cube over some of this cube's dimensions, summed from its leaves.

        Why: unchecking a dimension in the TUI would otherwise scan the window again (~0.5 s
        at 10M rows); this is a group-by over the leaves. The numbers are those a scan over
        ``dimensions`` gives, added in another order.
        """
        positions = [self.dimensions.index(d) for d in dimensions]
        columns = [self.codes[:, p] for p in positions]
        cards = [len(self.labels[p]) for p in positions]
        actual: dict[str, np.ndarray] = {}
        expected: dict[str, np.ndarray] = {}
        keys = None
        for metric in self.metrics:
            keys, actual[metric], expected[metric] = group_columns(
                columns, cards, self.actual[metric], self.expected[metric]
            )
        if keys is None:  # no metric: the leaves alone
            zeros = np.zeros(self.codes.shape[0])
            keys = group_columns(columns, cards, zeros, zeros)[0]
        return WindowCube(
            self.windows, tuple(dimensions), tuple(self.labels[p] for p in positions),
            np.asfortranarray(keys), actual, expected, self.rows, self.within, self.nonfinite,
            self.anomaly_rows,
        )  # fmt: skip

    def nbytes(self) -> int:
        arrays = [self.codes, *self.actual.values(), *self.expected.values()]
        return sum(int(x.nbytes) for x in arrays)


def _encode(column: object, out: np.ndarray) -> tuple[Value, ...]:
    """Arrow column -> int32 codes written to ``out``; returns the labels, sorted, None last."""
    import pyarrow as pa
    import pyarrow.compute as pc

    assert isinstance(column, pa.ChunkedArray)
    encoded = pc.dictionary_encode(column).combine_chunks()
    dictionary = [v for v in encoded.dictionary.to_pylist()]
    indices = encoded.indices
    order = sorted(range(len(dictionary)), key=lambda i: dictionary[i])
    remap = np.empty(len(dictionary) + 1, dtype=np.int32)
    remap[order] = np.arange(len(dictionary), dtype=np.int32)
    labels: list[Value] = [dictionary[i] for i in order]
    null_code = len(dictionary)
    remap[null_code] = null_code
    if indices.null_count > 0:
        labels.append(None)
        indices = pc.fill_null(indices, null_code)
    np.take(remap, indices.to_numpy(zero_copy_only=False), out=out)
    return tuple(labels)


@dataclass(frozen=True)
class _Sorted:
    """Rows sorted by leaf: ``order`` is the row permutation, ``leaf`` the leaf id of each
    sorted row (non-decreasing), ``first`` one row index per leaf."""

    order: np.ndarray
    leaf: np.ndarray
    first: np.ndarray
    keys: np.ndarray  # the distinct keys, in order

    def rank(self) -> np.ndarray:
        """The leaf id of each row, in row order."""
        rank = np.empty(len(self.order), dtype=self.leaf.dtype)
        rank[self.order] = self.leaf
        return rank


def _leaf_ids(codes: np.ndarray, cards: Sequence[int]) -> tuple[_Sorted, np.ndarray]:
    """Combine per-row codes into leaves: the rows sorted by leaf, and each leaf's codes.

    Leaf ids follow the lexicographic order of the codes, so they do not depend on row order.
    """
    n, n_dims = codes.shape
    key = np.zeros(n, dtype=np.int64)
    span = 1
    renumbered = False
    for j, card in enumerate(cards):
        card = max(card, 1)
        if span * card >= _KEY_LIMIT:
            # Re-number the keys seen so far densely, so the mixed radix never overflows.
            ranked = _sort_keys(key, span)
            key, span = ranked.rank().astype(np.int64), len(ranked.first)
            renumbered = True
        key *= card
        key += codes[:, j]
        span *= card
    rows = _sort_keys(key, span)
    leaf_codes = np.empty((len(rows.first), n_dims), dtype=np.int32, order="F")
    if renumbered:
        for j in range(n_dims):
            np.take(codes[:, j], rows.first, out=leaf_codes[:, j])
    elif n_dims:
        # The key is the codes in mixed radix: reading them back beats gathering rows.
        rest = rows.keys
        for j in range(n_dims - 1, 0, -1):
            rest, leaf_codes[:, j] = np.divmod(rest, max(cards[j], 1))
        leaf_codes[:, 0] = rest
    return rows, leaf_codes


def _sort_keys(key: np.ndarray, span: int) -> _Sorted:
    """Sort rows by ``key`` (in ``[0, span)``) and number the distinct keys in key order.

    When a key and a row index fit in 63 bits together they are packed into one integer and
    sorted by value: NumPy's vectorised sort of int64 is several times faster than the
    argsort inside ``np.unique(return_inverse=True)``. Rows of equal key keep their order.
    """
    n = len(key)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return _Sorted(empty, empty.astype(np.int32), empty, empty)
    shift = max(n - 1, 1).bit_length()
    if span > _KEY_LIMIT >> shift:
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
    else:
        packed = key << shift
        packed |= np.arange(n, dtype=np.int64)
        packed.sort()
        order = packed & ((1 << shift) - 1)
        packed >>= shift
        sorted_key = packed
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(sorted_key[1:], sorted_key[:-1], out=new[1:])
    leaf = np.cumsum(new, dtype=np.int32 if n < 1 << 31 else np.int64)
    np.subtract(leaf, 1, out=leaf)
    return _Sorted(order, leaf, order[new], sorted_key[new])


def build_cube(
    con: object,
    schema_relation: sql.Relation,
    dimensions: Sequence[str],
    dimension_is_text: Sequence[bool],
    metrics: Sequence[str],
    windows: WindowPair,
    within: Segment = ROOT,
) -> WindowCube:
    """Run the one window scan and aggregate it to leaves."""
    weekday = windows.kind == "same-weekday"
    query = sql.window_rows(
        schema_relation, dimensions, dimension_is_text, metrics,
        windows.anomaly.bounds(), windows.baseline.bounds(), within.conditions, weekday,
    )  # fmt: skip
    table = con.sql(query.text, params=query.params).to_arrow_table()  # type: ignore[attr-defined]
    n = table.num_rows
    n_dims = len(dimensions)
    codes = np.empty((n, n_dims), dtype=np.int32, order="F")
    # Arrow's dictionary encoding releases the GIL: encode the dimensions on every core.
    with ThreadPoolExecutor(max_workers=max(1, min(os.cpu_count() or 2, n_dims))) as pool:
        labels = list(pool.map(lambda j: _encode(table.column(j), codes[:, j]), range(n_dims)))
    in_anomaly = table.column(n_dims).to_numpy().astype(bool)
    values = []
    nonfinite: dict[str, int] = {}
    for k, metric in enumerate(metrics):
        column = table.column(n_dims + 1 + k)
        vals = np.asarray(column.to_numpy(), dtype=np.float64)  # NULL arrives as NaN
        bad = ~np.isfinite(vals)
        n_bad = int(bad.sum())
        nonfinite[metric] = n_bad - column.null_count
        if n_bad:
            vals = vals.copy()  # Arrow's buffer may be read-only
            vals[bad] = 0.0
        values.append(vals)
    # Each baseline row's weight in expected: 1 (the sum is scaled by the period ratio below),
    # or a per-day weight for the same-weekday baseline.
    if weekday:
        days = table.column(table.num_columns - 1).to_numpy(zero_copy_only=False)
        offset = days.astype("datetime64[D]") - np.datetime64(windows.baseline.start, "D")
        day_weights = np.asarray(windows.baseline_day_weights(), dtype=np.float64)
        idx = np.clip(offset.astype(np.int64), 0, len(day_weights) - 1)
        row_weight: np.ndarray | None = np.where(in_anomaly, 1.0, day_weights[idx])
    else:
        row_weight = None
    rows, leaf_codes = _leaf_ids(codes, [len(x) for x in labels])
    n_leaves = len(rows.first)
    # One bincount per metric fills both windows: slot 2*leaf is the baseline, 2*leaf+1 actual.
    slot = rows.rank().astype(np.int64)
    slot *= 2
    slot += in_anomaly
    a, b = windows.anomaly.periods, windows.baseline.periods
    actual: dict[str, np.ndarray] = {}
    expected: dict[str, np.ndarray] = {}
    for metric, vals in zip(metrics, values, strict=True):
        weights = vals if row_weight is None else vals * row_weight
        both = np.bincount(slot, weights=weights, minlength=2 * n_leaves).reshape(n_leaves, 2)
        actual[metric] = np.ascontiguousarray(both[:, 1])
        # Sum first, then scale by whole numbers, so hand-computable cases stay exact.
        expected[metric] = both[:, 0] * a / b if row_weight is None else both[:, 0].copy()
    return WindowCube(
        windows, tuple(dimensions), tuple(labels), leaf_codes,
        actual, expected, n, within, nonfinite, int(in_anomaly.sum()),
    )  # fmt: skip
