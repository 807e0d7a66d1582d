"""The TUI holds: small terminals, failing and slow queries, held keys, quitting mid-query,
and the user's database left untouched."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual import events

from data_hunter.engine import Cancelled, CancelToken, Engine
from data_hunter.errors import DataHunterError
from data_hunter.tui.app import DataHunterApp
from data_hunter.tui.details import Details
from data_hunter.tui.segment_tree import SegmentTree
from data_hunter.tui.series_chart import SeriesChart
from tests.test_tui import messages, ranked, segments, settle, triage

D = dt.date


def slow(seconds: float = 30.0) -> Callable[..., Any]:
    """An engine method that takes ``seconds`` unless its token is cancelled (as a DuckDB
    query interrupted through its ``CancelToken`` does)."""

    def run(*args: Any, **kwargs: Any) -> Any:
        token = kwargs.get("token") or next((a for a in args if isinstance(a, CancelToken)), None)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if token is not None and token.cancelled:
                raise Cancelled()
            time.sleep(0.01)
        raise DataHunterError("query failed: too slow")

    return run


# --- small terminals ---------------------------------------------------------------------


async def test_resize_down_to_40x12_and_back(demo_db: Path) -> None:
    app = DataHunterApp.open(str(demo_db))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        tree = app.query_one(SegmentTree)
        before = tree.cursor_node
        for size in [(80, 24), (60, 16), (40, 12), (40, 12), (120, 40)]:
            await pilot.resize_terminal(*size)
            await settle(pilot)
            assert app.is_running
            chart, details = app.query_one(SeriesChart), app.query_one(Details)
            # the breadcrumb, a chart and the tree with at least its cursor row stay visible
            assert chart.region.height >= 5
            assert tree.region.height >= 5 and tree.region.width >= min(size[0], 40)
            assert app.query_one("#breadcrumb").region.height == 1
            assert chart.region.bottom <= tree.region.y  # nothing overlaps
            if size[1] < 18:
                assert details.region.height == 0  # gives way to the tree
            else:
                assert details.region.height >= 5
            await pilot.press("j", "k")
        assert tree.cursor_node is before
        assert app.query_one("#selection").region.width > 0  # wide again: all panes back


# --- errors and late answers --------------------------------------------------------------


async def test_a_query_error_is_a_notification_and_the_app_keeps_running(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = triage(str(demo_db))
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)

        def broken(*args: Any, **kwargs: Any) -> Any:
            raise DataHunterError("query failed: Out of Memory Error: could not allocate")

        monkeypatch.setattr(Engine, "children", broken)
        tree = app.query_one(SegmentTree)
        tree.move_cursor(ranked(tree)[0])
        await pilot.press("l")  # expand country=BR: its query fails
        await settle(pilot)
        assert any("Out of Memory" in m for m in messages(app))
        node = ranked(tree)[0]
        assert "failed: query failed: Out of Memory" in str(node.children[0].label)
        monkeypatch.undo()
        await pilot.press("g")  # still alive and answering
        await settle(pilot)
        assert app.granularity == "week" and tree.total is not None


async def test_a_series_error_falls_back_without_crashing(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise DataHunterError("query failed: disk I/O error")

    monkeypatch.setattr(Engine, "series", broken)
    app = DataHunterApp.open(str(demo_db))  # detection needs the series: it fails
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        assert any("disk I/O error" in m for m in messages(app))
        assert "series failed" in app.query_one(SeriesChart).message
        assert app.context is not None  # analysed the last period instead
        assert app.context.windows.anomaly.start == app.engine.schema.last_date
        assert app.query_one(SegmentTree).total is not None


async def test_a_superseded_query_never_overwrites_newer_results(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A revenue query that ignores cancellation answers after the errors query: the tree and
    the chart keep showing errors."""
    release = threading.Event()
    real_children, real_series = Engine.children, Engine.series

    def late_children(self: Engine, metric: str, *args: Any, **kwargs: Any) -> Any:
        if metric == "revenue":
            release.wait(10)
        return real_children(self, metric, *args, **kwargs)

    def late_series(self: Engine, metric: str, *args: Any, **kwargs: Any) -> Any:
        if metric == "revenue":
            release.wait(10)
        return real_series(self, metric, *args, **kwargs)

    app = triage(str(demo_db))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        monkeypatch.setattr(Engine, "children", late_children)
        monkeypatch.setattr(Engine, "series", late_series)
        app.set_metric("revenue")
        await pilot.pause(0.1)
        app.set_metric("errors")
        tree, chart = app.query_one(SegmentTree), app.query_one(SeriesChart)
        errors = real_series(app.engine, "errors", "day")
        for _ in range(250):  # errors answers while revenue still hangs
            await pilot.pause(0.02)
            done = tree.total is not None and "errors" in str(tree.root.label)
            if done and list(chart.values) == list(errors.values):
                break
        assert list(chart.values) == list(errors.values)
        shown = segments(tree.root)
        release.set()  # now the stale revenue answers arrive
        await settle(pilot)
        assert "errors" in str(tree.root.label)
        assert segments(tree.root) == shown
        assert list(chart.values) == list(errors.values)
        assert app.context is not None and app.context.metric == "errors"


def burst(app: DataHunterApp, keys: list[str]) -> None:
    """Keys as a held-down key sends them: all queued at once, none waited for (``Pilot.press``
    waits for the app to go idle after every key)."""
    driver = app._driver
    assert driver is not None
    for key in keys:
        event = events.Key(key, key if len(key) == 1 else None)
        event.set_sender(app)
        driver.send_message(event)


async def test_a_key_held_down(demo_db: Path) -> None:
    app = triage(str(demo_db))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        tree = app.query_one(SegmentTree)
        burst(app, ["j"] * 200)
        await settle(pilot)
        assert app.is_running
        assert tree.cursor_line == tree.last_line  # stopped at the bottom, no wrap, no error
        assert not [n for n in app._notifications if n.severity == "error"]
        burst(app, ["k"] * 200)
        await settle(pilot)
        assert tree.cursor_line == 0
        burst(app, ["n", "p"] * 25)  # analyses started and superseded 50 times
        await settle(pilot)
        assert app.context is not None and app.context.windows.anomaly.start == D(2025, 3, 18)
        assert not [n for n in app._notifications if n.severity == "error"]


# --- quitting while a query runs ----------------------------------------------------------


def test_quit_while_a_query_runs_leaves_no_thread_behind(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Engine, "children", slow())
    monkeypatch.setattr(Engine, "series", slow())
    before = set(threading.enumerate())
    quit_took: list[float] = []

    async def session() -> None:
        app = triage(str(demo_db))
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(100):  # both slow queries are running
                await pilot.pause(0.02)
                if len([w for w in app.workers if w.is_running]) >= 2:
                    break
            assert len([w for w in app.workers if w.is_running]) >= 2
            started = time.monotonic()
            await pilot.press("q")
        quit_took.append(time.monotonic() - started)

    t0 = time.monotonic()
    asyncio.run(session())  # returns once the loop's worker threads have joined
    total = time.monotonic() - t0
    assert quit_took and quit_took[0] < 1.0
    assert total < 5.0
    left = [t.name for t in threading.enumerate() if t not in before and t.is_alive()]
    assert left == []


# --- the user's data ----------------------------------------------------------------------


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_the_database_file_is_unchanged_by_a_session(demo_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "mine.db"
    shutil.copy(demo_db, db)
    before = sha256(db)
    files = sorted(p.name for p in tmp_path.iterdir())
    app = DataHunterApp.open(str(db))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for key in ["p", "l", "j", "enter", "o", "t", "g", "g", "g", "backspace", "n", "r"]:
            await pilot.press(key)
            await settle(pilot)
        app.export_to(str(tmp_path / "out" / "x.csv"))  # a missing folder: refused
        out = tmp_path.parent / f"{tmp_path.name}-view.csv"
        app.export_to(str(out))
        assert out.exists()
    assert sha256(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == files  # no WAL, no temp files
