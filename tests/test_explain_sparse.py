"""``explain`` on sparse event data: Poisson leaves with small means, a hierarchy."""

from __future__ import annotations

import numpy as np
import pytest

from data_hunter.explain import explain
from data_hunter.leaves import Leaves
from data_hunter.segment import Segment

DIMS = ("country", "region", "device", "channel", "plan")


def event_leaves(
    factors: dict[tuple[str, str], float] | None = None,
    everywhere: float = 1.0,
    seed: int = 0,
    days: int = 28,
) -> Leaves:
    """12 countries with 4 regions each, 3 devices, 8 channels, 2 plans: 2,304 leaves
    sharing 1,500 events a day (most leaves get none); expected = the mean of ``days``
    Poisson baseline days; actual = one Poisson day with the rates of the leaves matching
    ``factors`` scaled, and everything by ``everywhere``."""
    rng = np.random.default_rng(seed)
    grid = np.meshgrid(np.arange(12), np.arange(4), np.arange(3), np.arange(8), np.arange(2))
    c, r, d, ch, p = (g.reshape(-1) for g in grid)
    codes = np.stack([c, 4 * c + r, d, ch, p], axis=1).astype(np.int32)
    w = (
        (1.0 / np.arange(1, 13) ** 0.7)[c]
        * np.array([1.0, 0.6, 0.4, 0.3])[r]
        * np.array([0.5, 0.3, 0.2])[d]
        * (1.0 / np.arange(1, 9) ** 0.8)[ch]
        * np.array([0.7, 0.3])[p]
    )
    rate = 1500.0 * w / w.sum()
    labels = (
        tuple(f"C{i:02d}" for i in range(12)),
        tuple(f"C{i:02d}-R{j}" for i in range(12) for j in range(4)),
        ("android", "ios", "web"),
        tuple(f"ch{i}" for i in range(8)),
        ("free", "paid"),
    )
    expected = rng.poisson(rate, size=(days, len(rate))).mean(axis=0)
    scale = np.full(len(rate), everywhere)
    for (dim, value), f in (factors or {}).items():
        j = DIMS.index(dim)
        scale[codes[:, j] == labels[j].index(value)] *= f
    actual = rng.poisson(rate * scale).astype(np.float64)
    keep = (expected > 0) | (actual > 0)
    return Leaves(DIMS, labels, codes[keep], actual[keep], expected[keep])


def test_event_leaves_are_sparse() -> None:
    leaves = event_leaves()
    pos = leaves.expected > 0
    assert np.mean(leaves.actual[pos] == 0) > 0.5


@pytest.mark.parametrize("seed", range(5))
def test_pure_noise_finds_nothing(seed: int) -> None:
    result = explain(event_leaves(seed=seed))
    assert result.root_causes == []
    assert result.note is not None


@pytest.mark.parametrize("seed", range(3))
def test_country_spike_is_found_exactly(seed: int) -> None:
    result = explain(event_leaves({("country", "C01"): 4.0}, seed=seed))
    assert [c.segment for c in result.root_causes][:1] == [Segment((("country", "C01"),))]
    assert len(result.root_causes) <= 2


def test_region_dip_is_the_region_not_country_and_region() -> None:
    # The region holds the same rows as "country & region": the shallower one is the answer.
    result = explain(event_leaves({("region", "C00-R0"): 0.0}, seed=1))
    assert result.root_causes
    assert result.root_causes[0].segment == Segment((("region", "C00-R0"),))


def test_uniform_move_is_a_note_with_the_right_ratio() -> None:
    result = explain(event_leaves(everywhere=1.6, seed=2))
    assert result.root_causes == []
    assert result.note is not None and "uniformly" in result.note
    ratio = result.total_actual / result.total_expected
    assert f"(x{ratio:.3g})" in result.note and 1.45 < ratio < 1.75
