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
SIZES = {"S": 20_000, "L": 100_000, "sparse": 100_000}
"""Leaf budget per size. S and L cubes are at least a third full (like RiskLoc's S / L with
their 0-25 % zero rate); ``sparse`` samples its leaves from a cube of up to 30^5 cells, so a
deep cause often holds the same rows as a shallower segment (the truth is then the shallower
one, see ``_canonical``)."""
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
        depth = int(rng.integers(1, n_dims + 1))
        chosen = sorted(rng.choice(n_dims, size=depth, replace=False).tolist())
        if forced_dim is not None and forced_dim not in chosen:
            chosen = sorted([*chosen[1:], forced_dim]) if depth > 1 else [forced_dim]
        leaf = int(rng.choice(n, p=np.where(appear, 0.0, level) / total))
        element = {d: int(codes[leaf, d]) for d in chosen}
        if not all(_disjoint(element, c) for c in causes):
            continue
        mask = np.ones(n, dtype=bool)
        for d, c in element.items():
            mask &= codes[:, d] == c
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
    """All groups: number of causes x noise level x size, ``cases_per_group`` each."""
    index = 0
    for n_causes in N_CAUSES:
        for noise in NOISE_LEVELS:
            for size in SIZES:
                for _ in range(cases_per_group):
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
