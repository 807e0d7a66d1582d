"""``DataHunterApp``: selection, time series, segment tree and details over one DuckDB table.

The app owns the state (metric, granularity, dimensions, windows, drill path) and turns every
change into a new ``ViewContext`` with a higher generation. Panes get the context; queries run
in thread workers that post messages; a result whose generation is old is dropped, and the
stale query is interrupted through its ``CancelToken``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Input

from data_hunter.detect import DetectedWindow, most_recent_strong
from data_hunter.engine import Cancelled, CancelToken, Engine
from data_hunter.errors import DataHunterError
from data_hunter.segment import ROOT, Segment
from data_hunter.tui.breadcrumb import Breadcrumb
from data_hunter.tui.context import ViewContext
from data_hunter.tui.details import Details
from data_hunter.tui.detection import Detected
from data_hunter.tui.detection import load as load_detected
from data_hunter.tui.export import format_for, render_view, write_view
from data_hunter.tui.export_screen import ExportScreen
from data_hunter.tui.find_bar import FindBar
from data_hunter.tui.help_screen import HelpScreen
from data_hunter.tui.segment_tree import SegmentTree, loaded_rows
from data_hunter.tui.selection import SelectionPane
from data_hunter.tui.series_chart import SeriesChart
from data_hunter.windows import GRANULARITIES, Granularity, WindowPair


@dataclass(frozen=True)
class Options:
    """What the command line asked for (all optional)."""

    db: str | None = None
    table: str | None = None
    date_column: str | None = None
    dimensions: tuple[str, ...] | None = None
    metric: str | None = None
    granularity: Granularity = "day"
    anomaly_date: dt.date | None = None
    anomaly_end: dt.date | None = None
    baseline_start: dt.date | None = None
    baseline_end: dt.date | None = None
    baseline_kind: str = "previous"
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def triage(self) -> bool:
        """Opened on a known anomaly: start in the tree."""
        return self.anomaly_date is not None

    @property
    def auto(self) -> bool:
        """No window given: open on the most recent strong detected anomaly."""
        return self.anomaly_date is None


class _SeriesLoaded(Message):
    def __init__(self, request: int, found: Detected | None, error: str | None) -> None:
        super().__init__()
        self.request = request
        self.found = found
        self.error = error


class _CountsLoaded(Message):
    def __init__(self, generation: int, counts: dict[str, int]) -> None:
        super().__init__()
        self.generation = generation
        self.counts = counts


class _EngineReloaded(Message):
    def __init__(self, engine: Engine | None, error: str | None) -> None:
        super().__init__()
        self.engine = engine
        self.error = error


class DataHunterApp(App[None]):
    """Triage a metric's spike or dip, one keystroke at a time."""

    TITLE = "data-hunter"
    CSS_PATH = "app.tcss"
    HORIZONTAL_BREAKPOINTS = [  # noqa: RUF012
        (0, "-narrow"),
        (110, "-wide"),
    ]
    VERTICAL_BREAKPOINTS = [  # noqa: RUF012
        (0, "-tiny"),
        (18, "-short"),
        (32, "-tall"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark,f1", "help", "Help"),
        Binding("m", "pick_metric", "Metric"),
        Binding("d", "pick_dimensions", "Dims"),
        Binding("g", "cycle_granularity", "Gran"),
        Binding("n,right_curly_bracket", "step_anomaly(1)", "Next anomaly"),
        Binding("p,left_curly_bracket", "step_anomaly(-1)", "Prev anomaly", show=False),
        Binding("slash", "find", "Find"),
        Binding("e", "export", "Export"),
        Binding("r", "reload", "Reload", show=False),
        Binding("backspace,escape", "go_back", "Back"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, engine: Engine, options: Options | None = None) -> None:
        super().__init__()
        self.engine = engine
        engine.derive_subsets = True  # see Engine.derive_subsets
        self.options = options or Options()
        schema = engine.schema
        self.metric = schema.require_metric(self.options.metric or schema.metrics[0])
        self.granularity: Granularity = self.options.granularity
        self.dimensions: tuple[str, ...] = tuple(schema.dimensions)
        self.anomaly: tuple[dt.date, dt.date] | None = None
        self.baseline: tuple[dt.date | None, dt.date | None] | None = None
        if self.options.anomaly_date is not None:
            self.anomaly = (self.options.anomaly_date,
                            self.options.anomaly_end or self.options.anomaly_date)  # fmt: skip
        if self.options.baseline_start is not None or self.options.baseline_end is not None:
            self.baseline = (self.options.baseline_start, self.options.baseline_end)
        # The window follows the detector (on open, and on a new metric or granularity) until
        # the user chooses one (n / p, a a, enter on the chart).
        self.auto = self.options.auto
        self._awaiting_detection = False
        self._focus_tree_on_pick = self.options.auto
        self.detected: list[DetectedWindow] = []
        self.path: list[Segment] = []
        self.context: ViewContext | None = None
        self.generation = 0
        self._series_key: tuple[object, ...] | None = None
        self._series_request = 0
        self._series_token: CancelToken | None = None
        self._series_done = False
        self._find_typed = False
        self._focus_before_selection: Widget | None = None
        # Fail before the first frame when the flags cannot make an analysis.
        self._resolve()

    @classmethod
    def open(cls, db: str, **options: object) -> DataHunterApp:
        """Open ``db`` read-only (tests and scripts); options as in ``Options``."""
        opts = Options(db=db, **options)  # type: ignore[arg-type]
        engine = Engine.open(db, opts.table, opts.date_column, opts.dimensions)
        return cls(engine, opts)

    # --- layout -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        schema = self.engine.schema
        yield Breadcrumb(id="breadcrumb")
        with Horizontal(id="body"):
            pane = SelectionPane(schema.metrics, schema.dimensions, self.dimensions,
                                 id="selection")  # fmt: skip
            pane.border_title = "Selection"
            yield pane
            with Vertical(id="main"):
                chart = SeriesChart(id="chart")
                chart.border_title = "Time series"
                yield chart
                with Horizontal(id="lower"):
                    tree = SegmentTree(id="tree")
                    tree.border_title = "Segments"
                    yield tree
                    details = Details(id="details")
                    details.border_title = "Details"
                    yield details
        yield FindBar(id="find")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.sub_title = self._source_label()
        self.query_one(SelectionPane).show_choice(self.metric, self.granularity)
        if self.auto:
            self.query_one(SeriesChart).focus()
            self._await_detection()
            return
        self.analyse()
        self.query_one(SegmentTree).focus()

    def _source_label(self) -> str:
        s = self.engine.schema
        return f"{self.options.db or 'demo'} · {s.table} · {s.row_count:,} rows"

    # --- the analysis -----------------------------------------------------------------

    @property
    def within(self) -> Segment:
        return self.path[-1] if self.path else ROOT

    def default_anomaly(self) -> tuple[dt.date, dt.date]:
        """The window when none is chosen and nothing was detected: the last period."""
        last = self.engine.schema.last_date
        return last, last

    @property
    def baseline_kind(self) -> str:
        """``--baseline``; same-weekday applies to days with the default baseline only."""
        kind = self.options.baseline_kind
        if kind == "same-weekday" and (self.granularity != "day" or self.baseline is not None):
            return "previous"
        return kind

    def _resolve(self) -> WindowPair:
        start, end = self.anomaly or self.default_anomaly()
        b_start, b_end = self.baseline or (None, None)
        return self.engine.windows(self.granularity, start, end, b_start, b_end,
                                   self.baseline_kind)  # fmt: skip

    # --- detection: the window follows the detector until the user picks one -------------

    def _await_detection(self) -> None:
        """Run the detector on the current series and analyse its most recent strong
        anomaly when it answers (the tree waits, saying so)."""
        self._awaiting_detection = True
        self.generation += 1
        self.context = None
        self.query_one(SegmentTree).show_waiting(
            f"detecting anomalies in {self.metric} by {self.granularity}…"
        )
        self.query_one(Breadcrumb).show(self.path, self.metric, self.granularity, None)
        self._refresh_series(self.metric, self.granularity, self.within)

    def _pick_detected(self) -> None:
        self._awaiting_detection = False
        best = most_recent_strong(self.detected)
        if best is None:
            self.anomaly, self.baseline = None, None
            self.notify(f"No anomaly detected in {self.metric} by {self.granularity}: "
                        f"showing the last {self.granularity}", markup=False,
                        timeout=5)  # fmt: skip
        else:
            self.anomaly, self.baseline = (best.start, best.end), None
        if not self.analyse(keep_place=False) and best is not None:
            self.anomaly = None
            self.analyse()
        if best is not None and self.context is not None:
            self.query_one(SeriesChart).set_cursor_date(self.context.windows.anomaly.start)
            if self._focus_tree_on_pick:
                self.query_one(SegmentTree).focus()
        self._focus_tree_on_pick = False

    def action_step_anomaly(self, direction: int) -> None:
        """``n`` / ``p``: analyse the next / previous detected window of the series."""
        if self._awaiting_detection:
            self.notify("Still detecting anomalies…", timeout=2)
            return
        if not self.detected:
            self.notify("No anomaly detected in this series", timeout=3)
            return
        here = self.context.windows.anomaly.start if self.context is not None else None
        if here is None:
            target = self.detected[-1 if direction < 0 else 0]
        elif direction > 0:
            target = next((w for w in self.detected if w.start > here), None)  # type: ignore[assignment]
        else:
            target = next((w for w in reversed(self.detected) if w.start < here), None)  # type: ignore[assignment]
        if target is None:
            self.notify(f"No {'later' if direction > 0 else 'earlier'} detected anomaly",
                        timeout=2)  # fmt: skip
            return
        old = (self.anomaly, self.baseline, self.auto)
        self.anomaly, self.baseline, self.auto = (target.start, target.end), None, False
        if not self.analyse(keep_place=False):
            self.anomaly, self.baseline, self.auto = old
            return
        self.query_one(SeriesChart).set_cursor_date(target.start)
        self.query_one(SegmentTree).focus()
        self.notify(f"{target.direction} {target.start}"
                    + (f" .. {target.end}" if target.end != target.start else "")
                    + f", score {target.score:.1f}", timeout=2)  # fmt: skip

    def analyse(self, keep_place: bool = True) -> bool:
        """Turn the current state into a new context; False (and a notification) if the
        windows do not resolve."""
        try:
            windows = self._resolve()
        except DataHunterError as exc:
            self.notify(str(exc), severity="error", markup=False, timeout=8)
            return False
        self.generation += 1
        ctx = ViewContext(self.engine, self.metric, self.granularity, windows, self.dimensions,
                          self.within, self.generation)  # fmt: skip
        self.context = ctx
        for note in windows.notes:
            self.notify(note, markup=False, timeout=4)
        self.query_one(Breadcrumb).show(self.path, self.metric, self.granularity, windows)
        self.query_one(SeriesChart).set_windows(windows)
        self.query_one(SegmentTree).show_context(ctx, keep_place)
        self._refresh_series(ctx.metric, ctx.granularity, ctx.within)
        self._load_counts(self.generation, ctx)
        return True

    def _refresh_series(self, metric: str, granularity: Granularity, within: Segment) -> None:
        key = (id(self.engine), metric, granularity, within)
        if key == self._series_key:
            if self._awaiting_detection and self._series_done:
                self._pick_detected()
            return
        self._series_key = key
        self._series_done = False
        self._series_request += 1
        if self._series_token is not None:
            self._series_token.cancel()
        self._series_token = CancelToken()
        chart = self.query_one(SeriesChart)
        title = f"{metric} by {granularity}"
        if not within.is_root:
            title += f" · {within.label()}"
        chart.border_title = Content(title)  # plain text: data values are never markup
        self._load_series(self._series_request, self.engine, metric, granularity, within,
                          self._series_token)  # fmt: skip

    @work(thread=True, exclusive=True, group="series", exit_on_error=False)
    def _load_series(
        self, request: int, engine: Engine, metric: str, granularity: Granularity,
        within: Segment, token: CancelToken,
    ) -> None:  # fmt: skip
        try:
            found = load_detected(engine, metric, granularity, within, token)
        except Cancelled:
            return
        except Exception as exc:
            error = str(exc) if isinstance(exc, DataHunterError) else f"{type(exc).__name__}: {exc}"
            self.post_message(_SeriesLoaded(request, None, error))
            return
        self.post_message(_SeriesLoaded(request, found, None))

    @on(_SeriesLoaded)
    def _series_loaded(self, event: _SeriesLoaded) -> None:
        if event.request != self._series_request:
            return  # stale
        self._series_done = True
        chart = self.query_one(SeriesChart)
        if event.found is None:
            self.detected = []
            chart.clear_series(f"series failed: {event.error}")
            self.notify(event.error or "series failed", severity="error", markup=False)
            if self._awaiting_detection:
                self._pick_detected()
            return
        found = event.found
        s = found.series
        self.detected = list(found.windows)
        chart.set_series(s.periods, s.values, s.granularity, expected=found.expected,
                         detected=found.windows, partial=found.partial)  # fmt: skip
        if self._awaiting_detection:
            self._pick_detected()
            return
        if self.context is not None:
            chart.set_windows(self.context.windows)
            if chart.cursor is not None and chart.cursor == len(s.periods) - 1:
                chart.set_cursor_date(self.context.windows.anomaly.start)

    @work(thread=True, exclusive=True, group="counts", exit_on_error=False)
    def _load_counts(self, generation: int, ctx: ViewContext) -> None:
        """Distinct values per dimension in the analysed windows (from the window cache)."""
        try:
            cube = ctx.engine.cube(ctx.windows, ctx.engine.schema.dimensions)
        except Exception:
            return  # counts are a nicety; the tree reports real errors
        counts = {d: len(labels) for d, labels in zip(cube.dimensions, cube.labels, strict=True)}
        self.post_message(_CountsLoaded(generation, counts))

    @on(_CountsLoaded)
    def _counts_loaded(self, event: _CountsLoaded) -> None:
        if event.generation == self.generation:
            self.query_one(SelectionPane).show_counts(event.counts)

    # --- messages from the panes ------------------------------------------------------

    @on(SeriesChart.WindowMarked)
    def _window_marked(self, event: SeriesChart.WindowMarked) -> None:
        old = (self.anomaly, self.baseline, self.auto)
        if event.kind == "anomaly":
            self.anomaly, self.baseline = (event.start, event.end), None
        else:
            self.anomaly = self.anomaly or self._current_anomaly()
            self.baseline = (event.start, event.end)
        self.auto = False
        if not self.analyse(keep_place=event.kind != "anomaly"):
            self.anomaly, self.baseline, self.auto = old
            if self.context is not None:
                self.query_one(SeriesChart).set_windows(self.context.windows)
            return
        if event.analyse:
            self.query_one(SegmentTree).focus()

    def _current_anomaly(self) -> tuple[dt.date, dt.date] | None:
        if self.context is None:
            return None
        a = self.context.windows.anomaly
        return a.start, a.end

    @on(SegmentTree.Highlighted)
    def _highlighted(self, event: SegmentTree.Highlighted) -> None:
        if self.context is not None:
            self.query_one(Details).show(event.segment, event.stats, self.context)

    @on(SegmentTree.DrillRequested)
    def _drill(self, event: SegmentTree.DrillRequested) -> None:
        if event.segment == self.within:
            return
        self.path.append(event.segment)
        if not self.analyse():
            self.path.pop()

    @on(SelectionPane.MetricChosen)
    def _metric_chosen(self, event: SelectionPane.MetricChosen) -> None:
        self.set_metric(event.metric)
        self._close_selection()

    @on(SelectionPane.GranularityChosen)
    def _granularity_chosen(self, event: SelectionPane.GranularityChosen) -> None:
        self.set_granularity(event.granularity)  # type: ignore[arg-type]
        self._close_selection()

    @on(SelectionPane.DimensionsChanged)
    def _dimensions_changed(self, event: SelectionPane.DimensionsChanged) -> None:
        self.set_dimensions(event.dimensions)

    def set_metric(self, metric: str) -> None:
        if metric == self.metric:
            return
        old, self.metric = self.metric, metric
        if self.auto:
            self._await_detection()
        elif not self.analyse():
            self.metric = old
        self.query_one(SelectionPane).show_choice(self.metric, self.granularity)

    def set_granularity(self, granularity: Granularity) -> None:
        if granularity == self.granularity:
            return
        old, self.granularity = self.granularity, granularity
        if self.auto:
            self._await_detection()
        elif not self.analyse():
            self.granularity = old
        self.query_one(SelectionPane).show_choice(self.metric, self.granularity)

    def set_dimensions(self, dimensions: tuple[str, ...]) -> None:
        if not dimensions:
            self.notify("Choose at least one dimension", severity="warning")
            return
        if dimensions == self.dimensions:
            return
        old_dims, old_path = self.dimensions, list(self.path)
        self.dimensions = dimensions
        while self.path and any(d not in dimensions for d in self.within.dimensions):
            self.path.pop()
        if len(self.path) != len(old_path):
            self.notify("Left the drill-down: it used a dimension you unchecked", timeout=4)
        if not self.analyse():
            self.dimensions, self.path = old_dims, old_path

    # --- actions ----------------------------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def _open_selection(self, target: str) -> None:
        pane = self.query_one(SelectionPane)
        if self.focused is not None and self.focused not in pane.query("*"):
            self._focus_before_selection = self.focused
        pane.add_class("-open")
        self.query_one(target).focus()

    def _close_selection(self) -> None:
        """Back to the pane you were in before ``m`` / ``d`` (the tree by default)."""
        pane = self.query_one(SelectionPane)
        pane.remove_class("-open")
        if self.focused is not None and self.focused in pane.query("*"):
            before = self._focus_before_selection
            (before if before is not None and before.is_attached else
             self.query_one(SegmentTree)).focus()  # fmt: skip

    def action_pick_metric(self) -> None:
        self._open_selection("#metric-list")

    def action_pick_dimensions(self) -> None:
        self._open_selection("#dimension-list")

    def action_cycle_granularity(self) -> None:
        i = GRANULARITIES.index(self.granularity)
        self.set_granularity(GRANULARITIES[(i + 1) % len(GRANULARITIES)])
        self.notify(f"Granularity: {self.granularity}", timeout=2)

    def action_go_back(self) -> None:
        pane = self.query_one(SelectionPane)
        in_pane = self.focused is not None and self.focused in pane.query("*")
        if pane.has_class("-open") or in_pane:
            self._close_selection()
            return
        if not self.path:
            return
        left = self.path.pop()
        if self._awaiting_detection:
            self._await_detection()
        elif not self.analyse():
            self.path.append(left)

    def action_find(self) -> None:
        bar = self.query_one(FindBar)
        bar.add_class("-open")
        bar.focus()  # the last search stays: enter repeats it (the next match)
        self._find_typed = False

    @on(Input.Changed, "#find")
    def _find_changed(self, event: Input.Changed) -> None:
        if event.value.strip():
            self._find_typed = True
            self.query_one(SegmentTree).find(event.value)

    @on(Input.Submitted, "#find")
    def _find_submitted(self, event: Input.Submitted) -> None:
        tree = self.query_one(SegmentTree)
        again = not self._find_typed and event.value == tree._find_text
        if event.value.strip() and not tree.find(event.value, forward_from_cursor=again):
            self.notify(f"No loaded segment matches {event.value!r}", markup=False)
        self._close_find()

    @on(FindBar.Closed)
    def _close_find(self) -> None:
        self.query_one(FindBar).remove_class("-open")
        self.query_one(SegmentTree).focus()

    def default_export_path(self) -> str:
        assert self.context is not None
        w = self.context.windows.anomaly
        return f"data-hunter-{self.metric}-{w.start.isoformat()}.csv"

    def action_export(self) -> None:
        tree = self.query_one(SegmentTree)
        if self.context is None or tree.total is None:
            self.notify("Nothing to export yet", severity="warning")
            return
        self.push_screen(ExportScreen(self.default_export_path()), self.export_to)

    def export_to(self, path: str | None) -> None:
        """Write the current view to ``path`` (format from the extension)."""
        tree = self.query_one(SegmentTree)
        ctx = self.context
        if path is None or ctx is None or tree.total is None:
            return
        try:
            target = Path(path)
            text = render_view(format_for(target), ctx.metric, ctx.windows, ctx.within,
                               ctx.dimensions, tree.total, loaded_rows(tree))  # fmt: skip
            written = write_view(target, text)
        except DataHunterError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        rows = len(loaded_rows(tree))
        self.notify(f"Wrote {rows} segments to {written}", title="Exported", markup=False)

    def action_reload(self) -> None:
        if self.options.db is None:
            self.analyse()
            return
        self.notify("Reloading…", timeout=2)
        self._reopen(self.options)

    @work(thread=True, exclusive=True, group="reload", exit_on_error=False)
    def _reopen(self, options: Options) -> None:
        try:
            assert options.db is not None
            engine = Engine.open(options.db, options.table, options.date_column,
                                 options.dimensions)  # fmt: skip
        except Exception as exc:
            self.post_message(_EngineReloaded(None, str(exc)))
            return
        self.post_message(_EngineReloaded(engine, None))

    @on(_EngineReloaded)
    def _engine_reloaded(self, event: _EngineReloaded) -> None:
        if event.engine is None:
            self.notify(f"reload failed: {event.error}", severity="error", markup=False)
            return
        old = self.engine
        self.query_one(SegmentTree).cancel_loads()
        self.engine = event.engine
        self.engine.derive_subsets = True
        self._series_key = None
        self.analyse()
        self.notify(f"Reloaded: {self.engine.schema.row_count:,} rows", timeout=3)
        self.call_later(old.close)

    # --- command palette --------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        chart = "#chart"
        commands = [
            ("Help: keys", "Every key, by pane (?)", self.action_help),
            ("Metric: choose", "Pick the metric to explain (m)", self.action_pick_metric),
            ("Dimensions: choose", "Check / uncheck dimensions (d)", self.action_pick_dimensions),
            ("Granularity: cycle", "Day, week, month (g)", self.action_cycle_granularity),
            ("Anomaly: next detected", "Analyse the next detected window (n)",
             lambda: self.action_step_anomaly(1)),
            ("Anomaly: previous detected", "Analyse the previous detected window (p)",
             lambda: self.action_step_anomaly(-1)),
            ("Find a segment", "Jump among loaded segments (/)", self.action_find),
            ("Export the view", "CSV, JSON or Markdown file (e)", self.action_export),
            ("Reload the data", "Reopen the database (r)", self.action_reload),
            ("Back up one level", "Leave the current drill-down (backspace)", self.action_go_back),
            ("Tree: group by dimension", "Toggle grouping (t)",
             lambda: self.query_one(SegmentTree).action_toggle_grouping()),
            ("Tree: copy WHERE clause", "Copy the highlighted segment as SQL (y)",
             lambda: self.query_one(SegmentTree).action_copy()),
            ("Tree: drill in", "Focus the view on the highlighted segment (enter)",
             lambda: self.query_one(SegmentTree).action_drill()),
            ("Chart: mark anomaly", "At the chart cursor, twice for start and end (a)",
             lambda: self.query_one(chart, SeriesChart).action_mark("anomaly")),
            ("Chart: mark baseline", "At the chart cursor, twice for start and end (b)",
             lambda: self.query_one(chart, SeriesChart).action_mark("baseline")),
            ("Chart: previous detected anomaly", "Move the cursor ([)",
             lambda: self.query_one(chart, SeriesChart).action_unusual(-1)),
            ("Chart: next detected anomaly", "Move the cursor (])",
             lambda: self.query_one(chart, SeriesChart).action_unusual(1)),
            ("Chart: analyse the cursor period", "Mark it as the anomaly (enter)",
             lambda: self.query_one(chart, SeriesChart).action_analyse()),
        ]  # fmt: skip
        for title, help_, callback in commands:
            yield SystemCommand(title, help_, callback)

    def on_unmount(self) -> None:
        for tree in self.query(SegmentTree):
            tree.cancel_loads()
        if self._series_token is not None:
            self._series_token.cancel()
