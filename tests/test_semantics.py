"""The attribution contract, pinned on a hand-made table with hand-computed numbers.

tests/conftest.py SMALL_ROWS, day granularity, data 2024-01-01 .. 2024-01-05. Anomaly on
01-05; the default baseline (28 days) is cut to the data: 01-01 .. 01-04, 4 periods.
Baseline sums: US&ios 40, US&web 8, BR&ios 4, NULL&ios 2 (total 54); expected = sum / 4.
Anomaly: US&ios 20, BR&web 6, NULL&ios 2, US&web NULL metric (= 0); total 28.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from data_hunter.engine import Engine
from data_hunter.errors import DataHunterError
from data_hunter.segment import ROOT, Segment

from .conftest import d


def stats_by_label(level_segments: list) -> dict[str, tuple[float, float, float]]:
    return {s.segment.label(): (s.actual, s.expected, s.contribution) for s in level_segments}


def test_totals_and_default_baseline_cut_to_data(small_db: Path) -> None:
    eng = Engine.open(str(small_db))
    w = eng.windows("day", d("2024-01-05"))
    assert (w.anomaly.start, w.anomaly.end, w.anomaly.periods) == (
        d("2024-01-05"),
        d("2024-01-05"),
        1,
    )
    assert (w.baseline.start, w.baseline.end, w.baseline.periods) == (
        d("2024-01-01"),
        d("2024-01-04"),
        4,
    )
    r = eng.attribute("m", w, top_n=10)
    assert (r.total.actual, r.total.expected, r.total.contribution) == (28, 13.5, 14.5)


def test_depth_one_values_and_ranking(small_db: Path) -> None:
    eng = Engine.open(str(small_db))
    r = eng.attribute("m", eng.windows("day", d("2024-01-05")), top_n=10)
    depth1 = r.levels[0].segments
    assert [s.segment.label() for s in depth1] == [
        "device=ios", "country=US", "country=BR", "device=web", "country=(null)"
    ]  # fmt: skip
    got = stats_by_label(depth1)
    assert got["device=ios"] == (22, 11.5, 10.5)
    assert got["country=US"] == (20, 12, 8)  # the NULL metric row counts as 0
    assert got["country=BR"] == (6, 1, 5)  # BR's one baseline day is divided by 4 periods
    assert got["device=web"] == (6, 2, 4)
    assert got["country=(null)"] == (2, 0.5, 1.5)  # NULL is a segment of its own
    shares = {s.segment.label(): s.share for s in depth1}
    assert shares["country=US"] == pytest.approx(8 / 14.5)


def test_depth_two_new_and_vanished_segments(small_db: Path) -> None:
    eng = Engine.open(str(small_db))
    r = eng.attribute("m", eng.windows("day", d("2024-01-05")), top_n=10)
    depth2 = r.levels[1].segments
    got = stats_by_label(depth2)
    assert got["country=BR & device=web"] == (6, 0, 6)  # new in the anomaly: expected 0
    assert got["country=BR & device=ios"] == (0, 1, -1)  # vanished: actual 0
    assert got["country=US & device=web"] == (0, 2, -2)  # only a NULL metric row: actual 0
    assert [s.segment.label() for s in depth2[:3]] == [
        "country=US & device=ios", "country=BR & device=web", "country=US & device=web"
    ]  # fmt: skip
    assert len(depth2) == 5


def test_top_n_and_combo_depth(small_db: Path) -> None:
    eng = Engine.open(str(small_db))
    w = eng.windows("day", d("2024-01-05"))
    r = eng.attribute("m", w, top_n=2, combo_depth=1)
    assert len(r.levels) == 1
    assert [s.segment.label() for s in r.levels[0].segments] == ["device=ios", "country=US"]
    r = eng.attribute("m", w, top_n=3)
    assert [lvl.depth for lvl in r.levels] == [1, 2]  # default: all (2) dimensions
    with pytest.raises(DataHunterError, match="combo-depth 3 is more than the 2 dimensions"):
        eng.attribute("m", w, combo_depth=3)
    with pytest.raises(DataHunterError, match="top-n"):
        eng.attribute("m", w, top_n=0)


def test_multi_period_anomaly(small_db: Path) -> None:
    eng = Engine.open(str(small_db))
    w = eng.windows("day", d("2024-01-04"), d("2024-01-05"))
    assert (w.anomaly.periods, w.baseline.start, w.baseline.periods) == (2, d("2024-01-01"), 3)
    r = eng.attribute("m", w)
    # baseline 15 + 14 + 10 = 39 over 3 periods, x 2 anomaly periods; actual 15 + 28
    assert (r.total.actual, r.total.expected, r.total.contribution) == (43, 26, 17)


def test_explicit_baseline(small_db: Path) -> None:
    eng = Engine.open(str(small_db))
    w = eng.windows("day", d("2024-01-05"), None, d("2024-01-02"), d("2024-01-03"))
    assert (w.baseline.start, w.baseline.end, w.baseline.periods) == (
        d("2024-01-02"),
        d("2024-01-03"),
        2,
    )
    r = eng.attribute("m", w)
    assert (r.total.actual, r.total.expected) == (28, 12)


def test_children_split_by_each_remaining_dimension(small_db: Path) -> None:
    eng = Engine.open(str(small_db))
    w = eng.windows("day", d("2024-01-05"))
    kids = eng.children("m", w, Segment((("country", "US"),)))
    assert list(kids) == ["device"]
    assert [(s.segment.label(), s.contribution) for s in kids["device"]] == [
        ("country=US & device=ios", 10), ("country=US & device=web", -2)
    ]  # fmt: skip
    root = eng.children("m", w, ROOT)
    assert set(root) == {"country", "device"}


def test_share_is_null_when_total_change_is_zero(make_db) -> None:
    db = make_db(
        [(d("2024-01-01"), "A", 1), (d("2024-01-01"), "B", 1), (d("2024-01-02"), "A", 2)],
        [("session_date", "DATE"), ("k", "VARCHAR"), ("m", "INTEGER")],
    )
    eng = Engine.open(str(db))
    r = eng.attribute("m", eng.windows("day", d("2024-01-02")))
    assert r.total.contribution == 0 and r.total.share is None
    assert [(s.segment.label(), s.contribution, s.share) for s in r.levels[0].segments] == [
        ("k=A", 1, None), ("k=B", -1, None)
    ]  # fmt: skip


def test_week_selects_whole_monday_week(make_db) -> None:
    start = d("2024-01-01")  # a Monday
    rows = [(start + dt.timedelta(days=i), "US", 2 if i >= 21 else 1) for i in range(28)]
    db = make_db(rows, [("session_date", "DATE"), ("country", "VARCHAR"), ("m", "INTEGER")])
    eng = Engine.open(str(db))
    w = eng.windows("week", d("2024-01-24"))  # a Wednesday
    assert (w.anomaly.start, w.anomaly.last_day) == (d("2024-01-22"), d("2024-01-28"))
    assert (w.baseline.start, w.baseline.end, w.baseline.periods) == (start, d("2024-01-15"), 3)
    r = eng.attribute("m", w)
    assert (r.total.actual, r.total.expected, r.total.contribution) == (14, 7, 7)


def test_month_and_timestamp_date_column(make_db) -> None:
    rows = [
        (dt.datetime(2024, 1, 10, 23, 59), "a", 3.0), (dt.datetime(2024, 2, 1, 0, 0), "a", 5.0),
        (dt.datetime(2024, 3, 31, 12, 0), "a", 10.0), (dt.datetime(2024, 3, 2, 8, 0), "b", 1.0),
    ]  # fmt: skip
    db = make_db(rows, [("session_date", "TIMESTAMP"), ("k", "VARCHAR"), ("m", "DOUBLE")])
    eng = Engine.open(str(db))
    w = eng.windows("month", d("2024-03-15"))
    assert (w.anomaly.start, w.baseline.start, w.baseline.periods) == (
        d("2024-03-01"),
        d("2024-01-01"),
        2,
    )
    r = eng.attribute("m", w)
    assert (r.total.actual, r.total.expected) == (11, 4)  # (3 + 5) / 2 months
    assert stats_by_label(r.levels[0].segments)["k=b"] == (1, 0, 1)


def test_gap_in_baseline_counts_as_zero_periods(make_db) -> None:
    # No rows at all on 01-02 and 01-03: still baseline periods inside the data's range.
    rows = [(d("2024-01-01"), "a", 6), (d("2024-01-04"), "a", 6), (d("2024-01-05"), "a", 9)]
    db = make_db(rows, [("session_date", "DATE"), ("k", "VARCHAR"), ("m", "INTEGER")])
    eng = Engine.open(str(db))
    r = eng.attribute("m", eng.windows("day", d("2024-01-05")))
    assert (r.total.expected, r.total.contribution) == (3, 6)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("day", "2024-01-05", "2024-01-04"), "before anomaly date"),
        (("day", "2024-02-01"), "outside the data"),
        (("day", "2024-01-01"), "no baseline data"),
        (("day", "2024-01-05", None, "2024-01-04", "2024-01-05"), "overlaps"),
        (("day", "2024-01-05", None, "2024-01-03", "2024-01-02"), "before baseline start"),
        (("day", "2024-01-05", None, "2023-01-01", "2023-02-01"), "no baseline data"),
    ],
)
def test_window_errors(small_db: Path, args: tuple, message: str) -> None:
    eng = Engine.open(str(small_db))
    g, *dates = args
    parsed = [d(x) if x else None for x in dates]
    with pytest.raises(DataHunterError, match=message):
        eng.windows(g, *parsed)


def test_anomaly_window_cut_to_data_is_noted(small_db: Path) -> None:
    eng = Engine.open(str(small_db))
    w = eng.windows("day", d("2024-01-05"), d("2024-01-20"))
    assert (w.anomaly.end, w.anomaly.periods) == (d("2024-01-05"), 1)
    assert w.notes


def test_total_of_a_scope(small_db: Path) -> None:
    eng = Engine.open(str(small_db))
    w = eng.windows("day", d("2024-01-05"))
    total = eng.total("m", w)
    assert (total.actual, total.expected) == (28, 13.5)
    us = eng.total("m", w, Segment((("country", "US"),)))
    assert (us.actual, us.expected) == (20, 12)


@pytest.fixture
def scans(monkeypatch) -> list[tuple[str, ...]]:
    """The dimensions of every window scan (``build_cube`` call) engines make. A scan set to
    ``scans.delay`` seconds (a list attribute) first sleeps that long."""
    import time

    from data_hunter import engine as engine_module

    class Scans(list):
        delay = 0.0

    calls = Scans()
    real = engine_module.build_cube

    def counting(*args, **kwargs):
        calls.append(args[2])
        time.sleep(calls.delay)
        return real(*args, **kwargs)

    monkeypatch.setattr(engine_module, "build_cube", counting)
    return calls


def test_concurrent_cube_requests_scan_once(small_db: Path, scans) -> None:
    import threading

    eng = Engine.open(str(small_db))
    w = eng.windows("day", d("2024-01-05"))
    eng.prefetch(w)
    results = []
    threads = [threading.Thread(target=lambda: results.append(eng.cube(w))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(scans) == 1
    assert all(r is results[0] for r in results)


def test_fewer_dimensions_are_summed_from_the_cached_cube(small_db: Path, scans) -> None:
    eng = Engine.open(str(small_db))
    w = eng.windows("day", d("2024-01-05"))
    eng.cube(w)
    sub = eng.cube(w, ["device"])
    assert scans == [("country", "device")]  # no second scan
    assert sub.dimensions == ("device",) and sub.labels == (("ios", "web"),)
    # ios: 20 + 2 on Jan 5; (10 + 10 + 4 + 10 + 10 + 2) / 4 days. web: 6 (+ NULL); (5 + 3) / 4.
    leaves = sub.leaves("m")
    assert leaves.actual.tolist() == [22, 6]
    assert leaves.expected.tolist() == [11.5, 2]
    assert (sub.rows, sub.anomaly_rows) == (12, 4)
    assert eng.cube(w, ["device"]) is sub
    eng.close()


def test_a_subset_request_waits_for_the_wider_scan_in_flight(small_db: Path, scans) -> None:
    import time

    scans.delay = 0.3
    eng = Engine.open(str(small_db))
    w = eng.windows("day", d("2024-01-05"))
    eng.prefetch(w)
    while not eng._pending:  # the prefetch has claimed the scan
        time.sleep(0.01)
    sub = eng.cube(w, ["country"])
    assert scans == [("country", "device")]
    assert sub.leaves("m").actual.tolist() == [6, 20, 2]  # BR, US, NULL
    eng.close()


def test_derive_subsets_scans_every_dimension_once(small_db: Path, scans) -> None:
    eng = Engine.open(str(small_db))
    eng.derive_subsets = True  # as the TUI does
    w = eng.windows("day", d("2024-01-05"))
    assert eng.cube(w, ["device"]).leaves("m").actual.tolist() == [22, 6]
    eng.cube(w)  # the Selection pane's counts: already there
    assert scans == [("country", "device")]
    eng.close()
