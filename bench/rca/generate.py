"""Synthetic root-cause cases for benchmarking ``data_hunter.explain``.

After the Squeeze paper and RiskLoc's S / L datasets (shaido987/riskloc ``generate_dataset.py``):

* 4-5 dimensions of 5-30 values; a random subset of the value combinations exists (RiskLoc's
  zero rate, 0-25 %), at most 20k leaves (size S) or 100k (L and sparse; see ``SIZES``).
* Skewed baseline: a leaf's level is the product of Zipf-like weights of its values times a
  Weibull(alpha in [0.5, 1]) factor (RiskLoc's "real" distribution).
* Days: 7-28 baseline days and one anomaly day; every leaf value of every day carries
  multiplicative Gaussian noise ``1 + sigma * eps`` at the case's noise level ``sigma``.
* 1-5 root causes (or 0 for pure-noise cases), each of a random depth from 1 to all
  dimensions, pairwise non-overlapping (any two share a dimension with different values).
  A cause is drawn size-biased (a leaf picked with probability proportional to its level,
  then its values on the cause's dimensions), and must hold at least 0.1 % of the total.
  Every leaf under a cause is scaled by one factor: a dip ``1 - min(1, s + sigma)`` or a
  spike ``1 + s' + sigma`` with ``s ~ U(0.3, 1)``, ``s' ~ U(0.3, 2)`` (RiskLoc adds the noise
  level to the severity the same way); a quarter of the dips go to exactly 0 (the value
  vanished). With probability 0.2 a case's first cause is a *new value* of a dimension
  (expected 0): the other causes of that case then constrain that dimension too, so that
  they do not overlap it.

Usage: ``python bench/rca/generate.py --out DIR --seed 0 --cases-per-group N`` writes one
DuckDB file per case (table ``records``: ``session_date`` DATE, one VARCHAR column per
dimension, ``value`` DOUBLE) and ``cases.json`` with the ground truth.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

NOISE_LEVELS = (0.02, 0.05, 0.1, 0.2)
N_CAUSES = (0, 1, 2, 3, 4, 5)
SIZES = {"S": 20_000, "L": 100_000, "sparse": 100_000, "poisson": 0}
"""Leaf budget per size. S and L cubes are at least a third full (like RiskLoc's S / L with
their 0-25 % zero rate); ``sparse`` samples its leaves from a cube of up to 30^5 cells, so a
deep cause often holds the same rows as a shallower segment (the truth is then the shallower
one, see ``_canonical``). ``poisson`` is event data like the built-in demo (see
``generate_poisson_case``): its leaf budget is not used."""
MIN_CAUSE_SHARE = 0.001
ANOMALY_DAY = dt.date(2026, 11, 30)


@dataclass
class Case:
    case_id: str
    n_causes: int
    noise: float
    size: str
    dimensions: tuple[str, ...]
    labels: tuple[tuple[str, ...], ...]  # sorted per dimension
    codes: np.ndarray  # (n_leaves, n_dims) int32
    baseline: np.ndarray  # (n_days, n_leaves) daily leaf values; 0 where the leaf is absent
    anomaly: np.ndarray  # (n_leaves,) anomaly-day leaf values
    causes: list[dict[str, str]]
    cause_info: list[dict[str, object]] = field(default_factory=list)

    @property
    def n_leaves(self) -> int:
        return int(self.codes.shape[0])

    def expected(self) -> np.ndarray:
        """Mean baseline-day value x 1 anomaly day (the product's expected)."""
        return np.asarray(self.baseline.mean(axis=0), dtype=np.float64)


def _zipf_weights(rng: np.random.Generator, card: int) -> np.ndarray:
    w = 1.0 / np.arange(1, card + 1) ** rng.uniform(0.5, 1.2)
    return np.asarray(rng.permutation(w))


def _cardinalities(rng: np.random.Generator, n_dims: int, target: int) -> list[int]:
    """5-30 values per dimension, the full cube at most 3x the leaf budget (so the cube is
    at least a third full and a single leaf is usually its own deepest segment)."""
    for _ in range(1000):
        cards = [int(rng.integers(5, 31)) for _ in range(n_dims)]
        if math.prod(cards) <= 3 * target:
            return cards
    return [5] * n_dims


def _sample_leaves(rng: np.random.Generator, cards: list[int], target: int) -> np.ndarray:
    total = math.prod(cards)
    zero_rate = rng.uniform(0.0, 0.25)
    n = max(min(int(total * (1 - zero_rate)), target), 1)
    if total <= 4 * target:
        flat = np.sort(rng.choice(total, size=n, replace=False))
    else:
        flat = np.unique(rng.integers(0, total, size=int(n * 1.2)))
        flat = np.sort(rng.permutation(flat)[:n])
    codes = np.empty((len(flat), len(cards)), dtype=np.int32)
    rest = flat
    for j in range(len(cards) - 1, -1, -1):
        codes[:, j] = rest % cards[j]
        rest = rest // cards[j]
    return codes


def _disjoint(a: dict[int, int], b: dict[int, int]) -> bool:
    return any(d in b and b[d] != c for d, c in a.items())


def _draw_element(
    rng: np.random.Generator,
    codes: np.ndarray,
    level: np.ndarray,
    appear: np.ndarray,
    total: float,
    n_dims: int,
    max_depth: int,
    forced_dim: int | None,
    causes: list[dict[int, int]],
) -> tuple[dict[int, int], np.ndarray] | None:
    """A candidate cause: the values of a random set of dimensions (including ``forced_dim``)
    at a leaf drawn by size, and its leaf mask; None when it overlaps an existing cause."""
    depth = int(rng.integers(1, max_depth + 1))
    chosen = sorted(rng.choice(n_dims, size=depth, replace=False).tolist())
    if forced_dim is not None and forced_dim not in chosen:
        chosen = sorted([*chosen[1:], forced_dim]) if depth > 1 else [forced_dim]
    leaf = int(rng.choice(len(codes), p=np.where(appear, 0.0, level) / total))
    element = {d: int(codes[leaf, d]) for d in chosen}
    if not all(_disjoint(element, c) for c in causes):
        return None
    mask = np.ones(len(codes), dtype=bool)
    for d, c in element.items():
        mask &= codes[:, d] == c
    return element, mask


def _factor(rng: np.random.Generator, sigma: float) -> tuple[float, str]:
    if rng.random() < 0.5:
        if rng.random() < 0.25:
            return 0.0, "vanished"
        return 1.0 - min(1.0, rng.uniform(0.3, 1.0) + sigma), "dip"
    return 1.0 + rng.uniform(0.3, 2.0) + sigma, "spike"


def generate_case(
    seed: int, index: int, n_causes: int, noise: float, size: str, new_value: bool | None = None
) -> Case:
    rng = np.random.default_rng([seed, index, n_causes, int(noise * 1000), sum(map(ord, size))])
    if size == "poisson":
        return generate_poisson_case(rng, seed, index, n_causes, noise, new_value)
    n_dims = int(rng.integers(4, 6))
    dims = tuple("abcdefg"[:n_dims])
    if size == "sparse":
        cards = [int(rng.integers(5, 31)) for _ in range(n_dims)]
    else:
        cards = _cardinalities(rng, n_dims, SIZES[size])
    codes = _sample_leaves(rng, cards, SIZES[size])
    n = len(codes)
    level = np.ones(n)
    for j, card in enumerate(cards):
        level *= _zipf_weights(rng, card)[codes[:, j]]
    level *= rng.weibull(rng.uniform(0.5, 1.0), size=n) + 1e-3
    level *= 1e6 / level.sum()
    n_days = int(rng.integers(7, 29))
    labels = [[f"{d}{i:02d}" for i in range(card)] for d, card in zip(dims, cards, strict=True)]

    if new_value is None:
        new_value = n_causes > 0 and rng.random() < 0.2
    causes: list[dict[int, int]] = []
    info: list[dict[str, object]] = []
    factor = np.ones(n)
    appear = np.zeros(n, dtype=bool)
    forced_dim: int | None = None
    if new_value and n_causes > 0:
        # A new value of one dimension: leaves that copy the other codes of random leaves.
        d = int(rng.integers(0, n_dims))
        forced_dim = d
        m = max(5, n // 100)
        src = rng.choice(n, size=m, replace=False)
        new_codes = codes[src].copy()
        new_codes[:, d] = cards[d]
        labels[d].append(f"{dims[d]}_new")
        cards[d] += 1
        share = rng.uniform(0.02, 0.2)
        new_level = rng.weibull(0.7, size=m) + 1e-3
        new_level *= share * level.sum() / new_level.sum()
        codes = np.vstack([codes, new_codes])
        level = np.concatenate([level, new_level])  # the anomaly-day level of the new leaves
        appear = np.concatenate([np.zeros(n, dtype=bool), np.ones(m, dtype=bool)])
        factor = np.ones(n + m)
        causes.append({d: cards[d] - 1})
        info.append({"depth": 1, "kind": "new", "factor": None})
        n = n + m
    total = level[~appear].sum()

    tries = 0
    while len(causes) < n_causes and tries < 2000:
        tries += 1
        drawn = _draw_element(rng, codes, level, appear, total, n_dims, n_dims, forced_dim, causes)
        if drawn is None:
            continue
        element, mask = drawn
        if level[mask].sum() < MIN_CAUSE_SHARE * total:
            continue
        r, kind = _factor(rng, noise)
        factor[mask] = r
        causes.append(element)
        info.append({"depth": len(element), "kind": kind, "factor": round(r, 4)})
    if len(causes) < n_causes:
        raise RuntimeError(f"could not place {n_causes} causes (case {index})")

    def day(values: np.ndarray) -> np.ndarray:
        return np.asarray(values * np.maximum(0.0, 1.0 + noise * rng.standard_normal(values.shape)))

    baseline = day(np.broadcast_to(level, (n_days, n)).copy())
    baseline[:, appear] = 0.0
    anomaly_level = np.where(appear, level, level * factor)
    anomaly = day(anomaly_level)

    causes = [_canonical(codes, el) for el in causes]
    for el, inf in zip(causes, info, strict=True):
        inf["depth"] = len(el)
    # Labels are sorted already (the new value sorts last); name the causes.
    str_labels = tuple(tuple(lab) for lab in labels)
    named = [{dims[d]: str_labels[d][c] for d, c in sorted(el.items())} for el in causes]
    case_id = f"s{seed}-{size}-k{n_causes}-n{noise:g}-{index}"
    return Case(
        case_id,
        n_causes,
        noise,
        size,
        dims,
        str_labels,
        codes.astype(np.int32),
        baseline,
        anomaly,
        named,
        info,
    )


POISSON_INDEX = 100_000  # first case index of the poisson group (see ``iter_cases``)
POISSON_DIMS = ("country", "region", "device", "version", "channel", "plan")
POISSON_MIN_SHARE = 0.02  # of the anomaly day's expected total
POISSON_MIN_EVENTS = 30.0  # expected events on the anomaly day


def generate_poisson_case(
    rng: np.random.Generator,
    seed: int,
    index: int,
    n_causes: int,
    noise: float,
    new_value: bool | None,
) -> Case:
    """Event data like the built-in demo: sparse, Poisson leaves and hierarchical dimensions.

    * Six dimensions: country (8-30 values, Zipf), region (each belongs to one country; 2-12
      per country), device (3; the third, ``device2``, is "web"), version (5-13 values; web
      always has version ``web``), channel (4-7), plan (2). Every leaf is a combination that
      can exist; value probabilities are independent given the hierarchy.
    * Per day, 2k-8k events spread over the leaves (most leaves get 0-2 events a day): leaf
      counts are Poisson around ``level x (1 + noise x eps)`` (the noise level adds
      over-dispersion). Half the cases sum an event value (lognormal, heavy-tailed, like
      revenue) instead of counting events.
    * 28 baseline days and one anomaly day that moves as a whole by a factor U(0.93, 1.1)
      (a weekday, a trend), on top of the causes.
    * Causes: depth 1-3, drawn size-biased, non-overlapping, each at least
      ``POISSON_MIN_SHARE`` of the day and ``POISSON_MIN_EVENTS`` events; every leaf under a
      cause has its event rate scaled by one factor (``_factor``); 20 % of the cases with
      causes have a new channel or country value instead of their first cause. The truth is
      canonical (a region is the shallowest segment for "country & region").
    """
    n_countries = int(rng.integers(8, 31))
    country_w = _zipf_weights(rng, n_countries)
    country_w /= country_w.sum()
    region_country: list[int] = []
    region_w: list[float] = []
    for k in range(n_countries):
        m = int(rng.integers(2, 13))
        w = 1.0 / np.arange(1, m + 1) ** 0.8
        region_country.extend([k] * m)
        region_w.extend((country_w[k] * w / w.sum()).tolist())
    n_versions = int(rng.integers(5, 14))  # the last one is "web"
    n_channels = int(rng.integers(4, 8))
    device_w = np.array([0.44, 0.36, 0.2])
    version_w = _zipf_weights(rng, n_versions - 1)
    version_w /= version_w.sum()
    channel_w = _zipf_weights(rng, n_channels)
    channel_w /= channel_w.sum()
    plan_w = np.array([0.7, 0.3])
    rows = []
    prob = []
    for r, w_r in enumerate(region_w):
        for dev in range(3):
            versions = [n_versions - 1] if dev == 2 else list(range(n_versions - 1))
            for ver in versions:
                w_v = 1.0 if dev == 2 else version_w[ver]
                for ch in range(n_channels):
                    for pl in range(2):
                        rows.append((region_country[r], r, dev, ver, ch, pl))
                        prob.append(w_r * device_w[dev] * w_v * channel_w[ch] * plan_w[pl])
    codes = np.array(rows, dtype=np.int32)
    p = np.array(prob)
    p /= p.sum()
    per_day = rng.uniform(2000, 8000)
    level = per_day * p  # expected events per leaf per day
    cards = [n_countries, len(region_w), 3, n_versions, n_channels, 2]
    labels = [
        [f"country{i:02d}" for i in range(n_countries)],
        [f"region{i:03d}" for i in range(len(region_w))],
        ["device0", "device1", "device2"],
        [f"version{i:02d}" for i in range(n_versions - 1)] + ["web"],
        [f"channel{i}" for i in range(n_channels)],
        ["plan0", "plan1"],
    ]
    amounts = bool(rng.random() < 0.5)
    n = len(codes)

    if new_value is None:
        new_value = n_causes > 0 and rng.random() < 0.2
    causes: list[dict[int, int]] = []
    info: list[dict[str, object]] = []
    factor = np.ones(n)
    appear = np.zeros(n, dtype=bool)
    forced_dim: int | None = None
    if new_value and n_causes > 0:
        # A new channel (or country): a copy of one value's leaves under a new label.
        d = 4 if rng.random() < 0.6 else 0
        forced_dim = d
        src = np.nonzero(codes[:, d] == 0)[0]
        new_codes = codes[src].copy()
        new_codes[:, d] = cards[d]
        if d == 0:
            # A new country has new regions of its own.
            old_regions = np.unique(new_codes[:, 1])
            remap = {int(r): cards[1] + i for i, r in enumerate(old_regions)}
            new_codes[:, 1] = [remap[int(r)] for r in new_codes[:, 1]]
            labels[1].extend(f"region_new{i:03d}" for i in range(len(old_regions)))
            cards[1] += len(old_regions)
        labels[d].append(f"{POISSON_DIMS[d]}_new")
        cards[d] += 1
        share = rng.uniform(0.05, 0.25)
        new_level = level[src] * share * per_day / level[src].sum()
        codes = np.vstack([codes, new_codes])
        level = np.concatenate([level, new_level])
        appear = np.concatenate([appear, np.ones(len(src), dtype=bool)])
        factor = np.ones(len(codes))
        causes.append({d: cards[d] - 1})
        info.append({"depth": 1, "kind": "new", "factor": None})
        n = len(codes)
    total = float(level[~appear].sum())

    tries = 0
    fixed_causes, fixed_info = list(causes), list(info)
    while len(causes) < n_causes and tries < 20_000:
        tries += 1
        if tries % 500 == 0:
            # Stuck (the first causes leave no room): start over.
            causes, info = list(fixed_causes), list(fixed_info)
            factor = np.ones(n)
        drawn = _draw_element(
            rng, codes, level, appear, total, len(POISSON_DIMS), 3, forced_dim, causes
        )
        if drawn is None:
            continue
        element, mask = drawn
        lv = float(level[mask].sum())
        if lv < POISSON_MIN_SHARE * total or lv < POISSON_MIN_EVENTS or lv > 0.5 * total:
            continue
        r, kind = _factor(rng, noise)
        factor[mask] = r
        causes.append(element)
        info.append({"depth": len(element), "kind": kind, "factor": round(r, 4)})
    if len(causes) < n_causes:
        raise RuntimeError(f"could not place {n_causes} causes (case {index})")

    n_days = 28
    global_factor = rng.uniform(0.93, 1.1)

    def day(rate: np.ndarray) -> np.ndarray:
        lam = rate * np.maximum(0.0, 1.0 + noise * rng.standard_normal(rate.shape))
        counts = rng.poisson(lam)
        if not amounts:
            return counts.astype(np.float64)
        # Sum of per-event values (heavy-tailed, like revenue).
        flat = counts.reshape(-1)
        owner = np.repeat(np.arange(len(flat)), flat)
        values = rng.lognormal(1.0, 0.8, len(owner))
        out = np.bincount(owner, weights=values, minlength=len(flat))
        return np.asarray(out.reshape(counts.shape))

    baseline_rate = np.broadcast_to(np.where(appear, 0.0, level), (n_days, n)).copy()
    baseline = day(baseline_rate)
    anomaly = day(np.where(appear, level, level * factor) * global_factor)
    # Leaves that no row ever reached do not exist in the data.
    seen = (baseline.sum(axis=0) > 0) | (anomaly > 0)
    codes, baseline, anomaly = codes[seen], baseline[:, seen], anomaly[seen]

    causes = [_canonical(codes, el) for el in causes]
    for el, inf in zip(causes, info, strict=True):
        inf["depth"] = len(el)
    str_labels = tuple(tuple(lab) for lab in labels)
    named = [{POISSON_DIMS[d]: str_labels[d][c] for d, c in sorted(el.items())} for el in causes]
    case_id = f"s{seed}-poisson-k{n_causes}-n{noise:g}-{index}"
    return Case(
        case_id, n_causes, noise, "poisson", POISSON_DIMS, str_labels,
        codes.astype(np.int32), baseline, anomaly, named, info,
    )  # fmt: skip


def _canonical(codes: np.ndarray, element: dict[int, int]) -> dict[int, int]:
    """The shallowest segment holding exactly the same leaves as ``element``.

    In a sparse cube a deep cause can hold the same rows as a shallower segment; no method
    can tell the two apart from the data, so the ground truth is the succinct one (the first
    in dimension order among equally shallow ones, the order ``explain`` breaks ties in).
    """
    mask = np.logical_and.reduce([codes[:, d] == c for d, c in element.items()])
    rows = codes[mask]
    common = [d for d in range(codes.shape[1]) if (rows[:, d] == rows[0, d]).all()]
    count = int(mask.sum())
    for depth in range(1, len(element) + 1):
        for subset in itertools.combinations(common, depth):
            sub = np.logical_and.reduce([codes[:, d] == rows[0, d] for d in subset])
            if int(sub.sum()) == count:
                return {d: int(rows[0, d]) for d in subset}
    return element


def iter_cases(seed: int, cases_per_group: int) -> Iterator[Case]:
    """All groups: number of causes x noise level x size, ``cases_per_group`` each.

    The ``poisson`` cases count their own indices (from ``POISSON_INDEX``), so the S / L /
    sparse cases stay the ones the results were first measured on."""
    index = 0
    poisson_index = POISSON_INDEX
    for n_causes in N_CAUSES:
        for noise in NOISE_LEVELS:
            for size in SIZES:
                for _ in range(cases_per_group):
                    if size == "poisson":
                        yield generate_case(seed, poisson_index, n_causes, noise, size)
                        poisson_index += 1
                    else:
                        yield generate_case(seed, index, n_causes, noise, size)
                        index += 1


def write_duckdb(case: Case, path: Path) -> None:
    """Write the case as a DuckDB ``records`` table (rows with value 0 are left out)."""
    import duckdb
    import pyarrow as pa

    n_days = case.baseline.shape[0]
    values = np.vstack([case.baseline, case.anomaly[None, :]])  # (n_days + 1, n)
    day_idx, leaf_idx = np.nonzero(values > 0)
    dates = np.array(
        [ANOMALY_DAY - dt.timedelta(days=n_days - i) for i in range(n_days + 1)],
        dtype="datetime64[D]",
    )
    columns: dict[str, object] = {"session_date": pa.array(dates[day_idx])}
    for j, d in enumerate(case.dimensions):
        dictionary = pa.array(list(case.labels[j]), type=pa.string())
        indices = pa.array(case.codes[leaf_idx, j])
        columns[d] = pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string())
    columns["value"] = pa.array(values[day_idx, leaf_idx])
    table = pa.table(columns)
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.register("arrow_records", table)
        con.execute("CREATE TABLE records AS SELECT * FROM arrow_records")
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cases-per-group", type=int, default=1)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    manifest = []
    for case in iter_cases(args.seed, args.cases_per_group):
        path = args.out / f"{case.case_id}.duckdb"
        write_duckdb(case, path)
        manifest.append(
            {
                "case": case.case_id,
                "file": path.name,
                "n_causes": case.n_causes,
                "noise": case.noise,
                "size": case.size,
                "n_leaves": case.n_leaves,
                "baseline_days": int(case.baseline.shape[0]),
                "anomaly_day": ANOMALY_DAY.isoformat(),
                "causes": case.causes,
                "cause_info": case.cause_info,
            }
        )
        print(f"{case.case_id}: {case.n_leaves} leaves, causes {case.causes}")
    (args.out / "cases.json").write_text(json.dumps(manifest, indent=1))


if __name__ == "__main__":
    main()
