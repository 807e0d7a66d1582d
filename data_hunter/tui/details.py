"""Details of the highlighted segment: its numbers now, its own series a moment later.

Highlights are debounced (0.1 s) before the series query runs in a thread worker; every
request carries a number and only the latest one's result is drawn.
"""

from __future__ import annotations

import numpy as np
from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Static

from data_hunter.engine import Cancelled, CancelToken, Series
from data_hunter.errors import DataHunterError
from data_hunter.render import number, percent, signed
from data_hunter.segment import Segment, SegmentStats
from data_hunter.tui.context import ViewContext
from data_hunter.tui.detection import expectation
from data_hunter.tui.labels import compact, direction_style, rounded
from data_hunter.tui.series_chart import SeriesChart

DEBOUNCE = 0.1


class Details(Vertical):
    """Numbers and a sparkline for one segment."""

    class _SeriesLoaded(Message):
        def __init__(
            self, request: int, series: Series | None, error: str | None,
            expected: np.ndarray | None = None,
        ) -> None:  # fmt: skip
            super().__init__()
            self.request = request
            self.series = series
            self.error = error
            self.expected = expected

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.segment: Segment | None = None
        self.stats: SegmentStats | None = None
        self.context: ViewContext | None = None
        self.request = 0
        self._timer: Timer | None = None
        self._token: CancelToken | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="details-numbers")
        yield SeriesChart(compact=True, id="details-chart")

    def show(self, segment: Segment, stats: SegmentStats | None, context: ViewContext) -> None:
        changed = segment != self.segment or context is not self.context
        self.segment, self.stats, self.context = segment, stats, context
        self._draw_numbers()
        if not changed:
            return
        self.request += 1
        if self._timer is not None:
            self._timer.stop()
        if self._token is not None:
            self._token.cancel()
        request = self.request
        self._timer = self.set_timer(DEBOUNCE, lambda: self._start(request))

    def _start(self, request: int) -> None:
        if request != self.request or self.context is None or self.segment is None:
            return
        self._token = CancelToken()
        self._fetch(request, self.context, self.segment, self._token)

    @work(thread=True, exclusive=True, group="details", exit_on_error=False)
    def _fetch(self, request: int, ctx: ViewContext, segment: Segment, token: CancelToken) -> None:
        try:
            series = ctx.engine.series(ctx.metric, ctx.granularity, segment, token)
            expected, _ = expectation(ctx.engine, series)
        except Cancelled:
            return
        except DataHunterError as exc:
            self.post_message(self._SeriesLoaded(request, None, str(exc)))
            return
        except Exception as exc:
            self.post_message(self._SeriesLoaded(request, None, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(self._SeriesLoaded(request, series, None, expected))

    def on_details__series_loaded(self, event: _SeriesLoaded) -> None:
        event.stop()
        if event.request != self.request or self.context is None:
            return  # stale
        chart = self.query_one(SeriesChart)
        if event.series is None:
            chart.clear_series(f"series failed: {event.error}")
            return
        s = event.series
        chart.set_series(s.periods, s.values, self.context.granularity, expected=event.expected)
        chart.set_windows(self.context.windows)

    def _draw_numbers(self) -> None:
        numbers = self.query_one("#details-numbers", Static)
        if self.segment is None or self.context is None:
            numbers.update(Text("Highlight a segment", style="dim"))
            return
        title = Text(self.segment.label(), style="bold", overflow="fold")
        s = self.stats
        if s is None:
            numbers.update(Group(title, Text("loading…", style="dim")))
            return
        style = direction_style(s.contribution)
        wide = self.size.width >= 34 and self.size.height >= 9
        if wide:
            rows = [
                ("actual", number(s.actual), ""),
                ("expected", number(s.expected), ""),
                ("contribution", signed(s.contribution), style),
                ("share of change", percent(s.share), ""),
                ("change", percent(s.change, True), style),
            ]
            lines = [title]
            for name, value, st in rows:
                line = Text(f"{name:<16}", style="dim")
                line.append(value, style=st)
                lines.append(line)
            numbers.update(Group(*lines))
        else:
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append(self.segment.label(), style="bold")
            line.append(f"  {rounded(s.actual)} vs {rounded(s.expected)} exp  ")
            line.append(f"{compact(s.contribution)} ({percent(s.change, True)})", style=style)
            line.append(f"  {percent(s.share)} of change")
            numbers.update(line)

    def on_resize(self) -> None:
        self._draw_numbers()

    def on_unmount(self) -> None:
        """Quitting: stop the pending fetch and interrupt a running one."""
        self.request += 1
        if self._timer is not None:
            self._timer.stop()
        if self._token is not None:
            self._token.cancel()
