"""Rolled-up groupings (rollup.py) must equal grouping the leaves directly, for every
combination, whichever grouping each one was rolled up from."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_hunter.attribution import attribute_levels, plan_levels, rank_level
from data_hunter.leaves import Leaves, group_columns
from data_hunter.rollup import Grouping, _cover, group_many


@st.composite
def leaves_strategy(draw) -> Leaves:
    cards = draw(st.lists(st.integers(1, 40), min_size=1, max_size=6))
    n = draw(st.integers(0, 120))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    codes = np.asfortranarray(np.column_stack([rng.integers(0, c, n) for c in cards]), np.int32)
    # Small integers make most sums exact, and zeros test groups present with nothing in them.
    actual = rng.integers(-3, 6, n).astype(np.float64)
    expected = rng.integers(0, 6, n).astype(np.float64) / 4
    labels = tuple(tuple(f"v{i}" for i in range(c)) for c in cards)
    dims = tuple(f"d{j}" for j in range(len(cards)))
    return Leaves(dims, labels, codes.reshape(n, len(cards)), actual, expected)


def _assert_same(leaves: Leaves, combo, got, mask=None) -> None:
    keys, act, exp = leaves.group(combo, mask)
    np.testing.assert_array_equal(got.keys, keys)
    np.testing.assert_allclose(got.actual, act, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(got.expected, exp, rtol=1e-12, atol=1e-9)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(leaves_strategy(), st.integers(1, 4), st.booleans())
def test_every_rolled_up_grouping_equals_the_direct_one(leaves, depth, masked) -> None:
    n_dims = len(leaves.dimensions)
    depth = min(depth, n_dims)
    combos = [c for k in range(1, depth + 1) for c in itertools.combinations(range(n_dims), k)]
    mask = (leaves.codes[:, 0] % 2 == 0) if masked and leaves.n_leaves else None
    grouped = group_many(leaves, combos, mask)
    assert set(grouped) == set(combos)
    for combo in combos:
        _assert_same(leaves, combo, grouped[combo], mask)


def test_group_many_rolls_triples_up_from_parents_and_lower_levels_from_triples() -> None:
    cards = [3, 4, 5, 6, 7]
    top = list(itertools.combinations(range(5), 3))
    parents = _cover(top, cards, 5)
    # A parent is one dimension wider than the triples it serves, and serves at least two
    # (else grouping the leaves straight is cheaper).
    assert all(len(p) == 4 and set(c) <= set(p) for c, p in parents.items())
    served = {p: sum(1 for q in parents.values() if q == p) for p in parents.values()}
    assert min(served.values()) >= 2
    # Passes over the leaves: one per parent, one per triple left without a parent.
    passes = len(served) + len(set(top) - set(parents))
    assert passes <= 5 < len(top)


def test_no_parent_when_only_one_combination_is_wanted() -> None:
    assert _cover([(0, 1, 2)], [3, 4, 5, 6], 4) == {}


@pytest.mark.parametrize(
    "cards",
    [
        [3, 4],  # dense: few possible keys
        [100_000, 90_000],  # sorted: many more possible keys than rows
        [2**30, 2**25, 7],  # sorted with a 64-bit key
        [2**31 - 1] * 3,  # the key would overflow: rows of codes grouped as they are
    ],
)
def test_group_columns_agrees_across_its_three_strategies(cards) -> None:
    rng = np.random.default_rng(7)
    n = 500
    pool = [rng.integers(0, c, 6) for c in cards]  # few distinct values, so groups repeat
    columns = [p[rng.integers(0, 6, n)].astype(np.int64) for p in pool]
    actual = rng.integers(0, 10, n).astype(np.float64)
    expected = rng.integers(0, 10, n).astype(np.float64)
    keys, act, exp = group_columns(columns, cards, actual, expected)
    reference: dict[tuple[int, ...], list[float]] = {}
    for i in range(n):
        sums = reference.setdefault(tuple(int(c[i]) for c in columns), [0.0, 0.0])
        sums[0] += actual[i]
        sums[1] += expected[i]
    assert [tuple(int(v) for v in row) for row in keys] == sorted(reference)
    assert act.tolist() == [reference[k][0] for k in sorted(reference)]
    assert exp.tolist() == [reference[k][1] for k in sorted(reference)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(leaves_strategy(), st.integers(1, 4))
def test_levels_from_rollups_equal_levels_from_direct_groupings(leaves, top_n) -> None:
    plan = plan_levels(leaves, None)
    levels = attribute_levels(leaves, top_n, plan=plan)
    assert [level.depth for level in levels] == list(range(1, plan.depth + 1))
    for level in levels:
        dims = plan.dims if level.depth == 1 else plan.combo_dims
        direct = {
            c: Grouping(c, *leaves.group(c)) for c in itertools.combinations(dims, level.depth)
        }
        alone = rank_level(leaves, level.depth, top_n, dims=dims, grouped=direct)
        assert [s.segment for s in level.segments] == [s.segment for s in alone.segments]
        for a, b in zip(level.segments, alone.segments, strict=True):
            assert a.actual == pytest.approx(b.actual) and a.expected == pytest.approx(b.expected)
