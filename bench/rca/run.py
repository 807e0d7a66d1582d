"""Score ``data_hunter.explain`` against the plain ranking on synthetic root-cause cases.

For each case of ``generate.py``: build ``Leaves`` (actual = anomaly-day leaf sums, expected =
mean baseline-day leaf value x 1 anomaly day, the product's semantics), then run

* ``plain top-k``: the k segments with the largest ``|actual - expected|`` over all depths,
  k = the number of true causes (an oracle k, which flatters the baseline);
* ``plain top-1/depth``: the largest ``|actual - expected|`` segment of every depth;
* ``explain``: ``data_hunter.explain.explain`` with its defaults.

F1 as in the RiskLoc and Squeeze papers: a predicted segment is a true positive only when it
equals a true root cause exactly; TP / FP / FN are summed over the cases of a group. Depth and
kind groups count each true cause under its own depth / kind and each false positive under
its own depth. Pure-noise cases (0 causes) add only false positives.

Usage: ``python bench/rca/run.py --cases-per-group N --seed 0 [--via-duckdb]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import ANOMALY_DAY, SIZES, Case, iter_cases, write_duckdb

from data_hunter.explain import explain
from data_hunter.leaves import Leaves

Key = frozenset[tuple[str, str | None]]


def leaves_from_case(case: Case) -> Leaves:
    return Leaves(
        case.dimensions,
        case.labels,
        case.codes,
        np.asarray(case.anomaly, dtype=np.float64),
        case.expected(),
    )


def leaves_via_duckdb(case: Case, workdir: Path) -> Leaves:
    """Write the case as a DuckDB file and read the leaves back with one GROUP BY."""
    import duckdb

    path = workdir / f"{case.case_id}.duckdb"
    write_duckdb(case, path)
    n_days = case.baseline.shape[0]
    cols = ", ".join('"' + d.replace('"', '""') + '"' for d in case.dimensions)
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            f"""
            SELECT {cols},
                   coalesce(sum(value) FILTER (WHERE session_date = ?), 0) AS actual,
                   coalesce(sum(value) FILTER (WHERE session_date < ?), 0) / ? AS expected
            FROM records
            WHERE session_date BETWEEN ? - INTERVAL {n_days} DAY AND ?
            GROUP BY ALL
            """,
            [ANOMALY_DAY, ANOMALY_DAY, n_days, ANOMALY_DAY, ANOMALY_DAY],
        ).fetchnumpy()
    finally:
        con.close()
    path.unlink()
    labels = []
    codes = np.empty((len(rows["actual"]), len(case.dimensions)), dtype=np.int32)
    for j, d in enumerate(case.dimensions):
        values = np.asarray(rows[d], dtype=object)
        uniq, inverse = np.unique(values.astype(str), return_inverse=True)
        labels.append(tuple(str(u) for u in uniq))
        codes[:, j] = inverse.reshape(-1)
    return Leaves(
        case.dimensions,
        tuple(labels),
        codes,
        np.asarray(rows["actual"], dtype=np.float64),
        np.asarray(rows["expected"], dtype=np.float64),
    )


def _all_cuboids(n: int) -> list[tuple[int, ...]]:
    import itertools

    return [c for k in range(1, n + 1) for c in itertools.combinations(range(n), k)]


def plain_ranking(leaves: Leaves, k: int) -> tuple[list[Key], list[Key]]:
    """Top-k by |contribution| over all depths, and the top-1 of each depth."""
    best: list[tuple[float, Key]] = []
    per_depth: dict[int, tuple[float, Key]] = {}
    for dims in _all_cuboids(len(leaves.dimensions)):
        keys, act, exp = leaves.group(dims)
        contrib = np.abs(act - exp)
        top = np.argsort(-contrib, kind="stable")[: max(k, 1)]
        for i in top:
            key = frozenset(leaves.segment_of(dims, keys[i]).conditions)
            best.append((float(contrib[i]), key))
        i0 = int(top[0])
        if len(dims) not in per_depth or contrib[i0] > per_depth[len(dims)][0]:
            key = frozenset(leaves.segment_of(dims, keys[i0]).conditions)
            per_depth[len(dims)] = (float(contrib[i0]), key)
    best.sort(key=lambda t: -t[0])
    return [key for _, key in best[:k]], [key for _, key in per_depth.values()]


class Tally:
    def __init__(self) -> None:
        self.tp = 0
        self.fp = 0
        self.fn = 0
        self.cases = 0

    def f1(self) -> float | None:
        denom = 2 * self.tp + self.fp + self.fn
        return None if denom == 0 else 2 * self.tp / denom


def _score(
    tallies: dict[str, dict[str, Tally]],
    method: str,
    case: Case,
    truth: list[Key],
    pred: list[Key],
) -> None:
    case_groups = [
        "overall",
        f"causes={case.n_causes}",
        f"noise={case.noise:g}",
        f"size={case.size}",
    ]
    if any(i["kind"] == "new" for i in case.cause_info):
        case_groups.append("case has new value")
    if any(i["kind"] == "vanished" for i in case.cause_info):
        case_groups.append("case has vanished value")
    true_set, pred_set = set(truth), set(pred)
    tp, fp, fn = len(true_set & pred_set), len(pred_set - true_set), len(true_set - pred_set)
    for g in case_groups:
        t = tallies[g][method]
        t.tp += tp
        t.fp += fp
        t.fn += fn
        t.cases += 1
    for key, info in zip(truth, case.cause_info, strict=True):
        for g in (f"depth={len(key)}", f"kind={info['kind']}"):
            t = tallies[g][method]
            if key in pred_set:
                t.tp += 1
            else:
                t.fn += 1
    for key in pred_set - true_set:
        tallies[f"depth={len(key)}"][method].fp += 1


METHODS = ("plain top-k", "plain top-1/depth", "explain")


def run(cases_per_group: int, seed: int, via_duckdb: bool, verbose: bool) -> str:
    tallies: dict[str, dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))
    times: dict[str, list[float]] = defaultdict(list)
    build: Callable[[Case], Leaves] = leaves_from_case
    tmp = tempfile.TemporaryDirectory() if via_duckdb else None
    if tmp is not None:
        workdir = Path(tmp.name)

        def build(case: Case) -> Leaves:
            return leaves_via_duckdb(case, workdir)

    n = 0
    for case in iter_cases(seed, cases_per_group):
        leaves = build(case)
        truth = [frozenset(c.items()) for c in case.causes]
        t0 = time.perf_counter()
        top_k, top_depth = plain_ranking(leaves, len(truth))
        times["plain"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        result = explain(leaves)
        dt = time.perf_counter() - t0
        times["explain"].append(dt)
        times[f"explain size={case.size}"].append(dt)
        pred = [frozenset(c.segment.conditions) for c in result.root_causes]
        _score(tallies, "plain top-k", case, truth, top_k)
        _score(tallies, "plain top-1/depth", case, truth, top_depth)
        _score(tallies, "explain", case, truth, pred)
        n += 1
        if verbose and set(truth) != set(pred):
            print(f"MISS {case.case_id} ({case.n_leaves} leaves) truth={case.causes}")
            print(f"     info={case.cause_info}")
            for c in result.root_causes:
                print(f"     got {c.segment} change={c.change} score={c.score:.3f}")
            print(f"     note={result.note}")
    if tmp is not None:
        tmp.cleanup()

    order = ["overall"]
    order += [f"causes={k}" for k in range(0, 6)]
    order += sorted(g for g in tallies if g.startswith("depth="))
    order += sorted((g for g in tallies if g.startswith("noise=")), key=lambda g: float(g[6:]))
    order += sorted(g for g in tallies if g.startswith("size="))
    order += sorted(g for g in tallies if g.startswith("kind="))
    order += [g for g in ("case has new value", "case has vanished value") if g in tallies]
    lines = [
        f"{n} cases, seed {seed}, {cases_per_group} per (causes x noise x size) group"
        + (", leaves read through DuckDB" if via_duckdb else ""),
        "",
        "| group | cases | plain top-k F1 | plain top-1/depth F1 | explain F1 | explain TP/FP/FN |",
        "|---|---|---|---|---|---|",
    ]
    for g in order:
        if g not in tallies:
            continue
        row = tallies[g]
        e = row["explain"]
        cells = []
        for m in METHODS:
            f1 = row[m].f1()
            cells.append("-" if f1 is None else f"{f1:.3f}")
        cases = str(e.cases) if e.cases else "-"
        lines.append(f"| {g} | {cases} | {' | '.join(cells)} | {e.tp}/{e.fp}/{e.fn} |")
    lines.append("")
    lines.append("| runtime per case | median s | p95 s | max s |")
    lines.append("|---|---|---|---|")
    names = ["plain", "explain", *(f"explain size={size}" for size in SIZES)]
    for name in names:
        arr = np.array(times[name])
        if len(arr):
            lines.append(
                f"| {name} | {np.median(arr):.3f} | {np.percentile(arr, 95):.3f} "
                f"| {arr.max():.3f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases-per-group", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--via-duckdb", action="store_true", help="read leaves through DuckDB")
    parser.add_argument("--verbose", action="store_true", help="print every missed case")
    args = parser.parse_args()
    print(run(args.cases_per_group, args.seed, args.via_duckdb, args.verbose))


if __name__ == "__main__":
    main()
