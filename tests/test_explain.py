"""``explain`` on small hand-made cubes: one test per situation the issue lists."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pytest

from data_hunter.explain import Explanation, explain
from data_hunter.leaves import Leaves
from data_hunter.segment import Segment, Value

DIMS = {
    "country": ["BR", "DE", "FR", "US"],
    "device": ["android", "ios", "web"],
    "app_version": ["4.0", "4.1", "4.2"],
}


def cube(
    values: dict[str, list[str]],
    factors: Sequence[tuple[dict[str, str], float]] = (),
    base: float = 100.0,
    extra: Sequence[tuple[dict[str, str], float, float]] = (),
) -> Leaves:
    """Every combination of ``values`` expected at ``base``; leaves matching a factor's
    mapping have actual = expected x factor. ``extra`` adds (leaf, actual, expected) rows."""
    dims = tuple(values)
    rows: list[tuple[tuple[str, ...], float, float]] = []
    for combo in itertools.product(*(values[d] for d in dims)):
        leaf = dict(zip(dims, combo, strict=True))
        factor = 1.0
        for mapping, f in factors:
            if all(leaf[k] == v for k, v in mapping.items()):
                factor = f
        rows.append((combo, base * factor, base))
    for leaf, actual, expected in extra:
        rows.append((tuple(leaf[d] for d in dims), actual, expected))
    return build(dims, rows)


def build(dims: tuple[str, ...], rows: list[tuple[tuple[str, ...], float, float]]) -> Leaves:
    labels = tuple(
        tuple(sorted({r[0][j] for r in rows}))  # no NULLs here, so plain sort is "None last"
        for j in range(len(dims))
    )
    codes = np.array(
        [[labels[j].index(r[0][j]) for j in range(len(dims))] for r in rows], dtype=np.int32
    )
    actual = np.array([r[1] for r in rows], dtype=np.float64)
    expected = np.array([r[2] for r in rows], dtype=np.float64)
    return Leaves(dims, labels, codes, actual, expected)


def seg(leaves: Leaves, **mapping: Value) -> Segment:
    return Segment.of(dict(mapping), leaves.dimensions)


def segments(result: Explanation) -> list[Segment]:
    return [c.segment for c in result.root_causes]


def test_single_value_spike() -> None:
    leaves = cube(DIMS, [({"country": "BR"}, 2.0)])
    result = explain(leaves)
    assert segments(result) == [seg(leaves, country="BR")]
    cause = result.root_causes[0]
    # 9 BR leaves of 100 each doubled.
    assert cause.actual == pytest.approx(1800.0)
    assert cause.expected == pytest.approx(900.0)
    assert cause.contribution == pytest.approx(900.0)
    assert cause.share == pytest.approx(1.0)
    assert cause.change == pytest.approx(1.0)
    assert cause.score == pytest.approx(1.0)
    assert result.total_expected == pytest.approx(3600.0)
    assert result.total_actual == pytest.approx(4500.0)
    assert result.explained == pytest.approx(1.0)
    assert result.note is None


def test_dip() -> None:
    leaves = cube(DIMS, [({"device": "web"}, 0.4)])
    result = explain(leaves)
    assert segments(result) == [seg(leaves, device="web")]
    cause = result.root_causes[0]
    # 12 web leaves: expected 1200, actual 480.
    assert cause.contribution == pytest.approx(-720.0)
    assert cause.share == pytest.approx(1.0)
    assert cause.change == pytest.approx(-0.6)


def test_two_way_combination_outranks_its_parents() -> None:
    # Its parents country=BR and device=ios carry the same +600 (and the plain ranking
    # lists them first, being shallower); explain must name the combination.
    leaves = cube(DIMS, [({"country": "BR", "device": "ios"}, 3.0)])
    _, act, exp = leaves.group([0])
    assert (act - exp)[0] == pytest.approx(600.0)  # country=BR moved by the whole change
    result = explain(leaves)
    assert segments(result) == [seg(leaves, country="BR", device="ios")]
    cause = result.root_causes[0]
    # 3 leaves (app versions) of 100 tripled.
    assert cause.expected == pytest.approx(300.0)
    assert cause.contribution == pytest.approx(600.0)
    assert cause.share == pytest.approx(1.0)


def test_three_way_combination() -> None:
    leaves = cube(DIMS, [({"country": "US", "device": "android", "app_version": "4.2"}, 5.0)])
    result = explain(leaves)
    assert segments(result) == [seg(leaves, country="US", device="android", app_version="4.2")]
    assert result.root_causes[0].contribution == pytest.approx(400.0)


def test_single_leaf_cause_in_a_four_dimension_cube() -> None:
    values = {**DIMS, "channel": ["ads", "organic"]}
    leaf = {"country": "DE", "device": "web", "app_version": "4.0", "channel": "ads"}
    leaves = cube(values, [(leaf, 0.1)])
    result = explain(leaves)
    assert segments(result) == [seg(leaves, **leaf)]
    cause = result.root_causes[0]
    assert cause.expected == pytest.approx(100.0)
    assert cause.actual == pytest.approx(10.0)
    assert cause.change == pytest.approx(-0.9)


def test_two_causes_in_different_dimensions() -> None:
    leaves = cube(
        DIMS,
        [({"country": "BR"}, 2.0), ({"country": "US", "device": "android"}, 0.5)],
    )
    result = explain(leaves)
    # BR: +900; US & android: 3 leaves halved, -150. Total change +750.
    assert segments(result) == [
        seg(leaves, country="BR"),
        seg(leaves, country="US", device="android"),
    ]
    br, us = result.root_causes
    assert br.contribution == pytest.approx(900.0)
    assert br.share == pytest.approx(900.0 / 750.0)
    assert us.contribution == pytest.approx(-150.0)
    assert us.share == pytest.approx(-150.0 / 750.0)
    assert result.explained == pytest.approx(1.0)
    assert br.score is not None and us.score is not None and br.score > us.score


def test_five_simultaneous_causes_at_several_depths() -> None:
    values = {
        "country": ["BR", "DE", "FR", "IN", "US"],
        "device": ["android", "ios", "web"],
        "app_version": ["4.0", "4.1", "4.2", "4.3"],
    }
    causes = [
        ({"country": "BR"}, 2.0),  # 12 leaves, +1200
        ({"country": "US", "device": "ios"}, 0.5),  # 4 leaves, -200
        ({"country": "DE", "app_version": "4.2"}, 3.0),  # 3 leaves, +600
        ({"country": "FR", "device": "android", "app_version": "4.1"}, 0.0),  # 1 leaf, -100
        ({"country": "IN", "device": "web", "app_version": "4.0"}, 6.0),  # 1 leaf, +500
    ]
    leaves = cube(values, causes)
    result = explain(leaves, max_causes=5)
    assert set(segments(result)) == {seg(leaves, **m) for m, _ in causes}
    by_seg = {c.segment: c for c in result.root_causes}
    expected = [1200.0, -200.0, 600.0, -100.0, 500.0]
    for (mapping, _), contribution in zip(causes, expected, strict=True):
        cause = by_seg[seg(leaves, **mapping)]
        assert cause.contribution == pytest.approx(contribution)
        assert cause.share == pytest.approx(contribution / 2000.0)
    # Best first: the order follows the size of the change each one explains.
    assert segments(result)[0] == seg(leaves, country="BR")
    assert result.explained == pytest.approx(1.0)


def test_max_causes_caps_the_answer() -> None:
    leaves = cube(DIMS, [({"country": "BR"}, 2.0), ({"country": "US"}, 0.5)])
    result = explain(leaves, max_causes=1)
    assert segments(result) == [seg(leaves, country="BR")]
    assert result.explained == pytest.approx(900.0 / 450.0)


def test_cause_whose_parent_moved_a_little_too() -> None:
    # BR & ios tripled; the rest of BR rose 5 %: the cause is BR & ios, not BR.
    leaves = cube(DIMS, [({"country": "BR"}, 1.05), ({"country": "BR", "device": "ios"}, 3.0)])
    result = explain(leaves)
    assert segments(result) == [seg(leaves, country="BR", device="ios")]
    cause = result.root_causes[0]
    # Total change: 600 (BR & ios) + 6 leaves x 5 = 630.
    assert cause.contribution == pytest.approx(600.0)
    assert cause.share == pytest.approx(600.0 / 630.0)
    assert result.explained == pytest.approx(600.0 / 630.0)


def test_value_that_appeared() -> None:
    # app_version 4.3 did not exist in the baseline: expected 0 on its leaves.
    new = [
        ({"country": c, "device": d, "app_version": "4.3"}, 50.0, 0.0)
        for c in DIMS["country"]
        for d in ("android", "ios")
    ]
    leaves = cube(DIMS, extra=new)
    result = explain(leaves)
    assert segments(result) == [seg(leaves, app_version="4.3")]
    cause = result.root_causes[0]
    assert cause.expected == 0.0
    assert cause.actual == pytest.approx(400.0)
    assert cause.change is None
    assert cause.share == pytest.approx(1.0)


def test_value_that_vanished() -> None:
    leaves = cube(DIMS, [({"country": "FR"}, 0.0)])
    result = explain(leaves)
    assert segments(result) == [seg(leaves, country="FR")]
    cause = result.root_causes[0]
    assert cause.actual == 0.0
    assert cause.contribution == pytest.approx(-900.0)
    assert cause.change == pytest.approx(-1.0)
    assert cause.share == pytest.approx(1.0)


def noisy_cube(
    seed: int, factors: list[tuple[dict[str, str], float]], sigma: float = 0.05
) -> Leaves:
    """8 x 6 x 5 x 4 cube, lognormal levels, multiplicative noise on every leaf."""
    rng = np.random.default_rng(seed)
    values = {
        "country": [f"c{i}" for i in range(8)],
        "device": [f"d{i}" for i in range(6)],
        "app_version": [f"v{i}" for i in range(5)],
        "channel": [f"h{i}" for i in range(4)],
    }
    leaves = cube(values)
    n = leaves.n_leaves
    expected = 100.0 * rng.lognormal(0.0, 1.0, size=n)
    actual = expected * (1.0 + sigma * rng.standard_normal(n))
    for mapping, factor in factors:
        actual[leaves.mask(Segment.of(dict[str, Value](mapping), leaves.dimensions))] *= factor
    return Leaves(leaves.dimensions, leaves.labels, leaves.codes, actual, expected)


def test_noisy_data_finds_the_cause() -> None:
    mapping = {"country": "c3", "device": "d1"}
    leaves = noisy_cube(7, [(mapping, 1.8)])
    result = explain(leaves)
    cause_seg = Segment.of(dict[str, Value](mapping), leaves.dimensions)
    assert segments(result) == [cause_seg]
    mask = leaves.mask(cause_seg)
    cause = result.root_causes[0]
    assert cause.actual == pytest.approx(float(leaves.actual[mask].sum()))
    assert cause.expected == pytest.approx(float(leaves.expected[mask].sum()))
    assert cause.change == pytest.approx(0.8, abs=0.05)


def test_pure_noise_explains_nothing() -> None:
    leaves = noisy_cube(11, [])
    result = explain(leaves)
    assert result.root_causes == []
    assert result.explained == 0.0
    assert result.note == "no segment explains the change well"


def test_uniform_change_of_everything_is_not_a_segment() -> None:
    leaves = cube(DIMS, [({}, 1.3)])
    result = explain(leaves)
    assert result.root_causes == []
    assert result.note is not None and "uniformly" in result.note


def test_nothing_changed() -> None:
    result = explain(cube(DIMS))
    assert result.root_causes == []
    assert result.note == "nothing changed"


def test_answers_never_overlap() -> None:
    leaves = noisy_cube(
        3,
        [
            ({"country": "c0"}, 2.0),
            ({"country": "c1", "device": "d2"}, 0.3),
            ({"country": "c2", "device": "d0", "app_version": "v1"}, 3.0),
        ],
    )
    result = explain(leaves)
    masks = [leaves.mask(c.segment) for c in result.root_causes]
    assert len(masks) == 3
    for a, b in itertools.combinations(masks, 2):
        assert not (a & b).any()
