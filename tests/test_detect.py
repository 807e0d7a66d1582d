"""Anomaly-window detection on synthetic series with known anomalies.

``uv run python tests/test_detect.py [SEEDS] [THRESHOLD]`` prints the false-window rate on
clean synthetic years (weekly seasonality, trend, Poisson-like counts of 1000-50000 a day).
"""

from __future__ import annotations

import calendar
import sys
from datetime import date, timedelta

import numpy as np
import pytest

from data_hunter.detect import (
    DEFAULT_THRESHOLD,
    STRONG_SCORE,
    DetectedWindow,
    SeriesFlags,
    detect,
    expected_series,
    fill_gaps,
    partial_periods,
    same_weekday_baseline,
)
from data_hunter.detect import most_recent_strong as pick

START = date(2025, 1, 6)  # a Monday


def days(n: int, start: date = START) -> list[date]:
    return [start + timedelta(days=i) for i in range(n)]


def clean_year(
    seed: int, n: int = 365, level: float | None = None, growth: float | None = None
) -> tuple[list[date], np.ndarray]:
    """Daily counts: weekly seasonality, linear trend, Poisson noise with 3% overdispersion."""
    rng = np.random.default_rng(seed)
    lvl = float(np.exp(rng.uniform(np.log(1000), np.log(50000)))) if level is None else level
    g = rng.uniform(-0.3, 1.0) if growth is None else growth
    weekday = np.array([1.0, 1.02, 1.0, 0.98, 0.95, rng.uniform(0.55, 0.8), rng.uniform(0.5, 0.75)])
    periods = days(n)
    t = np.arange(n)
    lam = lvl * (1 + g * t / n) * weekday[[p.weekday() for p in periods]]
    lam = lam * rng.lognormal(0.0, 0.03, n)
    return periods, rng.poisson(lam).astype(float)


def false_windows(seeds: int, threshold: float = DEFAULT_THRESHOLD) -> list[int]:
    out = []
    for seed in range(seeds):
        p, v = clean_year(seed)
        out.append(len(detect(p, v, "day", threshold=threshold)))
    return out


# --------------------------------------------------------------------------- daily


def test_weekly_seasonality_without_anomaly_reports_nothing() -> None:
    p, v = clean_year(1, n=200, level=5000, growth=0.0)
    assert detect(p, v, "day") == []


def test_seasonality_and_trend_at_most_one_false_window_per_year() -> None:
    counts = false_windows(20)
    assert max(counts) <= 1
    assert sum(counts) <= 3  # measured: 0.04 a year over 50 seeds


def test_one_day_holiday_spike() -> None:
    p, v = clean_year(2, level=3000, growth=0.4)
    i = 200  # 2025-07-25, a Friday
    v[i] *= 1.35
    windows = detect(p, v, "day")
    assert len(windows) == 1
    w = windows[0]
    assert (w.start, w.end, w.periods, w.direction) == (
        date(2025, 7, 25),
        date(2025, 7, 25),
        1,
        "spike",
    )
    assert w.actual == v[i]
    assert w.expected == pytest.approx(v[i] / 1.35, rel=0.06)
    assert w.score >= DEFAULT_THRESHOLD


def test_three_day_dip_is_one_merged_window() -> None:
    p, v = clean_year(3, level=2000, growth=0.2)
    v[250:253] = np.round(v[250:253] * 0.7)
    windows = detect(p, v, "day")
    assert [(w.start, w.end, w.periods, w.direction) for w in windows] == [
        (date(2025, 9, 13), date(2025, 9, 15), 3, "dip")
    ]
    assert windows[0].actual == v[250:253].sum()
    assert windows[0].actual < 0.8 * windows[0].expected


def test_level_shift_found_at_the_shift_and_then_adopted() -> None:
    p, v = clean_year(4, level=10000, growth=0.0)
    v[180:] = np.round(v[180:] * 1.5)
    windows = detect(p, v, "day")
    assert len(windows) == 1
    w = windows[0]
    assert (w.start, w.direction) == (date(2025, 7, 5), "spike")
    assert 1 <= w.periods <= 10  # the new level becomes the expectation within ~a week


def test_outlier_in_history_does_not_cause_follow_up_windows() -> None:
    p, v = clean_year(5, level=8000, growth=0.3)
    v[100] *= 6.0  # a huge one-off (bot traffic, double import)
    windows = detect(p, v, "day")
    assert [(w.start, w.periods, w.direction) for w in windows] == [(date(2025, 4, 16), 1, "spike")]
    # and the expectation right after it is not dragged up
    e = expected_series(p, v, "day")
    assert np.all(np.abs(e[101:160] / v[101:160] - 1) < 0.15)


def test_outlier_before_detection_starts_does_not_poison_its_weekday() -> None:
    p, v = clean_year(8, level=5000, growth=0.0)
    v[10] *= 6.0  # too early to be flagged, so it stays in the history
    assert detect(p, v, "day") == []


def test_repeated_same_weekday_outliers_are_kept_out_of_later_baselines() -> None:
    p, v = clean_year(9, level=5000, growth=0.0)
    for i in (140, 147, 154):  # three Mondays in a row: a weekly batch job gone wrong
        v[i] *= 5.0
    windows = detect(p, v, "day")
    assert [(w.start, w.periods, w.direction) for w in windows] == [
        (date(2025, 5, 26), 1, "spike"),
        (date(2025, 6, 2), 1, "spike"),
        (date(2025, 6, 9), 1, "spike"),
    ]


def test_multi_day_outage_does_not_make_the_recovery_a_spike() -> None:
    p, v = clean_year(7, level=6000, growth=0.2)
    v[200:205] = np.round(v[200:205] * 0.1)  # five days at 10%
    windows = detect(p, v, "day")
    assert [(w.start, w.end, w.direction) for w in windows] == [
        (date(2025, 7, 25), date(2025, 7, 29), "dip")
    ]


def test_small_counts_do_not_flag_poisson_noise() -> None:
    rng = np.random.default_rng(21)
    p = days(365)
    weekend = np.array([d.weekday() >= 5 for d in p])
    for lam in (2.0, 5.0, 20.0):
        v = rng.poisson(lam * np.where(weekend, 0.6, 1.0)).astype(float)
        assert len(detect(p, v, "day")) <= 1, lam
    v = rng.poisson(20.0 * np.where(weekend, 0.6, 1.0)).astype(float)
    v[300] = 80.0  # 4x a weekday of ~20 is still found
    assert (p[300], "spike") in [(w.start, w.direction) for w in detect(p, v, "day")]


def test_gaps_are_zeros() -> None:
    p, v = clean_year(6, level=4000, growth=0.1)
    keep = [i for i in range(len(p)) if i not in (300, 301)]
    windows = detect([p[i] for i in keep], v[keep], "day")
    assert [(w.start, w.end, w.direction, w.actual) for w in windows] == [
        (date(2025, 11, 2), date(2025, 11, 3), "dip", 0.0)
    ]
    grid, filled = fill_gaps([p[i] for i in keep], v[keep], "day")
    assert grid == p
    assert filled[300] == filled[301] == 0.0


def test_data_end_after_last_row_extends_with_zeros() -> None:
    p, v = clean_year(6, level=4000, growth=0.1)
    windows = detect(p[:-2], v[:-2], "day", data_end=p[-1])
    assert [(w.start, w.end, w.direction, w.actual) for w in windows] == [
        (p[-2], p[-1], "dip", 0.0)
    ]


def test_expected_series_tracks_the_series_and_is_nan_without_history() -> None:
    p, v = clean_year(7, level=20000, growth=0.5)
    e = expected_series(p, v, "day")
    assert e.shape == v.shape
    assert np.all(np.isnan(e[:21]))  # fewer than three previous same weekdays
    ok = ~np.isnan(e)
    assert ok.sum() > 330
    assert np.median(np.abs(e[ok] / v[ok] - 1)) < 0.04


def test_near_constant_history_does_not_flag_tiny_wiggles() -> None:
    p = days(150)
    v = np.full(150, 1_000_000.0)
    v[::2] += 1.0  # revenue-like, almost no noise
    v[140] *= 1.015  # +1.5%: below the 2% noise floor
    assert detect(p, v, "day") == []
    v[140] *= 1.2
    assert [(w.start, w.direction) for w in detect(p, v, "day")] == [(p[140], "spike")]


# --------------------------------------------------------------------------- weekly / monthly


def weekly(n: int, seed: int) -> tuple[list[date], np.ndarray]:
    rng = np.random.default_rng(seed)
    p = [START + timedelta(weeks=i) for i in range(n)]
    lam = 50_000 * (1 + 0.5 * np.arange(n) / n) * rng.lognormal(0.0, 0.02, n)
    return p, rng.poisson(lam).astype(float)


def test_weekly_spike_found() -> None:
    p, v = weekly(104, 10)
    assert detect(p, v, "week") == []
    v[60] *= 1.3
    windows = detect(p, v, "week")
    assert [(w.start, w.periods, w.direction) for w in windows] == [(date(2026, 3, 2), 1, "spike")]


def test_partial_final_week_is_flagged_and_not_a_dip() -> None:
    p, v = weekly(60, 11)
    last = p[-1]
    data_end = last + timedelta(days=2)  # the data stops on the Wednesday
    v[-1] = np.round(v[-1] * 3 / 7)
    assert partial_periods(p, "week", p[0], data_end) == SeriesFlags(False, True)
    assert detect(p, v, "week", data_start=p[0], data_end=data_end) == []
    # without knowing where the data ends, the same series does look like a dip
    assert [(w.start, w.direction) for w in detect(p, v, "week")] == [(last, "dip")]


def monthly(n: int, seed: int, start: date = date(2021, 1, 1)) -> tuple[list[date], np.ndarray]:
    """Monthly sums of a daily rate: February is short, not a dip."""
    rng = np.random.default_rng(seed)
    p = []
    d = start
    for _ in range(n):
        p.append(d)
        d = date(d.year + d.month // 12, d.month % 12 + 1, 1)
    ndays = np.array([calendar.monthrange(x.year, x.month)[1] for x in p])
    lam = 3000 * ndays * (1 + 0.4 * np.arange(n) / n) * rng.lognormal(0.0, 0.02, n)
    return p, rng.poisson(lam).astype(float)


def test_monthly_short_months_are_not_dips_and_a_real_dip_is() -> None:
    p, v = monthly(48, 12)
    assert detect(p, v, "month") == []
    e = expected_series(p, v, "month")
    feb = [i for i, d in enumerate(p) if d.month == 2 and not np.isnan(e[i])]
    assert len(feb) == 3
    assert np.all(np.abs(e[feb] / v[feb] - 1) < 0.05)  # 28 days expected, not 31
    v[30] *= 0.7  # July 2023
    windows = detect(p, v, "month")
    assert [(w.start, w.end, w.periods, w.direction) for w in windows] == [
        (date(2023, 7, 1), date(2023, 7, 1), 1, "dip")
    ]


def test_partial_first_month_is_flagged_and_not_used() -> None:
    p, v = monthly(36, 13)
    data_start = date(2021, 1, 20)
    v[0] = np.round(v[0] * 12 / 31)
    assert partial_periods(p, "month", data_start, date(2023, 12, 31)) == SeriesFlags(True, False)
    assert detect(p, v, "month", data_start=data_start, data_end=date(2023, 12, 31)) == []
    # the partial month is no history at all: same expectation as without that month
    e = expected_series(p, v, "month", data_start=data_start)
    without = expected_series(p[1:], v[1:], "month")
    assert np.isnan(e[0])
    np.testing.assert_array_equal(e[1:], without)
    assert not np.array_equal(expected_series(p, v, "month")[1:], without, equal_nan=True)


def test_partial_periods_edges() -> None:
    weeks = [date(2026, 11, 2), date(2026, 11, 9)]
    assert partial_periods(weeks, "week", date(2026, 11, 2), date(2026, 11, 15)) == SeriesFlags(
        False, False
    )
    assert partial_periods(weeks, "week", date(2026, 11, 3), date(2026, 11, 14)) == SeriesFlags(
        True, True
    )
    # the table's data started before this series' first week: that week is complete
    assert partial_periods(weeks, "week", None, None) == SeriesFlags(False, False)
    months = [date(2026, 1, 1), date(2026, 2, 1)]
    assert partial_periods(months, "month", date(2026, 1, 1), date(2026, 2, 28)) == SeriesFlags(
        False, False
    )
    assert partial_periods(months, "month", date(2026, 1, 1), date(2026, 2, 27)) == SeriesFlags(
        False, True
    )
    assert partial_periods(days(3), "day", START, START + timedelta(days=1)) == SeriesFlags(
        False, False
    )


def test_misaligned_or_unsorted_periods_are_rejected() -> None:
    with pytest.raises(ValueError):
        detect([date(2026, 11, 3)], [1.0], "week")  # a Tuesday
    with pytest.raises(ValueError):
        detect([date(2026, 11, 2), date(2026, 11, 1)], [1.0, 2.0], "day")
    with pytest.raises(ValueError):
        detect([date(2026, 11, 1)], [1.0, 2.0], "day")


# --------------------------------------------------------------------------- helpers


def test_same_weekday_baseline_dates() -> None:
    assert same_weekday_baseline(date(2026, 12, 3)) == [
        date(2026, 11, 5),
        date(2026, 11, 12),
        date(2026, 11, 19),
        date(2026, 11, 26),
    ]
    assert same_weekday_baseline(date(2026, 3, 2), weeks=2) == [
        date(2026, 2, 16),
        date(2026, 2, 23),
    ]


def win(start: date, score: float) -> DetectedWindow:
    return DetectedWindow(start, start, 1, "spike", 10.0, 5.0, score)


def test_most_recent_strong() -> None:
    assert pick([]) is None
    old_strong = win(date(2026, 10, 1), STRONG_SCORE + 5)
    new_strong = win(date(2026, 11, 1), STRONG_SCORE)
    newest_weak = win(date(2026, 11, 20), STRONG_SCORE - 1)
    assert pick([old_strong, new_strong, newest_weak]) == new_strong
    # with no strong window, the strongest marginal one
    weak_a = win(date(2026, 10, 1), 5.0)
    weak_b = win(date(2026, 11, 1), 4.5)
    assert pick([weak_a, weak_b]) == weak_a


if __name__ == "__main__":
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    thr = float(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_THRESHOLD
    counts = false_windows(seeds, thr)
    print(f"{sum(counts)} false windows over {seeds} clean years ({sum(counts) / seeds:.2f}/year)")
    print(f"years with more than one: {sum(c > 1 for c in counts)}")
