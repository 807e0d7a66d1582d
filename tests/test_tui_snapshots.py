"""SVG snapshots of the TUI's main states (update with ``pytest --snapshot-update``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot

from data_hunter.demo import write_demo
from data_hunter.tui.app import DataHunterApp
from tests.test_tui import settle

D = dt.date
BR = {"metric": "sessions", "anomaly_date": D(2025, 3, 18)}
IOS = {"metric": "sessions", "anomaly_date": D(2025, 5, 20), "anomaly_end": D(2025, 5, 22)}


@pytest.fixture(scope="module")
def snap_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("snap") / "demo.db"
    write_demo(path)
    return str(path)


def steps(*keys: str) -> Callable[[Pilot], Awaitable[None]]:
    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    return run_before


CASES = [
    ("overview", {}, (80, 24), ()),
    ("overview", {}, (120, 40), ()),
    ("prev-anomaly", {}, (80, 24), ("p",)),
    ("triage-br", BR, (80, 24), ()),
    ("triage-br", BR, (120, 40), ()),
    ("triage-br", BR, (40, 12), ()),
    ("ios-dip-expanded", IOS, (120, 40), ("l", "l")),
    ("drilled-br", BR, (80, 24), ("enter",)),
    ("drilled-br", BR, (120, 40), ("enter",)),
    ("grouped", BR, (120, 40), ("t",)),
    ("ordered-surprise", BR, (120, 40), ("o", "o")),
    ("weekly-partial-edges", {"granularity": "week"}, (120, 40), ()),
    ("help", {}, (80, 24), ("question_mark",)),
]


@pytest.mark.parametrize(
    ("name", "options", "size", "keys"),
    CASES,
    ids=[f"{c[0]}-{c[2][0]}x{c[2][1]}" for c in CASES],
)
def test_snapshot(
    snap_compare, snap_db: str, name: str, options: dict, size: tuple[int, int], keys: tuple
) -> None:  # type: ignore[no-untyped-def]
    app = DataHunterApp.open(snap_db, **options)
    assert snap_compare(app, terminal_size=size, run_before=steps(*keys))
