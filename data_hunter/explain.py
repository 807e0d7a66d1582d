"""Explain a change: a few non-overlapping segments that account for it.

The plain ranking by ``|actual - expected|`` answers badly when the cause is a combination:
the cause's parents outrank it, and deep levels are ranked by size. ``explain`` instead scores
every candidate segment (every value combination of every cuboid up to ``max_depth``) with a
*ripple-effect fit* and picks a small, non-overlapping set greedily.

Model (HotSpot / Squeeze's ripple effect, scored in L1 as Squeeze's GPS does): if segment
``e`` is a root cause, every leaf under it moved by the same ratio ``rho_e = A_e / F_e`` and
every other leaf stayed at its expected value. The *gain* of ``e`` is how much that model
lowers the leaf-level L1 error::

    gain(e) = sum_{i in e} |v_i - f_i| - sum_{i in e} |v_i - rho_e f_i|

A true cause fits its leaves exactly (up to noise), so its gain is its whole deviation. A
parent holding the cause plus normal siblings spreads the ratio over the siblings and loses
twice the siblings' share; a child holding part of the cause leaves the rest unexplained. A
segment whose expected value is 0 (a value that appeared) has a perfect fit by definition.

Because two non-overlapping segments share no leaf, a segment's gain does not depend on the
other chosen segments, so all gains are computed once (one vectorised group-by per cuboid)
and the greedy selection only maintains an eligibility mask.

Significance: leaf noise is taken as multiplicative, ``v = f (1 + sigma eps)``, with
``sigma`` estimated robustly from the leaves (lower quartile of ``|v - f| / f``, re-estimated
on the leaves left unexplained). A segment's noise unit is ``sigma sqrt(sum f_i^2 + floor^2)``
(``floor`` = median leaf, so a segment that appeared is not infinitely significant). A
candidate needs ``z = gain / noise unit`` at least ``sqrt(2 ln N) + 1.5`` for ``N``
candidates (above the expected maximum of ``N`` null scores), or at least ``sqrt(2 ln N)``
while removing 0.5 % of the total L1 error; and a relative change of at least
``max(MIN_RELATIVE_CHANGE, 1.5 sigma)`` (so a parent that "moved a little too" is not one).

Selection, best gain first:

* ripple check: split the pick by every other dimension; if a part clearly missed the
  pick's ratio and sits nearer to no change, the pick mixes a cause with normal leaves (or
  merges two causes): drop it and look again (its descendants stay candidates);
* succinctness: an ancestor replaces the pick when its extra leaves are nearer (in noise
  units) to the pick's ratio than to no change, and none of the pick's siblings under it
  clearly stayed normal; the shallowest such ancestor wins;
* the segments chosen never share a leaf; ties go to the shallower segment, then to the
  first in dimension order.

``score`` = gain / total L1 error ``sum |v - f|`` (0..1: the part of the leaf-level deviation
the segment's ripple model removes). ``share`` = contribution / total contribution.

Sparse leaves (event data: most leaves that expected something got nothing, see
``_is_sparse``). Per-leaf ratios and a multiplicative leaf noise mean nothing there: a leaf
holds 0-2 events, its noise is ~ sqrt(expected) for counts and heavy-tailed for sums of
values, and hierarchical dimensions (a region inside a country) give many segments the same
rows. So everything is scored on aggregated segments (``_explain_sparse``):

* model: the metric moved everywhere by a global ratio ``g`` (a weekday, a trend), and each
  cause moved its segment by its own ratio; noise is quasi-Poisson, variance = ``phi`` x
  mean, with ``phi`` (1 for counts, ~E[x^2]/E[x] for sums of event values) estimated from the
  leaves per value of each dimension (median over values, the cleanest dimension);
  distances are measured on Anscombe's square-root scale;
* candidates: ranked by ``|A - g F|``; a cause must be significant (the same
  ``sqrt(2 ln N)`` bounds as above), move by at least ``MIN_RELATIVE_CHANGE`` against ``g``,
  hold at least ``_MIN_SHARE`` of the change (never less than the noise of the total), and
  not owe its significance to one leaf (a heavy-tailed outlier);
* ripple check on the children one level down (aggregated): no child, and not the rest once
  the largest child is set aside, may clearly miss the segment's ratio while sitting nearer
  ``g``; when the rest looks normal the largest child is the more precise answer;
* segments with the same rows tie: the shallowest, then the first in dimension order wins;
* ``g`` and ``phi`` are estimated again on the leaves the causes leave unexplained, and,
  since ``g`` is ambiguous when causes cover much of the data, the fit is run from several
  starting ratios and the one with the lowest deviance (dimension values, square-root
  scale) plus a penalty per cause is kept.

``score`` there = ``|A - g F|`` / the total deviation from ``g``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from data_hunter.leaves import Leaves, share_of
from data_hunter.segment import Segment, SegmentStats

MIN_RELATIVE_CHANGE = 0.1
"""A root cause moved by at least this fraction of its expected value."""

MAX_CUBOIDS = 63
"""Bound on the number of dimension combinations scored (all of them up to 6 dimensions)."""

_DENSE_KEYS = 1 << 22
_NORMAL_Q25 = 0.31863936396437514  # 25th percentile of |N(0, 1)|
_Z_MARGIN = 1.5  # noise units above the expected maximum null score that need no more
_MATERIAL = 0.005  # share of the total L1 error a borderline-significant segment must remove
_MAX_ROUNDS = 200  # greedy steps, counting the rejected (non-uniform) picks
_SIBLING_T = 3.0  # noise units a sibling may miss the cause's ratio by before it vetoes


@dataclass(frozen=True)
class Explanation:
    """The root causes of a change and how much of it they account for."""

    root_causes: list[SegmentStats]  # best first; score set; share = contribution / total
    total_actual: float
    total_expected: float
    explained: float  # fraction of the total change the causes account for (0..1+)
    note: str | None  # why the list is empty or only a partial explanation


@dataclass
class _Candidates:
    keys: np.ndarray  # (m, n_dims) int32, -1 where the dimension is free
    depth: np.ndarray  # (m,) int
    actual: np.ndarray
    expected: np.ndarray
    f2: np.ndarray  # sum of squared expected leaf values
    gain: np.ndarray  # L1 error removed by the ripple model
    ids: list[np.ndarray]  # per cuboid: the group (candidate offset included) of every leaf
    starts: np.ndarray  # per cuboid: the index of its first candidate
    cuboids: list[tuple[int, ...]]


def _segment(leaves: Leaves, key_row: np.ndarray) -> Segment:
    """A candidate's key row (one code per dimension, -1 where the dimension is free)."""
    return Segment(
        tuple(
            (leaves.dimensions[d], leaves.labels[d][int(k)])
            for d, k in enumerate(key_row)
            if k >= 0
        )
    )


def explain(leaves: Leaves, *, max_causes: int = 5, max_depth: int | None = None) -> Explanation:
    """Find at most ``max_causes`` non-overlapping segments that explain the change."""
    total_actual, total_expected = leaves.totals()
    total_change = total_actual - total_expected
    v = leaves.actual.astype(np.float64)
    f = leaves.expected.astype(np.float64)
    deviation = np.abs(v - f)
    error = float(deviation.sum())
    if leaves.n_leaves == 0 or error == 0.0 or max_causes <= 0:
        why = "no data" if leaves.n_leaves == 0 else "nothing changed"
        return Explanation([], total_actual, total_expected, 0.0, why)

    if _is_sparse(v, f):
        return _explain_sparse(leaves, max_causes, max_depth)

    uniform = _uniform_ratio(v, f)
    if uniform is not None:
        why = f"the whole metric moved uniformly (x{uniform:.3g}); no segment stands out"
        return Explanation([], total_actual, total_expected, 0.0, why)

    cands = _candidates(leaves, _cuboids(len(leaves.dimensions), max_depth))
    floor = _floor(f)
    sigma = _noise(v, f, np.ones(leaves.n_leaves, dtype=bool))
    chosen = _select(cands, leaves, sigma, floor, error, max_causes)
    if chosen:
        # Re-estimate the noise on the leaves left unexplained, and select again.
        covered = np.zeros(leaves.n_leaves, dtype=bool)
        for i in chosen:
            covered |= _mask(leaves, cands.keys[i])
        if (~covered).sum() >= 10:
            sigma = _noise(v, f, ~covered)
            chosen = _select(cands, leaves, sigma, floor, error, max_causes)

    if chosen and cands.depth[chosen[0]] == 0:
        ratio = total_actual / total_expected if total_expected else float("inf")
        why = (
            f"the whole metric moved uniformly (x{ratio:.3g}); no segment stands out"
            if math.isfinite(ratio)
            else "the whole metric is new; no segment stands out"
        )
        return Explanation([], total_actual, total_expected, 0.0, why)

    causes = []
    for i in chosen:
        seg = _segment(leaves, cands.keys[i])
        a, e = float(cands.actual[i]), float(cands.expected[i])
        causes.append(
            SegmentStats(
                seg, a, e, share_of(a - e, total_change), score=float(cands.gain[i]) / error
            )
        )
    contribution = sum(c.contribution for c in causes)
    explained = contribution / total_change if total_change != 0 else 0.0
    note: str | None = None
    if not causes:
        note = "no segment explains the change well"
    elif total_change != 0 and explained < 0.5:
        note = f"the segments found account for only {explained:.0%} of the change"
    return Explanation(causes, total_actual, total_expected, float(explained), note)


def _cuboids(n_dims: int, max_depth: int | None) -> list[tuple[int, ...]]:
    """Dimension combinations to score, shallow first, bounded by ``MAX_CUBOIDS``."""
    top = n_dims if max_depth is None else min(max_depth, n_dims)
    out: list[tuple[int, ...]] = [()]
    for depth in range(1, top + 1):
        level = list(itertools.combinations(range(n_dims), depth))
        if len(out) - 1 + len(level) > MAX_CUBOIDS and depth > 1:
            break
        out.extend(level)
    return out


def _group_ids(leaves: Leaves, dims: tuple[int, ...]) -> tuple[np.ndarray, int]:
    """Compact group id of every leaf for the cuboid ``dims``."""
    n = leaves.n_leaves
    if not dims:
        return np.zeros(n, dtype=np.int64), 1
    size = 1
    key = np.zeros(n, dtype=np.int64)
    for d in dims:
        card = max(len(leaves.labels[d]), 1)
        key = key * card + leaves.codes[:, d]
        size *= card
    if size <= max(_DENSE_KEYS, 4 * n):
        present = np.bincount(key, minlength=size) > 0
        remap = np.cumsum(present) - 1
        return remap[key], int(present.sum())
    uniq, inverse = np.unique(key, return_inverse=True)
    return inverse.reshape(-1), len(uniq)


def _candidates(leaves: Leaves, cuboids: list[tuple[int, ...]]) -> _Candidates:
    v, f = leaves.actual, leaves.expected
    dev = np.abs(v - f)
    f2 = f * f
    n_dims = len(leaves.dimensions)
    parts: list[tuple[np.ndarray, ...]] = []
    all_ids: list[np.ndarray] = []
    starts = []
    offset = 0
    for dims in cuboids:
        starts.append(offset)
        ids, m = _group_ids(leaves, dims)
        all_ids.append(ids + offset)
        offset += m
        a = np.bincount(ids, weights=v, minlength=m)
        e = np.bincount(ids, weights=f, minlength=m)
        s0 = np.bincount(ids, weights=dev, minlength=m)
        sq = np.bincount(ids, weights=f2, minlength=m)
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = np.where(e > 0, a / np.where(e > 0, e, 1.0), 0.0)
        # Leaves of a segment with nothing expected are explained exactly (it appeared).
        resid = np.where(e[ids] > 0, np.abs(v - rho[ids] * f), 0.0)
        r = np.bincount(ids, weights=resid, minlength=m)
        first = np.empty(m, dtype=np.int64)
        first[ids[::-1]] = np.arange(leaves.n_leaves - 1, -1, -1)
        keys = np.full((m, n_dims), -1, dtype=np.int32)
        if dims:
            keys[:, list(dims)] = leaves.codes[first][:, list(dims)]
        depth = np.full(m, len(dims), dtype=np.int64)
        parts.append((keys, depth, a, e, sq, s0 - r))
    keys, depth, a, e, sq, gain = (np.concatenate(col) for col in zip(*parts, strict=True))
    return _Candidates(keys, depth, a, e, sq, gain, all_ids, np.array(starts), cuboids)


def _floor(f: np.ndarray) -> float:
    """A typical small leaf value: the noise floor of a segment with nothing expected."""
    positive = f[f > 0]
    return float(np.median(positive)) if len(positive) else 1.0


def _uniform_ratio(v: np.ndarray, f: np.ndarray) -> float | None:
    """The common ratio when at least 90 % of the leaves moved by about the same notable
    ratio (a change of the whole metric, not of a segment), else None."""
    keep = f > 0
    if keep.sum() < 2:
        return None
    r = v[keep] / f[keep]
    med = float(np.median(r))
    if abs(med - 1.0) < MIN_RELATIVE_CHANGE:
        return None
    if float(np.quantile(np.abs(r - med), 0.9)) >= abs(med - 1.0) / 2:
        return None
    return med


def _noise(v: np.ndarray, f: np.ndarray, mask: np.ndarray) -> float:
    """Relative leaf noise: the lower quartile of ``|v - f| / f`` over the leaves, scaled to
    a Gaussian standard deviation (robust while causes hold under 3/4 of the leaves)."""
    keep = mask & (f > 0)
    if not keep.any():
        return 0.0
    rel = np.abs(v[keep] - f[keep]) / f[keep]
    return float(np.quantile(rel, 0.25)) / _NORMAL_Q25


def _select(
    c: _Candidates, leaves: Leaves, sigma: float, floor: float, error: float, max_causes: int
) -> list[int]:
    noise = np.sqrt(c.f2 + floor * floor) * max(sigma, 1e-12)
    z = c.gain / noise
    z_min = math.sqrt(2.0 * math.log(max(len(c.gain), 2)))
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(
            c.expected > 0,
            np.abs(c.actual - c.expected) / np.where(c.expected > 0, c.expected, 1.0),
            np.where(c.actual != 0, np.inf, 0.0),
        )
    min_rel = max(MIN_RELATIVE_CHANGE, 1.5 * sigma)
    scale = float(c.gain.max()) if len(c.gain) else 0.0
    # Borderline significance (within _Z_MARGIN of the expected maximum null score) is not
    # enough on its own: such a segment must also remove a material part of the error.
    material = c.gain >= _MATERIAL * error
    significant = (z >= z_min + _Z_MARGIN) | ((z >= z_min) & material)
    eligible = significant & (rel >= min_rel) & (c.gain > 1e-9 * max(scale, 1e-300))
    chosen: list[int] = []
    rounds = 0
    while len(chosen) < max_causes and eligible.any() and rounds < _MAX_ROUNDS:
        rounds += 1
        best = int(np.argmax(np.where(eligible, c.gain, -np.inf)))
        if not _uniform(c, best, sigma):
            eligible[best] = False  # a mix of moving and normal parts: look deeper
            continue
        key = c.keys[best]
        ancestors = (
            eligible & (c.depth < c.depth[best]) & np.all((c.keys < 0) | (c.keys == key), axis=1)
        )
        if ancestors.any():
            best = _extend(c, best, ancestors, sigma)
        chosen.append(best)
        if c.depth[best] == 0:
            break
        # Candidates sharing a leaf with the chosen segment are out (they would double count).
        inside = _mask(leaves, c.keys[best])
        _mark_overlapping(c, inside, eligible, False)
    return chosen


def _extend(c: _Candidates, best: int, ancestors: np.ndarray, sigma: float) -> int:
    """The shallowest ancestor whose extra leaves moved like ``best`` (same ratio, within
    noise) rather than not at all; ``best`` itself when there is none."""
    idx = np.nonzero(ancestors)[0]
    a_x = c.actual[idx] - c.actual[best]
    f_x = c.expected[idx] - c.expected[best]
    q_x = np.maximum(c.f2[idx] - c.f2[best], 0.0)
    f_b = c.expected[best]
    if f_b <= 0:
        # A segment that appeared: its ancestor is as good only when it adds nothing expected.
        ok = (f_x <= 0) & (a_x >= 0)
    else:
        rho_b = c.actual[best] / f_b
        with np.errstate(divide="ignore", invalid="ignore"):
            rho_x = np.where(f_x > 0, a_x / np.where(f_x > 0, f_x, 1.0), np.inf)
            spread_x = np.where(f_x > 0, q_x / np.where(f_x > 0, f_x * f_x, 1.0), np.inf)
        s = max(sigma, 1e-9)
        se_one = s * np.sqrt(spread_x)
        se_same = s * max(rho_b, 1.0) * np.sqrt(spread_x + c.f2[best] / (f_b * f_b))
        t_one = np.abs(rho_x - 1.0) / se_one
        t_same = np.abs(rho_x - rho_b) / se_same
        ok = (f_x > 0) & (t_same < t_one) & np.isfinite(t_one)
        # Nothing added (the ancestor holds the same leaves): the succinct one is as good.
        ok |= (f_x == 0) & (np.abs(a_x) <= 1e-9 * max(abs(c.actual[best]), 1.0))
    good = idx[ok]
    for i in good[np.lexsort((-c.gain[good], c.depth[good]))]:
        if f_b <= 0 or _siblings_agree(c, best, int(i), sigma):
            return int(i)
    return best


def _range(c: _Candidates, k: int) -> tuple[int, int]:
    start = int(c.starts[k])
    end = int(c.starts[k + 1]) if k + 1 < len(c.starts) else len(c.gain)
    return start, end


def _off_ratio(c: _Candidates, rows: np.ndarray, ref: int, sigma: float) -> bool:
    """True when one of ``rows`` clearly missed the ratio of ``ref`` and sits nearer to no
    change: the rows did not all move together."""
    f = c.expected[rows]
    rows = rows[f > 0]
    if len(rows) == 0 or c.expected[ref] <= 0:
        return False
    f = c.expected[rows]
    q = c.f2[rows]
    rho = c.actual[rows] / f
    rho_ref = c.actual[ref] / c.expected[ref]
    s = max(sigma, 1e-9)
    t_one = np.abs(rho - 1.0) / (s * np.sqrt(q) / f)
    se_same = s * max(rho_ref, 1.0) * np.sqrt(q / (f * f) + c.f2[ref] / c.expected[ref] ** 2)
    t_same = np.abs(rho - rho_ref) / se_same
    t_min = max(_SIBLING_T, math.sqrt(2.0 * math.log(max(len(rows), 2))) + 1.0)
    return bool(np.any((t_same > t_one) & (t_same > t_min)))


def _children_by_dimension(c: _Candidates, best: int) -> Iterator[np.ndarray]:
    """Candidate rows of ``best``'s children, one array per free dimension whose cuboid was
    enumerated: ``best`` split by that dimension."""
    key = c.keys[best]
    fixed = np.nonzero(key >= 0)[0]
    index = {dims: k for k, dims in enumerate(c.cuboids)}
    for d in range(c.keys.shape[1]):
        if key[d] >= 0:
            continue
        k = index.get(tuple(sorted([*fixed.tolist(), d])))
        if k is None:
            continue
        start, end = _range(c, k)
        sel = np.all(c.keys[start:end][:, fixed] == key[fixed], axis=1)
        yield start + np.nonzero(sel)[0]


def _uniform(c: _Candidates, best: int, sigma: float) -> bool:
    """The ripple check: split by each free dimension, every part moved by ``best``'s ratio."""
    return not any(_off_ratio(c, rows, best, sigma) for rows in _children_by_dimension(c, best))


def _siblings_agree(c: _Candidates, best: int, anc: int, sigma: float) -> bool:
    """No sibling of ``best`` under ``anc`` (same cuboid as ``best``) kept its expected value
    while clearly missing ``best``'s ratio: the ancestor is one cause, not a cause plus
    normal (or differently moving) neighbours."""
    k = int(np.searchsorted(c.starts, best, side="right")) - 1
    start, end = _range(c, k)
    fixed = np.nonzero(c.keys[anc] >= 0)[0]
    sel = np.all(c.keys[start:end][:, fixed] == c.keys[anc][fixed], axis=1)
    sel[best - start] = False
    return not _off_ratio(c, start + np.nonzero(sel)[0], best, sigma)


def _mask(leaves: Leaves, key: np.ndarray) -> np.ndarray:
    mask = np.ones(leaves.n_leaves, dtype=bool)
    for d, code in enumerate(key):
        if code >= 0:
            mask &= leaves.codes[:, d] == code
    return mask


# --- Sparse (count-like) leaves -----------------------------------------------------------

_SPARSE_ZEROS = 0.5  # share of expected-positive leaves at 0 that marks leaves as sparse
_MIN_SHARE = 0.05  # share of the total deviation a sparse-mode cause must account for
_MIN_UNITS = 5.0  # values with fewer expected "events" are not used to estimate phi
_MAX_STARTS = 8  # starting global ratios tried (see _ratio_candidates)
_PASSES = 3  # selections, each with g and phi estimated on the leaves the last one left
_MIN_VALUES = 5  # a dimension needs this many such values to estimate phi


def _is_sparse(v: np.ndarray, f: np.ndarray) -> bool:
    """Leaves are Poisson-sparse (event counts, or sums over a few events) when most leaves
    that expected something got nothing: per-leaf ratios are then meaningless."""
    pos = f > 0
    if pos.sum() < 10:
        return False
    return float(np.mean(v[pos] == 0)) >= _SPARSE_ZEROS


def _depth1(
    c: _Candidates, values: np.ndarray, mask: np.ndarray, depths: tuple[int, ...] = (1,)
) -> list[tuple[np.ndarray, ...]]:
    """Per cuboid of the given depths (default: per dimension): sums of each row of
    ``values`` (k, n_leaves) per segment, over the leaves in ``mask``."""
    out = []
    everywhere = bool(mask.all())
    masked = values if everywhere else values[:, mask]  # once, not once per cuboid
    for k, dims in enumerate(c.cuboids):
        if len(dims) not in depths:
            continue
        ids = (c.ids[k] if everywhere else c.ids[k][mask]) - c.starts[k]
        m = int(ids.max()) + 1 if len(ids) else 0
        out.append(tuple(np.bincount(ids, weights=col, minlength=m) for col in masked))
    return out


def _global_ratio(leaves: Leaves, c: _Candidates, mask: np.ndarray) -> float:
    """The ratio by which the metric moved everywhere (a weekday, a trend): per dimension,
    the expected-weighted median ratio of its values (over the leaves in ``mask``); the one
    nearest 1 wins, so a cause concentrated in one value of one dimension does not move it."""
    best: float | None = None
    for a, e in _depth1(c, np.stack([leaves.actual, leaves.expected]), mask):
        keep = e > 0
        if keep.sum() == 0:
            continue
        r, w = a[keep] / e[keep], e[keep]
        order = np.argsort(r, kind="stable")
        cw = np.cumsum(w[order])
        med = float(r[order][np.searchsorted(cw, cw[-1] / 2.0)])
        if med > 0 and (best is None or abs(math.log(med)) < abs(math.log(best))):
            best = med
    return 1.0 if best is None else best


def _dispersion(leaves: Leaves, c: _Candidates, g: float, mask: np.ndarray) -> float:
    """Quasi-Poisson dispersion ``phi`` (variance = phi x mean: 1 for event counts, about
    ``E[x^2] / E[x]`` for sums of event values), over the leaves in ``mask``.

    Per value of a dimension, the leaf-level moment estimate ``sum (v - g f)^2 / sum g f``
    (unbiased under the model); per dimension the median over its values holding at least
    ``_MIN_UNITS`` events; the smallest of these medians, since a cause inflates every value
    of the dimensions it is spread over but only one value of the dimension it sits in.
    """
    v, mu = leaves.actual, g * leaves.expected
    sq = (v - mu) ** 2
    per_dim = []
    for num, den in _depth1(c, np.stack([sq, mu]), mask):
        keep = den > 0
        per_dim.append((num[keep] / den[keep], den[keep]))
    total = float(mu[mask].sum())
    pooled = float(sq[mask].sum()) / total if total > 0 else 1.0
    # Start from the pooled estimate (inflated by the causes, so the filter starts strict)
    # and lower the bar until enough values qualify.
    phi, found = pooled, False
    for _ in range(12):
        meds = [
            float(np.median(e[w >= _MIN_UNITS * phi]))
            for e, w in per_dim
            if (w >= _MIN_UNITS * phi).sum() >= _MIN_VALUES
        ]
        if not meds:
            if found:
                break
            phi /= 2.0
            continue
        new = min(meds)
        converged = found and abs(new - phi) <= 1e-3 * phi
        phi, found = new, True
        if converged:
            break
    if not found:
        phi = pooled
    return max(phi, 1e-12)


def _explain_sparse(leaves: Leaves, max_causes: int, max_depth: int | None) -> Explanation:
    """Segment-level model for sparse leaves: a segment's value is a sum of many leaves, so
    its noise is quasi-Poisson, ``var = phi x mean`` (plus a floor of one event), around
    ``g x expected`` where ``g`` is the ratio by which the metric moved everywhere.

    Candidates are ranked by their deviation ``|A - g F|``; a candidate is a cause when it is
    significant, moved by at least ``MIN_RELATIVE_CHANGE`` against ``g``, accounts for at least
    ``_MIN_SHARE`` of the total deviation, and passes the ripple check on its children one
    level down (aggregated, not per leaf). Segments with the same rows tie, and ties go to the
    shallowest, then the first in dimension order.
    """
    total_actual, total_expected = leaves.totals()
    total_change = total_actual - total_expected
    n_dims = len(leaves.dimensions)
    c = _candidates(leaves, _cuboids(n_dims, max_depth))
    everywhere = np.ones(leaves.n_leaves, dtype=bool)
    g0 = _global_ratio(leaves, c, everywhere)
    phi0 = _dispersion(leaves, c, g0, everywhere)
    # The global ratio is ambiguous when causes cover much of the data (two of four channels
    # moved, or the whole metric did?): fit from every plausible start and keep the fit that
    # explains the dimension values best for its number of causes.
    best: tuple[float, float, float, list[int]] | None = None
    cache: dict[tuple[int, ...], tuple[float, float, list[int]]] = {}
    for start in _ratio_candidates(leaves, c, phi0, g0):
        g, phi, chosen = _fit_sparse(c, leaves, start, max_causes, cache)
        # A move of the whole metric by 10 % or more is itself a finding, priced like a cause.
        shift = min(1.0, (math.log(g) / math.log(1.0 + MIN_RELATIVE_CHANGE)) ** 2)
        cost = _deviance(c, leaves, g, phi0, chosen) + _penalty(c) * (len(chosen) + shift)
        if best is None or cost < best[0] - 1e-9:
            best = (cost, g, phi, chosen)
    assert best is not None
    _, g, phi, chosen = best
    dev = c.actual - g * c.expected
    total_dev = abs(total_actual - g * total_expected)

    causes = []
    denom = max(total_dev, sum(abs(float(dev[i])) for i in chosen), 1e-300)
    for i in chosen:
        seg = _segment(leaves, c.keys[i])
        a, e = float(c.actual[i]), float(c.expected[i])
        causes.append(
            SegmentStats(seg, a, e, share_of(a - e, total_change), score=abs(float(dev[i])) / denom)
        )
    contribution = sum(x.contribution for x in causes)
    explained = contribution / total_change if total_change != 0 else 0.0
    note: str | None = None
    if not causes:
        noise = 3.0 * math.sqrt(phi * max(total_expected, 0.0))
        if abs(g - 1.0) >= MIN_RELATIVE_CHANGE and total_expected > 0:
            ratio = total_actual / total_expected
            note = f"the whole metric moved uniformly (x{ratio:.3g}); no segment stands out"
        elif abs(total_change) <= noise:
            note = "the change is within the normal noise; no segment stands out"
        else:
            note = "no segment explains the change well"
    elif total_change != 0 and explained < 0:
        note = "the segments found moved against the total change (the rest moved the other way)"
    elif total_change != 0 and explained < 0.5:
        note = f"the segments found account for only {explained:.0%} of the change"
    return Explanation(causes, total_actual, total_expected, float(explained), note)


def _ratio_candidates(leaves: Leaves, c: _Candidates, phi: float, g0: float) -> list[float]:
    """Starting values for the global ratio: ``g0``, 1, and per dimension the median ratio of
    its values holding at least ``4 x _MIN_UNITS`` events (distinct within 1 %)."""
    out = [g0, 1.0]
    for a, e in _depth1(
        c, np.stack([leaves.actual, leaves.expected]), np.ones_like(leaves.actual, dtype=bool)
    ):
        keep = (e * g0 >= 4 * _MIN_UNITS * phi) & (e > 0)
        if keep.sum() >= 3:
            out.append(float(np.median(a[keep] / e[keep])))
    distinct: list[float] = []
    for r in out:
        if r > 0 and all(abs(math.log(r / d)) > 0.01 for d in distinct):
            distinct.append(r)
    if len(distinct) > _MAX_STARTS:
        # Many dimensions: g0, 1 and an even spread of the others.
        rest = sorted(distinct[2:])
        pick = np.linspace(0, len(rest) - 1, _MAX_STARTS - 2).round().astype(int)
        distinct = distinct[:2] + [rest[i] for i in sorted(set(pick.tolist()))]
    return distinct


def _fit_sparse(
    c: _Candidates,
    leaves: Leaves,
    g: float,
    max_causes: int,
    cache: dict[tuple[int, ...], tuple[float, float, list[int]]],
) -> tuple[float, float, list[int]]:
    """Pick causes around the global ratio ``g``; then estimate ``g`` and the dispersion
    again on the leaves the causes leave unexplained, and select again (up to ``_PASSES``).
    What follows a first selection depends on it alone: ``cache`` keeps it across starts."""
    everywhere = np.ones(leaves.n_leaves, dtype=bool)
    phi = _dispersion(leaves, c, g, everywhere)
    chosen = _select_sparse(c, leaves, g, phi, max_causes)
    first = tuple(chosen)
    if chosen and first in cache:
        return cache[first]
    total_expected = float(leaves.expected.sum())
    seen: list[list[int]] = []
    while chosen and chosen not in seen and len(seen) < _PASSES:
        seen.append(chosen)
        covered = np.zeros(leaves.n_leaves, dtype=bool)
        for i in chosen:
            covered |= _mask(leaves, c.keys[i])
        if float(leaves.expected[~covered].sum()) <= 0.1 * max(total_expected, 1e-300):
            break
        g = _global_ratio(leaves, c, ~covered)
        phi = _dispersion(leaves, c, g, ~covered)
        chosen = _select_sparse(c, leaves, g, phi, max_causes)
    if first:
        cache[first] = (g, phi, chosen)
    return g, phi, chosen


def _penalty(c: _Candidates) -> float:
    """Deviance a cause must remove to be worth its place (every leaf counts once per
    dimension in ``_deviance``; ``2 ln N`` per count for ``N`` candidates)."""
    n_dims = c.keys.shape[1]
    return n_dims * 2.0 * math.log(max(len(c.gain), 2))


def _deviance(c: _Candidates, leaves: Leaves, g: float, phi: float, chosen: list[int]) -> float:
    """How badly ``g`` and the causes (each moving its leaves by its own ratio) fit the
    values of every dimension, in squared noise units on the square-root scale."""
    pred = g * leaves.expected
    for i in chosen:
        inside = _mask(leaves, c.keys[i])
        if c.expected[i] > 0:
            pred[inside] = leaves.expected[inside] * (c.actual[i] / c.expected[i])
        else:
            pred[inside] = leaves.actual[inside]
    every = np.ones(leaves.n_leaves, dtype=bool)
    total = 0.0
    for a, p in _depth1(c, np.stack([leaves.actual, pred]), every):
        total += (
            float((4.0 * (np.sqrt(np.maximum(a, 0.0)) - np.sqrt(np.maximum(p, 0.0))) ** 2).sum())
            / phi
        )
    return total


def _select_sparse(
    c: _Candidates, leaves: Leaves, g: float, phi: float, max_causes: int
) -> list[int]:
    total_actual, total_expected = leaves.totals()
    mu = g * c.expected
    dev = c.actual - mu
    z = _root_t(c.actual, mu, phi)
    z_min = math.sqrt(2.0 * math.log(max(len(dev), 2)))
    # The change to account for, and never less than the noise of the total.
    scale = max(
        abs(total_actual - g * total_expected),
        abs(total_actual - total_expected),
        math.sqrt(phi * g * total_expected),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(mu > 0, np.abs(dev) / np.where(mu > 0, mu, 1.0), np.inf)
    material = np.abs(dev) >= 0.2 * scale
    significant = (z >= z_min + _Z_MARGIN) | ((z >= z_min) & material)
    eligible = (
        significant
        & (rel >= MIN_RELATIVE_CHANGE)
        & (np.abs(dev) >= _MIN_SHARE * scale)
        & (c.depth > 0)
    )
    # Largest deviation first; equal deviations (often the same rows) go to the shallowest,
    # then to the first in cuboid (dimension) order.
    eligible_rows = np.flatnonzero(eligible)  # sort only these: there are few of them
    order = eligible_rows[
        np.lexsort((eligible_rows, c.depth[eligible_rows], -np.abs(dev[eligible_rows])))
    ]
    chosen: list[int] = []
    taken = np.zeros(len(dev), dtype=bool)
    for i in order:
        if len(chosen) >= max_causes:
            break
        i = int(i)
        if taken[i]:
            continue
        if chosen and abs(dev[i]) < _MIN_SHARE * abs(dev[chosen[0]]):
            break
        if _one_leaf(leaves, c, i, g, phi, z_min):
            continue
        uniform, child = _ripple_sparse(c, i, g, phi)
        if not uniform:
            continue
        while child is not None and eligible[child]:
            uniform, deeper = _ripple_sparse(c, child, g, phi)
            if not uniform:
                break
            i, child = child, deeper
        chosen.append(i)
        inside = _mask(leaves, c.keys[i])
        _mark_overlapping(c, inside, taken, True)
    return chosen


def _mark_overlapping(c: _Candidates, inside: np.ndarray, flags: np.ndarray, value: bool) -> None:
    """Set ``flags`` of every candidate that shares a leaf with the mask ``inside``."""
    rows = np.flatnonzero(inside)  # usually a few leaves: index them, not the whole mask
    for ids in c.ids:
        flags[ids[rows]] = value


def _one_leaf(leaves: Leaves, c: _Candidates, i: int, g: float, phi: float, z_min: float) -> bool:
    """True when the segment is significant only through its single most deviating leaf (a
    heavy-tailed outlier event, not a segment that moved)."""
    inside = _mask(leaves, c.keys[i])
    leaf_dev = leaves.actual[inside] - g * leaves.expected[inside]
    mu = g * c.expected[i]
    sign = 1.0 if c.actual[i] >= mu else -1.0
    worst = float(np.max(sign * leaf_dev)) if len(leaf_dev) else 0.0
    rest = c.actual[i] - sign * max(worst, 0.0)
    return bool(_root_t(np.array([rest]), np.array([mu]), phi)[0] < z_min)


def _root_t(a: np.ndarray, mu: np.ndarray, phi: float) -> np.ndarray:
    """Distance of ``a`` from ``mu`` in noise units on the square-root scale, where a
    quasi-Poisson value (``a / phi`` events) is nearly Gaussian even for a few events and
    heavy-tailed event values (Anscombe's transform)."""
    x = np.maximum(a, 0.0) / phi
    return np.asarray(2.0 * np.abs(np.sqrt(x + 0.375) - np.sqrt(mu / phi + 0.125)))


def _ripple_sparse(c: _Candidates, best: int, g: float, phi: float) -> tuple[bool, int | None]:
    """Ripple check on aggregated children (one level down, not leaves), for each free
    dimension: no child, and not the rest of ``best`` once its largest child is set aside,
    may clearly miss ``best``'s ratio while sitting nearer to the global ratio ``g``.

    Returns ``(uniform, child)``: ``child`` is a child that holds the change on its own (the
    rest of ``best`` looks normal, if only within noise), the more precise answer.
    """
    f_b = c.expected[best]
    if f_b <= 0:
        return True, None
    rho = c.actual[best] / f_b
    sign = 1.0 if c.actual[best] >= g * f_b else -1.0
    descend: int | None = None

    def t_values(a: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t_one = _root_t(a, g * f, phi)
        # A cause may scale each event (x6 per row: dispersion x rho) rather than the number
        # of events; allow for it. The ratio rho is itself estimated from the parent, which
        # holds this part.
        t_same = _root_t(a, rho * f, phi * max(rho, 1.0)) / np.sqrt(1.0 + f / f_b)
        return t_one, t_same

    for rows in _children_by_dimension(c, best):
        if len(rows) < 2:
            continue
        a, f = c.actual[rows], c.expected[rows]
        pos = f > 0
        t_one, t_same = t_values(a[pos], f[pos])
        t_min = max(_SIBLING_T, math.sqrt(2.0 * math.log(max(int(pos.sum()), 2))) + 1.0)
        if np.any((t_same > t_one) & (t_same > t_min)):
            return False, None
        # The rest once the child holding most of the change is set aside.
        top = int(np.argmax(sign * (a - g * f)))
        a_x = float(a.sum() - a[top])
        f_x = float(f.sum() - f[top])
        if f_x <= 0:
            continue
        t1, ts = t_values(np.array([a_x]), np.array([f_x]))
        if ts[0] > t1[0] and ts[0] > _SIBLING_T:
            return False, None
        # Within noise, but the rest sits nearer no change than the ratio: the child alone is
        # the answer. (Plain distances: the rest is often too small to test; when the rest
        # holds next to nothing, like the revenue of free users, this is all there is.)
        if descend is None and f[top] > 0 and abs(a_x - g * f_x) < abs(a_x - rho * f_x):
            descend = int(rows[top])
    return True, descend
