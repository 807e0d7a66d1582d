"""The TUI's plain-Python parts: chart columns, markers, detection adapter, labels."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from data_hunter.segment import Segment, SegmentStats
from data_hunter.tui import ordering
from data_hunter.tui.bars import Span, bar_rows, column_of, column_ranges, marker_row
from data_hunter.tui.labels import added_condition, compact, segment_label, share_bar


@given(st.integers(1, 2000), st.integers(1, 300))
def test_columns_cover_every_period_in_order(n: int, width: int) -> None:
    ranges = column_ranges(n, width)
    assert len(ranges) == width
    shown = set()
    for lo, hi in ranges:
        assert 0 <= lo < hi <= n
        shown.update(range(lo, hi))
    assert shown == set(range(n))
    assert [lo for lo, _ in ranges] == sorted(lo for lo, _ in ranges)
    for p in (0, n // 2, n - 1):
        lo, hi = ranges[column_of(p, ranges)]
        assert lo <= p < hi


@given(st.lists(st.floats(-1e9, 1e9, allow_nan=False), min_size=1, max_size=400),
       st.integers(1, 120), st.integers(1, 6))  # fmt: skip
def test_bars_never_crash_and_fill_the_width(values: list[float], width: int, h: int) -> None:
    rows, _ = bar_rows(np.array(values), width, h, cursor=len(values) - 1)
    assert len(rows) == h
    assert all(len(r.plain) == width for r in rows)


def test_bars_survive_nan_and_flat_series() -> None:
    rows, _ = bar_rows(np.array([np.nan, 1.0, np.inf * 0]), 10, 2)
    assert all(len(r.plain) == 10 for r in rows)
    rows, _ = bar_rows(np.zeros(5), 10, 2)
    assert all(len(r.plain) == 10 for r in rows)


def test_a_one_day_spike_survives_squeezing() -> None:
    values = np.full(365, 100.0)
    values[77] = 600.0
    ref = np.full(365, 100.0)  # the expectation: the spike is what stands out
    rows, ranges = bar_rows(values, 60, 1, reference=ref)
    col = column_of(77, ranges)
    assert rows[0].plain[col] == "█"
    assert set(rows[0].plain) - {"█"} == {"▁"}


def test_marker_row_reads_without_colour() -> None:
    ranges = column_ranges(10, 10)
    row = marker_row(ranges, [Span(0, 3, "baseline"), Span(4, 4, "anomaly")], 9, [6], [8])
    assert row.plain == "────━ • ◌▲"


def test_labels_are_plain_text() -> None:
    s = SegmentStats(Segment((("tag", "[/x]"),)), 150.0, 50.0, share=0.5)
    label = segment_label("tag=[/x]", s, 12)
    assert "tag=[/x]" in label.plain and "+100" in label.plain and "50%" in label.plain
    assert added_condition(Segment((("a", "1"), ("b", None))), Segment((("a", "1"),))) == "b=(null)"
    assert share_bar(0.5, 8) == "████    "
    assert share_bar(None, 4) == "    "
    assert compact(-1_234_567) == "-1.2M" and compact(0.5) == "+0.5" and compact(0) == "±0"


def _s(name: str, actual: float, expected: float) -> SegmentStats:
    return SegmentStats(Segment((("d", name),)), actual, expected)


def test_orders_of_children() -> None:
    big = _s("big", 1100, 1000)  # +100, +10%
    jump = _s("jump", 60, 10)  # +50, +500%
    new = _s("new", 20, 0)  # +20, appeared
    drop = _s("drop", 0, 80)  # -80, -100%
    stats = [big, jump, new, drop]
    assert ordering.ordered(stats) == [big, drop, jump, new]
    assert ordering.ordered(stats, "relative change") == [new, jump, drop, big]
    # surprise: |c| x log(1 + |rel|): 100 x 0.095, 50 x 1.79, 20 x log(101), 80 x 0.69
    assert ordering.ordered(stats, "surprise") == [new, jump, drop, big]
    assert ordering.surprise(_s("flat", 5, 5)) == 0
    assert ordering.next_order("surprise") == "|contribution|"


def test_dominant_child() -> None:
    parent = _s("p", 200, 100)  # +100
    assert ordering.dominant(_s("a", 195, 100), parent)  # +95
    assert not ordering.dominant(_s("b", 180, 100), parent)  # +80
    assert ordering.dominant(_s("c", 230, 100), parent)  # +130: more than all of it
    assert not ordering.dominant(_s("d", 0, 100), parent)  # the other way
    assert not ordering.dominant(_s("e", 5, 1), _s("flat", 5, 5))
    assert not ordering.dominant(_s("f", 5, 1), None)


def test_expected_level_marks_a_dip() -> None:
    values = np.full(10, 100.0)
    values[0] = 0.0  # the scale's bottom
    values[6] = 20.0  # a dip
    expected = np.full(10, np.nan)
    expected[6] = 100.0
    rows, _ = bar_rows(values, 10, 4, expected=expected)
    column = [row.plain[6] for row in rows]
    assert column[0] == "─"  # the expected level (the top row), above the short bar
    assert column[-1] != " "
    assert all(row.plain[5] != "─" for row in rows)  # no expectation: no mark
