"""Write SVG (and PNG, when rsvg-convert or cairosvg is available) pictures of the TUI's main
states on the demo data into ``screenshots/``.

    uv run python scripts/screenshots.py [--out screenshots]

Rerunnable and deterministic: every picture waits for the app's workers to finish.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import shutil
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot

from data_hunter.demo import ensure_demo
from data_hunter.tui.app import DataHunterApp
from data_hunter.tui.settle import settle

D = dt.date


Steps = Callable[[Pilot], Awaitable[None]]


def keys(*names: str) -> Steps:
    async def run(pilot: Pilot) -> None:
        for name in names:
            await pilot.press(name)
            await settle(pilot)

    return run


STATES: list[tuple[str, dict[str, object], tuple[int, int], Steps]] = [
    ("overview-120x40", {}, (120, 40), keys()),
    ("overview-80x24", {}, (80, 24), keys()),
    ("prev-anomaly-80x24", {}, (80, 24), keys("p")),
    ("triage-br-120x40", {"metric": "sessions", "anomaly_date": D(2025, 3, 18)}, (120, 40),
     keys()),
    ("triage-br-80x24", {"metric": "sessions", "anomaly_date": D(2025, 3, 18)}, (80, 24),
     keys()),
    ("ios-dip-expanded-120x40", {"metric": "sessions", "anomaly_date": D(2025, 5, 20),
                                 "anomaly_end": D(2025, 5, 22)}, (120, 40), keys("l", "l")),
    ("revenue-3way-120x40", {"metric": "revenue", "anomaly_date": D(2025, 7, 8)}, (120, 40),
     keys("l")),
    ("drilled-br-120x40", {"metric": "sessions", "anomaly_date": D(2025, 3, 18)}, (120, 40),
     keys("enter")),
    ("grouped-120x40", {"metric": "sessions", "anomaly_date": D(2025, 11, 18),
                        "anomaly_end": D(2025, 11, 19)}, (120, 40), keys("t", "l")),
    ("ordered-surprise-120x40", {"metric": "sessions", "anomaly_date": D(2025, 3, 18)},
     (120, 40), keys("o", "o")),
    ("weekly-partial-edges-120x40", {"granularity": "week"}, (120, 40), keys()),
    ("help-80x24", {}, (80, 24), keys("question_mark")),
]  # fmt: skip


async def shoot(db: str, out: Path) -> list[Path]:
    written = []
    for name, options, size, steps in STATES:
        app = DataHunterApp.open(db, **options)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await steps(pilot)
            app.clear_notifications()
            await pilot.pause(0.1)
            path = out / f"{name}.svg"
            path.write_text(app.export_screenshot(title=f"data-hunter tui · {name}"))
            written.append(path)
    return written


def to_png(svg: Path) -> Path | None:
    png = svg.with_suffix(".png")
    if shutil.which("rsvg-convert"):
        subprocess.run(["rsvg-convert", str(svg), "-o", str(png)], check=True)
        return png
    try:
        import cairosvg  # type: ignore[import-not-found]
    except ImportError:
        return None
    cairosvg.svg2png(url=str(svg), write_to=str(png))
    return png


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="screenshots", help="folder (default: screenshots)")
    parser.add_argument("--db", default=None, help="database (default: the built-in demo)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    db = args.db or str(ensure_demo())
    for svg in asyncio.run(shoot(db, out)):
        png = to_png(svg)
        print(svg if png is None else f"{svg}  {png}")


if __name__ == "__main__":
    main()
