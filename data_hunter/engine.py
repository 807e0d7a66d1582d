"""The core's front door: what the CLI and the TUI call.

An ``Engine`` holds one read-only source and its schema, and caches the last window cubes so
that expanding tree nodes, switching metric or drilling in never rescans the table. Each call
uses its own DuckDB cursor, so calls from different worker threads do not share a connection
handle, and a ``CancelToken`` lets the caller interrupt a query that became stale.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import duckdb
import numpy as np

from data_hunter import sql
from data_hunter.attribution import (
    Level,
    attribute_levels,
    children,
    plan_levels,
    total_stats,
)
from data_hunter.cube import WindowCube, build_cube
from data_hunter.detect import DetectedWindow
from data_hunter.errors import DataHunterError
from data_hunter.limits import DEFAULT_MAX_CARDINALITY
from data_hunter.schema import Schema, discover, require_dimensions
from data_hunter.segment import ROOT, Segment, SegmentStats
from data_hunter.source import Source, open_source
from data_hunter.windows import Granularity, WindowPair, resolve_windows

_T = TypeVar("_T")


class Cancelled(Exception):
    """The query was interrupted because its result is no longer wanted."""


class CancelToken:
    """Shared between a worker and the UI: ``cancel()`` interrupts the worker's running query."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self.cancelled = False

    def attach(self, cursor: duckdb.DuckDBPyConnection) -> None:
        with self._lock:
            if self.cancelled:
                cursor.interrupt()
            self._cursors.append(cursor)

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            cursors = list(self._cursors)
        for cursor in cursors:
            with contextlib.suppress(duckdb.Error):
                cursor.interrupt()

    def check(self) -> None:
        if self.cancelled:
            raise Cancelled()


@dataclass(frozen=True)
class Series:
    """The metric per period; periods with no rows are filled with 0."""

    metric: str
    granularity: Granularity
    within: Segment
    periods: list[dt.date]
    values: np.ndarray


@dataclass(frozen=True)
class Attribution:
    """What ``data-hunter attribute`` reports."""

    metric: str
    granularity: Granularity
    windows: WindowPair
    dimensions: tuple[str, ...]
    total: SegmentStats
    levels: list[Level]
    within: Segment = ROOT
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Explained:
    """What ``data-hunter explain`` reports: root causes, best first."""

    metric: str
    granularity: Granularity
    windows: WindowPair
    dimensions: tuple[str, ...]
    total: SegmentStats
    root_causes: list[SegmentStats]
    explained: float
    within: Segment = ROOT
    notes: tuple[str, ...] = field(default_factory=tuple)


class Engine:
    """One open data source and the caches built on it."""

    CUBE_CACHE_SIZE = 3

    def __init__(self, source: Source, schema: Schema) -> None:
        self.source = source
        self.schema = schema
        self._lock = threading.Lock()
        self._cubes: OrderedDict[tuple[object, ...], WindowCube] = OrderedDict()
        self._pending: dict[tuple[object, ...], threading.Event] = {}
        self._background = CancelToken()  # interrupts prefetches when the engine closes
        self.derive_subsets = False
        """Build a cube over fewer than the schema's dimensions by summing the cube over all of
        them (scanning for that one first). The TUI sets it: it needs the cube over every
        dimension anyway (the Selection pane's counts), so a narrower request waits for that
        scan instead of racing it with a second one."""
        self._threads: list[threading.Thread] = []

    @classmethod
    def open(
        cls,
        db: str,
        table: str | None = None,
        date_column: str | None = None,
        dimensions: Sequence[str] | None = None,
    ) -> Engine:
        source = open_source(db)
        try:
            schema = discover(source, table, date_column, dimensions)
        except BaseException:
            source.close()
            raise
        return cls(source, schema)

    def close(self) -> None:
        # Interrupt and wait for background scans: DuckDB refuses to close a connection while
        # one of its cursors is still running.
        self._background.cancel()
        for thread in self._threads:
            thread.join(timeout=5)
        deadline = time.monotonic() + 2.0
        while True:
            try:
                self.source.close()
                return
            except duckdb.Error:
                # A worker thread's query is still unwinding from its interrupt: give it a
                # moment; past the deadline the process is exiting and the OS closes the file.
                if time.monotonic() > deadline:
                    return
                time.sleep(0.02)

    def total(
        self,
        metric: str,
        windows: WindowPair,
        within: Segment = ROOT,
        dimensions: Sequence[str] | None = None,
        token: CancelToken | None = None,
    ) -> SegmentStats:
        """Actual, expected and contribution of the whole scope (``within``)."""
        metric = self.schema.require_metric(metric)
        return total_stats(self.cube(windows, dimensions, token).leaves(metric), within)

    # --- queries ------------------------------------------------------------------------

    @contextlib.contextmanager
    def _cursor(self, token: CancelToken | None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A fresh cursor that ``token`` can interrupt; DuckDB errors become one-line
        ``DataHunterError``s, and an interrupted query becomes ``Cancelled``."""
        cursor = self.source.con.cursor()
        if token is not None:
            token.attach(cursor)
            token.check()
        try:
            yield cursor
        except duckdb.InterruptException:
            raise Cancelled() from None
        except duckdb.Error as exc:
            if token is not None and token.cancelled:
                raise Cancelled() from None
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            raise DataHunterError(f"query failed: {first}") from None

    def _fetchall(self, query: sql.Query, token: CancelToken | None) -> list[tuple[Any, ...]]:
        with self._cursor(token) as cursor:
            return cursor.execute(query.text, query.params).fetchall()

    def windows(
        self,
        granularity: Granularity,
        anomaly_date: dt.date,
        anomaly_end: dt.date | None = None,
        baseline_start: dt.date | None = None,
        baseline_end: dt.date | None = None,
        kind: str = "previous",
    ) -> WindowPair:
        return resolve_windows(
            granularity, self.schema.first_date, self.schema.last_date,
            anomaly_date, anomaly_end, baseline_start, baseline_end, kind,
        )  # fmt: skip

    def detect(
        self,
        metric: str,
        granularity: Granularity,
        within: Segment = ROOT,
        token: CancelToken | None = None,
        threshold: float | None = None,
    ) -> tuple[Series, list[DetectedWindow]]:
        """The series and its anomalous windows (see ``detect.py``)."""
        series, found, _ = self.analyse(metric, granularity, within, token, threshold)
        return series, found

    def analyse(
        self,
        metric: str,
        granularity: Granularity,
        within: Segment = ROOT,
        token: CancelToken | None = None,
        threshold: float | None = None,
    ) -> tuple[Series, list[DetectedWindow], np.ndarray]:
        """``detect`` plus the robust expectation per period, from one fit of the detector."""
        from data_hunter import detect as det

        series = self.series(metric, granularity, within, token)
        found, expected = det.analyse(
            series.periods, series.values, granularity,
            data_start=self.schema.first_date, data_end=self.schema.last_date,
            threshold=det.DEFAULT_THRESHOLD if threshold is None else threshold,
        )  # fmt: skip
        return series, found, expected

    def auto_window(
        self,
        metric: str,
        granularity: Granularity,
        within: Segment = ROOT,
        token: CancelToken | None = None,
    ) -> DetectedWindow:
        """The window ``--anomaly-date auto`` means: the most recent strong anomaly."""
        from data_hunter.detect import most_recent_strong

        _, found = self.detect(metric, granularity, within, token)
        best = most_recent_strong(found)
        if best is None:
            raise DataHunterError(
                f"no anomaly detected in {metric} by {granularity}; pass --anomaly-date"
            )
        return best

    def series(
        self,
        metric: str,
        granularity: Granularity,
        within: Segment = ROOT,
        token: CancelToken | None = None,
    ) -> Series:
        """The metric per period over the table's whole date range, gaps filled with 0."""
        from data_hunter.windows import add_periods, period_start, periods_between

        metric = self.schema.require_metric(metric)
        query = sql.series(self.schema.relation, metric, granularity, within.conditions)
        rows = self._fetchall(query, token)
        first = period_start(self.schema.first_date, granularity)
        last = period_start(self.schema.last_date, granularity)
        n = periods_between(first, last, granularity)
        periods = [add_periods(first, granularity, i) for i in range(n)]
        index = {p: i for i, p in enumerate(periods)}
        values = np.zeros(n, dtype=np.float64)
        for period, value in rows:
            i = index.get(period)
            if i is not None:
                values[i] = float(value)
        return Series(metric, granularity, within, periods, values)

    def cube(
        self,
        windows: WindowPair,
        dimensions: Sequence[str] | None = None,
        token: CancelToken | None = None,
    ) -> WindowCube:
        """The window cache for ``windows`` over ``dimensions`` (all metrics), built once."""
        dims = tuple(dimensions) if dimensions is not None else self.schema.dimensions
        if not dims:
            require_dimensions(self.schema)
        every = self.schema.dimensions
        if self.derive_subsets and dims != every and set(dims) <= set(every):
            self.cube(windows, every, token)  # then summed from it, below
        key = (windows.anomaly, windows.baseline, windows.kind, dims)
        while True:
            with self._lock:
                cached = self._cubes.get(key)
                if cached is not None:
                    self._cubes.move_to_end(key)
                    return cached
                # A cube over more dimensions for these windows (built, or being built) holds
                # this one: sum it up instead of scanning the window again.
                source = self._superset(key, self._cubes)
                pending = self._pending.get(key) or (
                    None if source is not None else self._superset(key, self._pending)
                )
                if pending is None:  # nobody is building it: we will
                    self._pending[key] = threading.Event()
                    break
            # Another thread (a prefetch, an earlier request) is building this very cube, or
            # one that holds it: wait for it rather than scanning twice; rebuild if it failed
            # or was cancelled.
            while not pending.wait(0.05):
                if token is not None:
                    token.check()
        try:
            if source is not None:
                cube = source.project(dims)
            else:
                query_dims = [self.schema.is_text(d) for d in dims]
                with self._cursor(token) as cursor:
                    cube = build_cube(cursor, self.schema.relation, dims, query_dims,
                                      self.schema.metrics, windows)  # fmt: skip
            with self._lock:
                self._cubes[key] = cube
                while len(self._cubes) > self.CUBE_CACHE_SIZE:
                    self._cubes.popitem(last=False)
        finally:
            with self._lock:
                self._pending.pop(key).set()
        return cube

    @staticmethod
    def _superset(key: tuple[Any, ...], table: Mapping[tuple[Any, ...], _T]) -> _T | None:
        """The entry of ``table`` for the same windows over more dimensions, if any."""
        wanted = set(key[3])
        for other, value in table.items():
            if other[:3] == key[:3] and other[3] != key[3] and wanted <= set(other[3]):
                return value
        return None

    def prefetch(self, windows: WindowPair, dimensions: Sequence[str] | None = None) -> None:
        """Start building the window cache in the background, e.g. while the TUI starts up;
        a later ``cube()`` call for the same windows waits for it instead of scanning again."""

        def build() -> None:
            with contextlib.suppress(Exception):  # the real request will report any error
                self.cube(windows, dimensions, self._background)

        thread = threading.Thread(target=build, name="data-hunter-prefetch", daemon=True)
        self._threads.append(thread)
        thread.start()

    def attribute(
        self,
        metric: str,
        windows: WindowPair,
        top_n: int = 3,
        combo_depth: int | None = None,
        dimensions: Sequence[str] | None = None,
        within: Segment = ROOT,
        token: CancelToken | None = None,
        max_cardinality: int | None = DEFAULT_MAX_CARDINALITY,
    ) -> Attribution:
        metric = self.schema.require_metric(metric)
        dims = tuple(dimensions) if dimensions is not None else self.schema.dimensions
        if not dims:
            require_dimensions(self.schema)
        if top_n < 1:
            raise DataHunterError("--top-n must be at least 1")
        cube = self.cube(windows, dims, token)
        leaves = cube.leaves(metric)
        total = total_stats(leaves, within)
        # Dimensions the user named explicitly are always crossed, whatever their cardinality.
        keep = dims if dimensions is not None else self.schema.explicit_dimensions
        plan = plan_levels(leaves, combo_depth, within, max_cardinality, keep)
        levels = attribute_levels(leaves, top_n, within=within, plan=plan)
        notes = [*windows.notes, *plan.notes]
        if cube.anomaly_rows == 0:
            notes.append("no rows in the anomaly window")
        if cube.rows == cube.anomaly_rows:
            notes.append("no rows in the baseline")
        bad = (cube.nonfinite or {}).get(metric, 0)
        if bad:
            notes.append(f"{bad:,} NaN or infinite {metric} values counted as 0")
        return Attribution(metric, windows.anomaly.granularity, windows, dims, total, levels,
                           within, tuple(notes))  # fmt: skip

    def explain(
        self,
        metric: str,
        windows: WindowPair,
        dimensions: Sequence[str] | None = None,
        within: Segment = ROOT,
        token: CancelToken | None = None,
        max_causes: int = 5,
    ) -> Explained:
        """The few non-overlapping segments that together explain the change."""
        from data_hunter.explain import explain

        metric = self.schema.require_metric(metric)
        dims = tuple(dimensions) if dimensions is not None else self.schema.dimensions
        if not dims:
            require_dimensions(self.schema)
        leaves = self.cube(windows, dims, token).leaves(metric)
        if not within.is_root:
            leaves = leaves.subset(leaves.mask(within))
        total = total_stats(leaves)
        result = explain(leaves, max_causes=max_causes)
        causes = [
            c
            if within.is_root
            else replace(c, segment=Segment.of({**within.as_dict(), **c.segment.as_dict()}, dims))
            for c in result.root_causes
        ]
        notes = [*windows.notes, *([result.note] if result.note else [])]
        return Explained(metric, windows.anomaly.granularity, windows, dims,
                         replace(total, segment=within), causes, result.explained, within,
                         tuple(notes))  # fmt: skip

    def children(
        self,
        metric: str,
        windows: WindowPair,
        parent: Segment,
        within: Segment = ROOT,
        dimensions: Sequence[str] | None = None,
        token: CancelToken | None = None,
    ) -> dict[str, list[SegmentStats]]:
        """The lazy tree's expansion: ``parent`` split by each remaining dimension."""
        metric = self.schema.require_metric(metric)
        dims = tuple(dimensions) if dimensions is not None else self.schema.dimensions
        leaves = self.cube(windows, dims, token).leaves(metric)
        total = total_stats(leaves, within).contribution
        return children(leaves, parent, total, dims)
