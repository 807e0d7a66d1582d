"""The window cache: one scan of the anomaly and baseline windows, kept as NumPy leaves.

Every question the user asks about a window pair (levels, the children of any segment, an
explanation, another metric) is answered from this cache without touching the table again.
Building it is one DuckDB query returned as Arrow; the text dimensions are dictionary-encoded
by Arrow and re-coded so that codes follow the sorted values (NULL last), which makes every
ordering derived from them independent of row order.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from data_hunter import sql
from data_hunter.leaves import Leaves
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

    def nbytes(self) -> int:
        arrays = [self.codes, *self.actual.values(), *self.expected.values()]
        return sum(int(x.nbytes) for x in arrays)


def _encode(column: object) -> tuple[np.ndarray, tuple[Value, ...]]:
    """Arrow column -> (int32 codes, sorted labels with None last)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    assert isinstance(column, pa.ChunkedArray)
    encoded = pc.dictionary_encode(column).combine_chunks()
    dictionary = [v for v in encoded.dictionary.to_pylist()]
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    has_null = encoded.indices.null_count > 0
    order = sorted(range(len(dictionary)), key=lambda i: dictionary[i])
    remap = np.empty(len(dictionary) + 1, dtype=np.int32)
    remap[order] = np.arange(len(dictionary), dtype=np.int32)
    labels: list[Value] = [dictionary[i] for i in order]
    null_code = len(dictionary)
    remap[null_code] = null_code
    if has_null:
        labels.append(None)
        indices = pc.fill_null(encoded.indices, null_code).to_numpy(zero_copy_only=False)
    return remap[indices.astype(np.int64)], tuple(labels)


def _leaf_ids(codes: np.ndarray, cards: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Combine per-row codes into leaf ids: (leaf id per row, one row index per leaf).

    Leaf ids follow the lexicographic order of the codes, so they do not depend on row order.
    """
    n = codes.shape[0]
    key = np.zeros(n, dtype=np.int64)
    span = 1
    for j, card in enumerate(cards):
        card = max(card, 1)
        if span * card >= _KEY_LIMIT:
            # Re-number the keys seen so far densely, so the mixed radix never overflows.
            _, key = np.unique(key, return_inverse=True)
            key = key.reshape(-1).astype(np.int64)
            span = int(key.max()) + 1 if n else 1
        key *= card
        key += codes[:, j]
        span *= card
    uniq, inverse = np.unique(key, return_inverse=True)
    inverse = inverse.reshape(-1)
    # Any row of a leaf represents it; a scatter is much cheaper than return_index's stable sort.
    representative = np.empty(len(uniq), dtype=np.int64)
    representative[inverse] = np.arange(n, dtype=np.int64)
    return inverse, representative


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
    labels: list[tuple[Value, ...]] = []
    # Arrow's dictionary encoding releases the GIL: encode the dimensions on both cores.
    with ThreadPoolExecutor(max_workers=min(2, max(n_dims, 1))) as pool:
        encoded = list(pool.map(lambda j: _encode(table.column(j)), range(n_dims)))
    for j, (col_codes, col_labels) in enumerate(encoded):
        codes[:, j] = col_codes
        labels.append(col_labels)
    in_anomaly = table.column(n_dims).to_numpy().astype(bool)
    values = []
    nonfinite: dict[str, int] = {}
    for k, metric in enumerate(metrics):
        column = table.column(n_dims + 1 + k)
        vals = column.to_numpy().astype(np.float64)  # NULL arrives as NaN
        bad = ~np.isfinite(vals)
        nonfinite[metric] = int(bad.sum()) - column.null_count
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
    inverse, first = _leaf_ids(codes, [len(x) for x in labels])
    n_leaves = len(first)
    # One bincount per metric fills both windows: slot 2*leaf is the baseline, 2*leaf+1 actual.
    slot = inverse * 2 + in_anomaly
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
        windows, tuple(dimensions), tuple(labels), np.asfortranarray(codes[first]),
        actual, expected, n, within, nonfinite, int(in_anomaly.sum()),
    )  # fmt: skip
