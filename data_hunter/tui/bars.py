"""Block-character bar charts of a series, as plain ``rich.text.Text`` rows (no Textual).

A chart maps ``n`` periods onto ``width`` columns. With more periods than columns each column
covers a run of periods and shows the one furthest from its reference (so one-day spikes and
dips survive the squeeze); with fewer, each period is stretched over several columns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rich.text import Text

BLOCKS = " ▁▂▃▄▅▆▇█"
BAR_STYLE = "cyan"
ANOMALY_STYLE = "bold yellow"
BASELINE_STYLE = "blue"
PARTIAL_STYLE = "dim cyan"
CURSOR_STYLE = "bold bright_white"
ANOMALY_MARK = "━"
BASELINE_MARK = "─"
CURSOR_MARK = "▲"
EXPECTED_MARK = "─"
UNUSUAL_MARK = "•"
PARTIAL_MARK = "◌"


@dataclass(frozen=True)
class Span:
    """Periods ``first``..``last`` (indexes, inclusive) to mark under the bars."""

    first: int
    last: int
    kind: str  # "anomaly" | "baseline" | "pending-anomaly" | "pending-baseline" | "partial"

    def covers(self, i: int) -> bool:
        return self.first <= i <= self.last


def column_ranges(n: int, width: int) -> list[tuple[int, int]]:
    """For each column, the periods ``[lo, hi)`` it shows."""
    if n <= 0 or width <= 0:
        return []
    if n >= width:
        return [
            (c * n // width, max((c + 1) * n // width, c * n // width + 1)) for c in range(width)
        ]
    return [(c * n // width, c * n // width + 1) for c in range(width)]


def column_of(period: int, ranges: Sequence[tuple[int, int]]) -> int:
    """The first column showing ``period`` (the nearest one if none does)."""
    for c, (lo, hi) in enumerate(ranges):
        if lo <= period < hi:
            return c
    return max(0, len(ranges) - 1) if ranges and period >= ranges[-1][0] else 0


def representative(values: np.ndarray, ref: np.ndarray | None, lo: int, hi: int) -> int:
    """The period in ``[lo, hi)`` furthest from its reference value."""
    if hi - lo <= 1 or ref is None:
        return lo
    deviation = np.abs(values[lo:hi] - ref[lo:hi])
    return lo + int(np.argmax(deviation))


def bar_rows(
    values: np.ndarray,
    width: int,
    height: int,
    *,
    reference: np.ndarray | None = None,
    spans: Sequence[Span] = (),
    cursor: int | None = None,
    colour: bool = True,
    expected: np.ndarray | None = None,
) -> tuple[list[Text], list[tuple[int, int]]]:
    """``height`` rows of bars plus the column ranges used. With ``expected`` (per period,
    NaN where unknown) a dim ``─`` marks the expected level above a bar that fell short."""
    values = np.nan_to_num(np.asarray(values, dtype=np.float64))
    ranges = column_ranges(len(values), width)
    if not ranges or height <= 0:
        return [Text(" " * max(width, 0)) for _ in range(max(height, 0))], ranges
    picked = [representative(values, reference, lo, hi) for lo, hi in ranges]
    shown = values[picked]
    lo_v, hi_v = float(values.min()), float(values.max())
    levels = height * 8
    if hi_v - lo_v <= 0 or not math.isfinite(hi_v - lo_v):
        scaled = [levels // 2] * len(shown)
    else:
        scaled = [1 + round((float(v) - lo_v) / (hi_v - lo_v) * (levels - 1)) for v in shown]
    expect_row: list[int | None] = [None] * len(shown)
    if expected is not None and len(expected) == len(values) and hi_v - lo_v > 0:
        for c, i in enumerate(picked):
            e = float(expected[i])
            if math.isfinite(e) and lo_v <= e <= hi_v:
                level = 1 + round((e - lo_v) / (hi_v - lo_v) * (levels - 1))
                if level > scaled[c] + 8:  # at least a row above the top of the bar
                    expect_row[c] = height - 1 - (level - 1) // 8
    cursor_col = column_of(cursor, ranges) if cursor is not None else None
    rows: list[Text] = []
    for r in range(height):
        floor = (height - 1 - r) * 8
        row = Text(no_wrap=True)
        for c, level in enumerate(scaled):
            cell = BLOCKS[max(0, min(8, level - floor))]
            style = _column_style(ranges[c], spans, colour)
            if cursor_col is not None and c == cursor_col:
                style = CURSOR_STYLE if colour else ""
                if cell == " ":
                    cell, style = "│", "dim"
            elif cell == " " and expect_row[c] == r:
                cell, style = EXPECTED_MARK, "dim"
            row.append(cell, style=style)
        rows.append(row)
    return rows, ranges


def _column_style(rng: tuple[int, int], spans: Sequence[Span], colour: bool) -> str:
    if not colour:
        return ""
    lo, hi = rng
    kinds = {s.kind for s in spans if s.first < hi and lo <= s.last}
    if "anomaly" in kinds or "pending-anomaly" in kinds:
        return ANOMALY_STYLE
    if "baseline" in kinds or "pending-baseline" in kinds:
        return BASELINE_STYLE
    if "partial" in kinds:
        return PARTIAL_STYLE
    return BAR_STYLE


def marker_row(
    ranges: Sequence[tuple[int, int]],
    spans: Sequence[Span],
    cursor: int | None = None,
    unusual: Sequence[int] = (),
    partial: Sequence[int] = (),
) -> Text:
    """``━`` under the anomaly, ``─`` under the baseline, ``•`` under detected anomalies,
    ``◌`` under an incomplete edge period and ``▲`` under the cursor: readable without
    colour."""
    unusual_set = set(unusual)
    partial_set = set(partial)
    cursor_col = column_of(cursor, ranges) if cursor is not None else None
    row = Text(no_wrap=True)
    for c, (lo, hi) in enumerate(ranges):
        kinds = {s.kind for s in spans if s.first < hi and lo <= s.last}
        if c == cursor_col:
            row.append(CURSOR_MARK, style="bold")
        elif "anomaly" in kinds:
            row.append(ANOMALY_MARK, style=ANOMALY_STYLE)
        elif "pending-anomaly" in kinds:
            row.append("┅", style=ANOMALY_STYLE)
        elif "baseline" in kinds:
            row.append(BASELINE_MARK, style=BASELINE_STYLE)
        elif "pending-baseline" in kinds:
            row.append("┄", style=BASELINE_STYLE)
        elif any(lo <= u < hi for u in unusual_set):
            row.append(UNUSUAL_MARK, style="magenta")
        elif any(lo <= u < hi for u in partial_set):
            row.append(PARTIAL_MARK, style="dim")
        else:
            row.append(" ")
    return row
