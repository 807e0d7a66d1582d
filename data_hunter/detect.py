"""Anomaly-window detection on an already-aggregated metric series (pure NumPy).

The core runs the SQL and hands over ``(period start, value)`` pairs; this module finds the
windows where the metric left its robust expectation.

Model, per period ``t`` (walked forward in time, so only the past is ever used):

* values are turned into a *rate* first (monthly values divided by the days in the month, so
  February is not a dip); gaps are zeros, incomplete edge weeks/months are left out entirely;
* ``base[t]``: trimmed mean (middle half) of the same season position in the previous ``K``
  seasons: the same weekday over the previous 8 weeks for daily data, the previous 8 weeks or
  6 months otherwise;
* ``R[t]``: trimmed mean over the last ``L`` kept periods of ``value / base``. Because every base
  lags by the same amount, this ratio carries the local level and trend; ``expected = base * R``;
* noise: robust standard deviation (RMS of the smallest 90%) of the *relative* residuals of
  the recent kept periods, floored at 2% of the level (the level is never taken below half the
  recent typical magnitude, so an expectation near 0 does not explode the relative residuals);
  ``z = (actual - expected) / noise``; for integer counts ``z`` is also
  capped by the Poisson (Anscombe) z ``2 (sqrt(actual + 3/8) - sqrt(expected + 3/8))``, so
  small counts need a much larger relative change; ``|z| >= threshold`` flags a spike or dip;
* a flagged period is dropped from every later baseline, so a one-off outlier does not poison
  the following weeks; a run longer than ``max_run`` periods (a week of days) is a new level:
  the history before it is rescaled by the run's actual/expected ratio and the run put back,
  so the expectation jumps to the new level and the window ends;
* consecutive flagged periods of the same direction merge into one window; its ``score`` is
  the largest ``|z|`` inside it.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import numpy as np

from data_hunter.windows import Granularity, add_periods, period_start

Direction = Literal["spike", "dip"]

DEFAULT_THRESHOLD = 4.0
"""``|z|`` at which a period is anomalous."""

STRONG_SCORE = 6.0
"""Windows scoring at least this are "strong" (what ``--anomaly-date auto`` prefers)."""

REL_FLOOR = 0.02
"""The noise is never taken below this fraction of the expected level."""


@dataclass(frozen=True)
class DetectedWindow:
    start: date  # first period start of the window
    end: date  # last period start of the window (inclusive)
    periods: int
    direction: Direction
    actual: float  # sum of the metric over the window's periods
    expected: float  # sum of the robust expectation over those periods
    score: float  # max robust |z| over the window (>= threshold)


@dataclass(frozen=True)
class SeriesFlags:
    partial_first: bool  # first period incomplete (week/month starting mid-period)
    partial_last: bool


@dataclass(frozen=True)
class _Params:
    season: int  # periods per seasonal cycle (7 for days, else 1)
    seasons: int  # K: previous cycles in the base
    min_base: int  # fewest of them for a base
    level_n: int  # L: recent value/base ratios in the level correction
    min_level: int
    resid_n: int  # recent residuals in the noise estimate
    min_resid: int
    max_run: int  # a longer run of same-direction anomalies is accepted as a new level
    min_history: int  # default: prior periods required before anything is flagged


_PARAMS: dict[str, _Params] = {
    "day": _Params(7, 8, 3, 7, 4, 56, 14, 7, 28),
    "week": _Params(1, 8, 3, 4, 3, 26, 8, 3, 8),
    "month": _Params(1, 6, 3, 3, 2, 18, 5, 2, 6),
}


# --------------------------------------------------------------------------- calendar helpers


def next_period(d: date, granularity: Granularity) -> date:
    return add_periods(d, granularity, 1)


def period_end(d: date, granularity: Granularity) -> date:
    """The last day of the period starting at ``d``."""
    return next_period(d, granularity) - timedelta(days=1)


def _days_in(d: date, granularity: Granularity) -> int:
    if granularity == "month":
        return calendar.monthrange(d.year, d.month)[1]
    return 1  # weeks are all 7 days long; no need to normalise them


def _check_periods(periods: Sequence[date], granularity: Granularity) -> None:
    if granularity not in _PARAMS:
        raise ValueError(f"unknown granularity {granularity!r}")
    for i, p in enumerate(periods):
        if period_start(p, granularity) != p:
            raise ValueError(f"{p} is not the start of a {granularity}")
        if i and p <= periods[i - 1]:
            raise ValueError("periods must be strictly ascending")


def fill_gaps(
    periods: Sequence[date],
    values: Sequence[float] | np.ndarray,
    granularity: Granularity,
    data_start: date | None = None,
    data_end: date | None = None,
) -> tuple[list[date], np.ndarray]:
    """Every period from the first to the last (widened to cover ``data_start``/``data_end``),
    missing periods and NaN values as 0."""
    _check_periods(periods, granularity)
    vals = np.asarray(values, dtype=float)
    if vals.shape != (len(periods),):
        raise ValueError("periods and values differ in length")
    bounds = list(periods)
    bounds += [period_start(d, granularity) for d in (data_start, data_end) if d is not None]
    if not bounds:
        return [], np.zeros(0)
    first, last = min(bounds), max(bounds)
    grid: list[date] = []
    p = first
    while p <= last:
        grid.append(p)
        p = next_period(p, granularity)
    index = {p: i for i, p in enumerate(grid)}
    out = np.zeros(len(grid))
    for p, v in zip(periods, vals, strict=True):
        out[index[p]] = v if np.isfinite(v) else 0.0
    return grid, out


def partial_periods(
    periods: Sequence[date],
    granularity: Granularity,
    data_start: date | None,
    data_end: date | None,
) -> SeriesFlags:
    """Whether the first/last period of the (gap-filled) series is only partly covered by data.

    Days are always complete. A week or month is partial when the data starts after its first
    day or ends before its last day.
    """
    if granularity == "day" or not (periods or data_start or data_end):
        return SeriesFlags(False, False)
    grid, _ = fill_gaps(periods, np.zeros(len(periods)), granularity, data_start, data_end)
    first = (
        data_start is not None
        and period_start(data_start, granularity) == grid[0]
        and data_start > grid[0]
    )
    last = (
        data_end is not None
        and period_start(data_end, granularity) == grid[-1]
        and data_end < period_end(grid[-1], granularity)
    )
    return SeriesFlags(bool(first), bool(last))


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class _Fit:
    expected: np.ndarray  # per grid period, in value units (NaN: not enough history)
    z: np.ndarray  # robust z per grid period (NaN: not scored)
    flagged: np.ndarray  # bool


def _trimmed_mean(vals: np.ndarray) -> float:
    """Mean of the middle half (the median for 3 values)."""
    n = len(vals)
    s = np.sort(vals)
    cut = max(1, n // 4) if n >= 3 else 0
    return float(s[cut : n - cut].mean())


def _robust_scale(res: np.ndarray) -> float:
    """Standard deviation of (mostly) Gaussian residuals, ignoring the largest 10%.

    The RMS of the 90% smallest ``|res|``, rescaled to be consistent for a normal. Much less
    jumpy than 1.4826 x MAD on a few dozen residuals (an underestimated noise is exactly what
    makes false windows), and still blind to the odd unflagged outlier.
    """
    a = np.sort(np.abs(res))
    k = max(1, int(np.ceil(0.9 * len(a))))
    return float(np.sqrt(np.mean(a[:k] ** 2)) * _TRIM_CONSISTENCY)


# E[x^2 | |x| < q90] = 0.6231 for a standard normal, hence the factor 1 / sqrt(0.6231).
_TRIM_CONSISTENCY = 1.2669


def _adopt_level(
    run: list[int],
    r: np.ndarray,
    hist: np.ndarray,
    base: np.ndarray,
    q: np.ndarray,
    expected: np.ndarray,
) -> None:
    """Accept a long run of same-direction anomalies as the new level.

    The history before the run is rescaled by the run's median actual/expected ratio and the
    run is put back into it, so that every later base (each mixing old and new periods in a
    different proportion) is on the new level at once, instead of drifting there over weeks
    and producing phantom windows on the way.
    """
    first = run[0]
    exp_run = expected[run]
    ok = np.isfinite(exp_run) & (exp_run != 0.0)
    if ok.any():
        ratio = float(np.median(r[run][ok] / exp_run[ok]))
        if np.isfinite(ratio) and ratio > 0.0:
            hist[:first] *= ratio
            base[: run[-1] + 1] *= ratio
    for s in run:
        hist[s] = r[s]
        if not np.isnan(base[s]) and base[s] != 0.0:
            q[s] = r[s] / base[s]


def _fit(
    grid: Sequence[date],
    y: np.ndarray,
    granularity: Granularity,
    skip: np.ndarray,
    threshold: float,
    min_history: int,
) -> _Fit:
    prm = _PARAMS[granularity]
    n = len(y)
    w = np.array([_days_in(p, granularity) for p in grid], dtype=float)
    r = y / w
    count_like = bool(n) and bool(np.all(y >= 0) and np.all(y == np.round(y)))
    tiny = 1e-9 * max(float(np.max(np.abs(y))) if n else 0.0, 1e-300)

    hist = r.copy()
    hist[skip] = np.nan
    base = np.full(n, np.nan)
    q = np.full(n, np.nan)  # value / base of kept periods
    rr = np.full(n, np.nan)  # relative residual of kept periods
    expected = np.full(n, np.nan)  # rate units
    z = np.full(n, np.nan)
    flagged = np.zeros(n, dtype=bool)
    run: list[int] = []
    run_dir = 0
    lags = prm.season * np.arange(1, prm.seasons + 1)
    level_back = 4 * prm.level_n if prm.season == 1 else 4 * prm.season

    for t in range(n):
        idx = t - lags
        past = hist[idx[idx >= 0]]
        past = past[~np.isnan(past)]
        if len(past) >= prm.min_base:
            base[t] = _trimmed_mean(past)
        if not np.isnan(base[t]):
            if base[t] == 0.0:
                expected[t] = 0.0
            else:
                recent = q[max(0, t - level_back) : t]
                recent = recent[~np.isnan(recent)][-prm.level_n :]
                if len(recent) >= prm.min_level:
                    expected[t] = base[t] * _trimmed_mean(recent)
        if skip[t]:
            continue

        e = expected[t]
        # The unit of the relative residuals: the expectation, but never much below the recent
        # typical magnitude, so an expectation near zero does not blow the residuals up.
        recent_abs = np.abs(hist[max(0, t - level_back) : t])
        recent_abs = recent_abs[~np.isnan(recent_abs)]
        unit = (
            abs(e)
            if np.isnan(e) or not len(recent_abs)
            else max(abs(e), 0.5 * float(np.median(recent_abs)))
        )
        if t >= min_history and not np.isnan(e):
            res = rr[max(0, t - 3 * prm.resid_n) : t]
            res = res[~np.isnan(res)][-prm.resid_n :]
            if len(res) >= prm.min_resid:
                e_val = e * w[t]
                noise = max(_robust_scale(res) * unit * w[t], REL_FLOOR * unit * w[t], tiny)
                z[t] = (y[t] - e_val) / noise
                if count_like and e_val >= 0.0:
                    # Poisson floor: Anscombe's variance-stabilised z is ~N(0, 1) even for
                    # small counts, where (y - e) / sqrt(e) has a far too heavy upper tail.
                    zp = 2.0 * (np.sqrt(y[t] + 0.375) - np.sqrt(e_val + 0.375))
                    z[t] = np.sign(z[t]) * min(abs(z[t]), abs(zp))

        if not np.isnan(z[t]) and abs(z[t]) >= threshold:
            flagged[t] = True
            hist[t] = np.nan
            d = 1 if z[t] > 0 else -1
            if run and run_dir == d and run[-1] == t - 1:
                run.append(t)
            else:
                run, run_dir = [t], d
            if len(run) > prm.max_run:
                _adopt_level(run, r, hist, base, q, expected)
                run = []
            continue

        run, run_dir = [], 0
        if not np.isnan(base[t]) and base[t] != 0.0:
            q[t] = r[t] / base[t]
        if not np.isnan(e) and unit != 0.0:
            rr[t] = (r[t] - e) / unit

    return _Fit(expected * w, z, flagged)


def _prepare(
    periods: Sequence[date],
    values: Sequence[float] | np.ndarray,
    granularity: Granularity,
    data_start: date | None,
    data_end: date | None,
) -> tuple[list[date], np.ndarray, np.ndarray]:
    grid, y = fill_gaps(periods, values, granularity, data_start, data_end)
    skip = np.zeros(len(grid), dtype=bool)
    if grid:
        flags = partial_periods(grid, granularity, data_start, data_end)
        skip[0] |= flags.partial_first
        skip[-1] |= flags.partial_last
    return grid, y, skip


def detect(
    periods: Sequence[date],
    values: Sequence[float] | np.ndarray,
    granularity: Granularity,
    *,
    data_start: date | None = None,
    data_end: date | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    min_history: int | None = None,
) -> list[DetectedWindow]:
    """Anomalous windows of the series, sorted by start.

    ``periods`` are ascending period starts (days, Monday weeks, first of months); missing
    periods and NaN values count as 0. ``data_start``/``data_end`` (first and last dates with
    data) widen the series to their periods and mark incomplete edge weeks/months, which are
    never reported nor used as history. ``min_history`` is the number of prior periods needed
    before a period can be flagged (default 28 days, 8 weeks, 6 months); detection also needs
    enough past residuals to estimate the noise, so in practice starts a little later.
    """
    return analyse(periods, values, granularity, data_start=data_start, data_end=data_end,
                   threshold=threshold, min_history=min_history)[0]  # fmt: skip


def expected_series(
    periods: Sequence[date],
    values: Sequence[float] | np.ndarray,
    granularity: Granularity,
    *,
    data_start: date | None = None,
    data_end: date | None = None,
) -> np.ndarray:
    """The robust expectation for each of ``periods`` (NaN where the history is too short).

    Aligned with ``periods``; gaps are filled internally (use :func:`fill_gaps` first to draw
    the expectation on the missing periods as well). Uses the default threshold, so periods
    that :func:`detect` flags are kept out of later expectations exactly as there; pass the
    same ``data_start``/``data_end`` as to :func:`detect` so partial edges are left out too.
    """
    return analyse(periods, values, granularity, data_start=data_start, data_end=data_end)[1]


def analyse(
    periods: Sequence[date],
    values: Sequence[float] | np.ndarray,
    granularity: Granularity,
    *,
    data_start: date | None = None,
    data_end: date | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    min_history: int | None = None,
) -> tuple[list[DetectedWindow], np.ndarray]:
    """:func:`detect` and :func:`expected_series` from one fit of the model: a caller that
    wants both (the TUI's chart) fits once instead of twice. Arguments as in :func:`detect`;
    the expectation is the one that fit (threshold and history) gives."""
    grid, y, skip = _prepare(periods, values, granularity, data_start, data_end)
    mh = _PARAMS[granularity].min_history if min_history is None else min_history
    fit = _fit(grid, y, granularity, skip, threshold, mh)
    windows: list[DetectedWindow] = []
    t = 0
    n = len(grid)
    while t < n:
        if not fit.flagged[t]:
            t += 1
            continue
        up = fit.z[t] > 0
        s = t
        while t + 1 < n and fit.flagged[t + 1] and (fit.z[t + 1] > 0) == up:
            t += 1
        windows.append(
            DetectedWindow(
                start=grid[s],
                end=grid[t],
                periods=t - s + 1,
                direction="spike" if up else "dip",
                actual=float(y[s : t + 1].sum()),
                expected=float(fit.expected[s : t + 1].sum()),
                score=float(np.abs(fit.z[s : t + 1]).max()),
            )
        )
        t += 1
    index = {p: i for i, p in enumerate(grid)}
    expected = np.array([fit.expected[index[p]] for p in periods], dtype=float)
    return windows, expected


def same_weekday_baseline(anomaly_start: date, weeks: int = 4) -> list[date]:
    """The same weekday in each of the previous ``weeks`` weeks, oldest first."""
    return [anomaly_start - timedelta(days=7 * k) for k in range(weeks, 0, -1)]


def most_recent_strong(windows: list[DetectedWindow]) -> DetectedWindow | None:
    """The window ``--anomaly-date auto`` picks.

    The most recent (latest start) window scoring at least :data:`STRONG_SCORE`; when none is
    that strong, the highest-scoring window (latest on a tie); None when there are no windows.
    """
    if not windows:
        return None
    strong = [w for w in windows if w.score >= STRONG_SCORE]
    if strong:
        return max(strong, key=lambda w: (w.start, w.score))
    return max(windows, key=lambda w: (w.score, w.start))
