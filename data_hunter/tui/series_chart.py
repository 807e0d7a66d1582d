"""The metric over the whole date range, with the anomaly and baseline windows marked.

A cursor moves period by period; ``a`` ``a`` marks the anomaly window (start, end), ``b`` ``b``
the baseline, ``enter`` analyses the detected window (or period) under the cursor. ``[`` / ``]``
move the cursor to the previous / next detected window. The detected windows, the robust
expectation and the incomplete edge periods come from ``data_hunter.detect`` (computed by the
app's worker and handed over with the series).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
from rich.console import Group
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widget import Widget

from data_hunter.detect import DetectedWindow
from data_hunter.render import number
from data_hunter.tui.bars import Span, bar_rows, column_ranges, marker_row
from data_hunter.tui.labels import rounded
from data_hunter.windows import Granularity, WindowPair, period_start


class SeriesChart(Widget, can_focus=True):
    """A block-character chart of one series with a period cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left,h", "move(-1)", "◀ period", show=False),
        Binding("right,l", "move(1)", "period ▶", show=False),
        Binding("shift+left,H,pageup", "move(-7)", "-7", show=False),
        Binding("shift+right,L,pagedown", "move(7)", "+7", show=False),
        Binding("home", "jump('first')", "First", show=False),
        Binding("end", "jump('last')", "Last", show=False),
        Binding("left_square_bracket", "unusual(-1)", "Prev detected", show=False),
        Binding("right_square_bracket", "unusual(1)", "Next detected", show=False),
        Binding("a", "mark('anomaly')", "Mark anomaly"),
        Binding("b", "mark('baseline')", "Mark baseline"),
        Binding("enter", "analyse", "Analyse period"),
        Binding("escape", "cancel_mark", "Cancel mark", show=False),
    ]

    class WindowMarked(Message):
        """The user marked ``kind`` ("anomaly" or "baseline") from ``start`` to ``end``."""

        def __init__(self, kind: str, start: dt.date, end: dt.date, analyse: bool = False) -> None:
            super().__init__()
            self.kind = kind
            self.start = start
            self.end = end
            self.analyse = analyse

    def __init__(self, *, compact: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.compact = compact
        self.title = ""
        self.periods: list[dt.date] = []
        self.values: np.ndarray = np.zeros(0)
        self.granularity: Granularity = "day"
        self.reference: np.ndarray | None = None
        self.expected: np.ndarray | None = None  # NaN where the detector has no expectation
        self.unusual_runs: list[tuple[int, int]] = []  # detected windows, as period indexes
        self.detected: list[DetectedWindow] = []
        self.partial: tuple[bool, bool] = (False, False)
        self.cursor: int | None = None
        self.windows: WindowPair | None = None
        self.pending: tuple[str, int] | None = None
        self.message = "loading…"
        self._layout = (0, 0)

    # --- data -------------------------------------------------------------------------

    def set_series(
        self,
        periods: Sequence[dt.date],
        values: np.ndarray,
        granularity: Granularity,
        title: str = "",
        *,
        expected: np.ndarray | None = None,
        detected: Sequence[DetectedWindow] = (),
        partial: tuple[bool, bool] = (False, False),
    ) -> None:
        """Show a series; ``expected`` (NaN where unknown) is what squeezed columns are
        compared with, ``detected`` are marked under the bars, ``partial`` flags an incomplete
        first / last period."""
        old_date = self.cursor_date()
        self.periods = list(periods)
        self.values = np.nan_to_num(np.asarray(values, dtype=np.float64))
        self.granularity = granularity
        self.title = title
        self.message = "" if self.periods else "no data"
        self.reference = None
        self.expected = None
        if expected is not None and len(expected) == len(self.values):
            self.expected = np.asarray(expected, dtype=np.float64)
            ref = np.asarray(expected, dtype=np.float64)
            self.reference = np.where(np.isfinite(ref), ref, self.values)
        self.detected = list(detected)
        self.partial = partial if len(self.periods) > 1 else (False, False)
        self.unusual_runs = []
        for w in self.detected:
            first, last = self.index_of(w.start), self.index_of(w.end)
            if first is not None and last is not None:
                self.unusual_runs.append((first, last))
        self.pending = None
        if old_date is not None:
            self.set_cursor_date(old_date)
        elif self.periods:
            self.cursor = len(self.periods) - 1
        self.refresh()

    def clear_series(self, message: str) -> None:
        self.periods, self.values, self.message = [], np.zeros(0), message
        self.refresh()

    def set_windows(self, windows: WindowPair | None) -> None:
        self.windows = windows
        self.refresh()

    def index_of(self, day: dt.date) -> int | None:
        if not self.periods:
            return None
        start = period_start(day, self.granularity)
        if start <= self.periods[0]:
            return 0
        if start >= self.periods[-1]:
            return len(self.periods) - 1
        lo, hi = 0, len(self.periods) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.periods[mid] <= start:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def set_cursor_date(self, day: dt.date) -> None:
        self.cursor = self.index_of(day)
        self.refresh()

    def cursor_date(self) -> dt.date | None:
        if self.cursor is None or not self.periods:
            return None
        return self.periods[min(self.cursor, len(self.periods) - 1)]

    def spans(self) -> list[Span]:
        out: list[Span] = []
        n = len(self.periods)
        out += [Span(i, i, "partial") for i in (0, n - 1) if n and self.is_partial(i)]
        if self.windows is not None and self.periods:
            for kind, w in (("baseline", self.windows.baseline), ("anomaly", self.windows.anomaly)):
                first, last = self.index_of(w.start), self.index_of(w.end)
                if first is not None and last is not None:
                    out.append(Span(first, last, kind))
        if self.pending is not None and self.cursor is not None:
            kind, start = self.pending
            out.append(Span(min(start, self.cursor), max(start, self.cursor), f"pending-{kind}"))
        return out

    # --- actions ----------------------------------------------------------------------

    def action_move(self, delta: int) -> None:
        if not self.periods:
            return
        current = self.cursor if self.cursor is not None else len(self.periods) - 1
        self.cursor = max(0, min(len(self.periods) - 1, current + delta))
        self.refresh()

    def action_jump(self, where: str) -> None:
        if self.periods:
            self.cursor = 0 if where == "first" else len(self.periods) - 1
            self.refresh()

    def action_unusual(self, direction: int) -> None:
        if not self.periods:
            return
        here = self.cursor if self.cursor is not None else len(self.periods) - 1
        starts = [a for a, _ in self.unusual_runs]
        if direction < 0:
            targets = [s for s in starts if s < here]
        else:
            targets = [s for s in starts if s > here]
        if not targets:
            self.notify("No more detected anomalies that way", timeout=2)
            return
        self.cursor = targets[-1] if direction < 0 else targets[0]
        self.refresh()

    def detected_at(self, i: int) -> DetectedWindow | None:
        for w, (a, b) in zip(self.detected, self.unusual_runs, strict=False):
            if a <= i <= b:
                return w
        return None

    def is_partial(self, i: int) -> bool:
        n = len(self.periods)
        return (i == 0 and self.partial[0]) or (i == n - 1 and n > 0 and self.partial[1])

    def _run_at(self, i: int) -> tuple[int, int]:
        for a, b in self.unusual_runs:
            if a <= i <= b:
                return a, b
        return i, i

    def action_mark(self, kind: str) -> None:
        if self.cursor is None or not self.periods:
            return
        if self.pending is None or self.pending[0] != kind:
            self.pending = (kind, self.cursor)
            self.refresh()
            return
        start, end = sorted((self.pending[1], self.cursor))
        self.pending = None
        self.refresh()
        self.post_message(self.WindowMarked(kind, self.periods[start], self.periods[end]))

    def action_analyse(self) -> None:
        """Mark the detected window under the cursor (or its period) as the anomaly and go."""
        if self.cursor is None or not self.periods:
            return
        if self.pending is not None:
            kind, first = self.pending
            start, end = sorted((first, self.cursor))
        else:
            kind = "anomaly"
            start, end = self._run_at(self.cursor)
        self.pending = None
        self.refresh()
        self.post_message(
            self.WindowMarked(kind, self.periods[start], self.periods[end], analyse=True)
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_mark":
            return self.pending is not None
        return True

    def action_cancel_mark(self) -> None:
        self.pending = None
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        """Clicking a bar puts the cursor on its period."""
        gutter, plot = self._layout
        if self.compact or not self.periods or plot <= 0:
            return
        offset = event.get_content_offset(self)
        if offset is None:
            return
        col = offset.x - gutter
        if 0 <= col < plot:
            lo, _ = column_ranges(len(self.periods), plot)[col]
            self.cursor = lo
            self.refresh()

    # --- drawing ----------------------------------------------------------------------

    def render(self) -> Group:
        width, height = self.size.width, self.size.height
        if not self.periods:
            return Group(Text(self.message, style="dim"))
        lo, hi = float(self.values.min()), float(self.values.max())
        top, bottom = number(hi), number(lo)
        gutter = max(len(top), len(bottom)) + 1
        plot = max(width - gutter, 1)
        extra = 3 if not self.compact else 2 if height >= 4 else 1
        bar_height = max(height - extra, 1)
        spans = self.spans()
        self._layout = (gutter, plot)
        rows, ranges = bar_rows(
            self.values, plot, bar_height, reference=self.reference, spans=spans,
            cursor=None if self.compact else self.cursor,
            expected=None if self.compact else self.expected,
        )  # fmt: skip
        lines: list[Text] = []
        for r, row in enumerate(rows):
            label = top if r == 0 else bottom if r == bar_height - 1 else ""
            line = Text(label.rjust(gutter - 1) + " ", style="dim", no_wrap=True)
            line.append_text(row)
            lines.append(line)
        unusual_idx = [i for a, b in self.unusual_runs for i in range(a, b + 1)]
        edges = ((0, self.partial[0]), (len(self.periods) - 1, self.partial[1]))
        partial_idx = [i for i, flag in edges if flag]
        marks = marker_row(ranges, spans, None if self.compact else self.cursor, unusual_idx,
                           partial_idx)  # fmt: skip
        lines.append(Text(" " * gutter, no_wrap=True).append_text(marks))
        if not self.compact or height >= 4:
            lines.append(self._date_row(gutter, plot, ranges))
        if not self.compact:
            lines.append(self._status_row(width))
        return Group(*lines[:height])

    def _date_row(self, gutter: int, plot: int, ranges: list[tuple[int, int]]) -> Text:
        first, last = self.periods[0].isoformat(), self.periods[-1].isoformat()
        cells = [" "] * plot

        def put(text: str, at: int) -> None:
            at = max(0, min(plot - len(text), at))
            for i, ch in enumerate(text):
                if 0 <= at + i < plot:
                    cells[at + i] = ch

        put(first, 0)
        put(last, plot - len(last))
        if not self.compact and self.cursor is not None:
            from data_hunter.tui.bars import column_of

            col = column_of(self.cursor, ranges)
            label = self.periods[self.cursor].isoformat()
            at = col - len(label) // 2
            # keep the first/last dates visible when there is room
            if at > len(first) and at + len(label) < plot - len(last):
                put(label, at)
        return Text(" " * gutter + "".join(cells), style="dim", no_wrap=True)

    def _status_row(self, width: int) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        if self.cursor is not None:
            day = self.periods[self.cursor]
            text.append("▲ ", style="bold")
            text.append(f"{day.isoformat()} {day:%a}" if self.granularity == "day"
                        else f"{self.granularity} of {day.isoformat()}", style="bold")  # fmt: skip
            text.append(f"  {number(float(self.values[self.cursor]))}")
            ref = self.reference
            if ref is not None and ref[self.cursor] != self.values[self.cursor]:
                text.append(f" (exp {rounded(float(ref[self.cursor]))})", style="dim")
            window = self.detected_at(self.cursor)
            if window is not None:
                text.append(f" {window.direction} z{window.score:.0f}", style="magenta")
            if self.is_partial(self.cursor):
                text.append(f" partial {self.granularity}", style="dim italic")
        if self.pending is not None:
            kind, start = self.pending
            text.append(f"   {kind} from {self.periods[start]}: move, then {kind[0]} again",
                        style="bold yellow")  # fmt: skip
        elif self.windows is not None:
            a, b = self.windows.anomaly, self.windows.baseline
            text.append("   ━ ", style="bold yellow")
            text.append(span_text(a.start, a.end))
            text.append("  ─ ", style="blue")
            text.append(span_text(b.start, b.end))
        if self.unusual_runs and self.pending is None:
            n = len(self.unusual_runs)
            text.append(f"   • {n} detected", style="magenta")
        text.truncate(width, overflow="ellipsis")
        return text


def span_text(start: dt.date, end: dt.date) -> str:
    if start == end:
        return start.isoformat()
    if start.year == end.year:
        return f"{start.isoformat()}..{end:%m-%d}"
    return f"{start.isoformat()}..{end.isoformat()}"
