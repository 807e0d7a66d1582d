"""Leaf numbering in the window cache (cube._leaf_ids): whatever path it takes (packed sort,
argsort for huge key spaces, re-numbering when the mixed radix would overflow), leaf ids
must equal the lexicographic rank of each row's codes."""

from __future__ import annotations

import numpy as np
import pytest

from data_hunter.cube import _leaf_ids, _sort_keys


def _reference(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniq, inverse = np.unique(codes, axis=0, return_inverse=True)
    return uniq, inverse.reshape(-1)


@pytest.mark.parametrize(
    ("cards", "n"),
    [
        ([3, 4, 5], 200),  # small key space
        ([1], 1),
        ([7, 1, 9], 0),  # no rows
        ([60_000] * 4, 5_000),  # 60000^4 ~ 1.3e19: the radix is re-numbered once
        ([2**31 - 1] * 5, 300),  # re-numbered repeatedly
    ],
)
def test_leaf_ids_are_lexicographic_ranks(cards, n) -> None:
    rng = np.random.default_rng(11)
    # Few distinct values per column so that leaves repeat.
    pools = [rng.integers(0, c, 4) for c in cards]
    codes = np.asfortranarray(
        np.column_stack([p[rng.integers(0, 4, n)] for p in pools]).reshape(n, len(cards)),
        dtype=np.int32,
    )
    leaves, leaf_codes = _leaf_ids(codes, cards)
    uniq, inverse = _reference(codes)
    np.testing.assert_array_equal(leaves.rank(), inverse)
    np.testing.assert_array_equal(codes[leaves.first], uniq.reshape(-1, len(cards)))
    np.testing.assert_array_equal(leaf_codes, uniq.reshape(-1, len(cards)))
    # Sorted order: leaf ids never decrease, and rows of one leaf keep their row order.
    assert np.all(np.diff(leaves.leaf) >= 0)
    np.testing.assert_array_equal(leaves.order, np.argsort(inverse, kind="stable"))


@pytest.mark.parametrize("span", [2**10, 2**50, 2**62 - 1])
def test_packed_sort_and_argsort_paths_agree(span) -> None:
    rng = np.random.default_rng(5)
    key = rng.integers(0, span, 50_000, dtype=np.int64) // 1000 * 1000  # repeats
    got = _sort_keys(key, span)
    uniq, inverse = np.unique(key, return_inverse=True)
    np.testing.assert_array_equal(got.rank(), inverse.reshape(-1))
    np.testing.assert_array_equal(key[got.first], uniq)
