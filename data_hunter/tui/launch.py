"""``data-hunter tui``: check the flags and open the database, then start the app.

Everything that can fail on bad input happens before Textual is imported, so the user gets a
one-line error (exit 2) instead of a half-drawn screen.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys

from data_hunter.errors import DataHunterError


def run(args: argparse.Namespace) -> int:
    from data_hunter.engine import Engine
    from data_hunter.schema import parse_dimension_list
    from data_hunter.windows import parse_date, parse_granularity

    granularity = parse_granularity(args.time_dimension or "day")

    def date(value: str | None, flag: str) -> dt.date | None:
        return parse_date(value, flag) if value else None

    auto = args.anomaly_date is not None and args.anomaly_date.strip().lower() == "auto"
    anomaly_date = None if auto else date(args.anomaly_date, "--anomaly-date")
    anomaly_end = date(args.anomaly_end, "--anomaly-end")
    baseline_start = date(args.baseline_start, "--baseline-start")
    baseline_end = date(args.baseline_end, "--baseline-end")
    if anomaly_date is None and (anomaly_end or baseline_start or baseline_end):
        raise DataHunterError("--anomaly-end and --baseline-* need --anomaly-date")
    kind = getattr(args, "baseline", None) or "previous"
    if kind == "same-weekday" and granularity != "day":
        raise DataHunterError("--baseline same-weekday needs --time-dimension day")
    if kind == "same-weekday" and (baseline_start or baseline_end):
        raise DataHunterError("give either --baseline same-weekday or baseline dates, not both")
    dimensions = parse_dimension_list(args.dimensions)
    db = args.db
    if db is None:
        from data_hunter.demo import demo_path, ensure_demo

        if not demo_path().exists():
            print(f"data-hunter: writing the demo database to {demo_path()} (first run only)",
                  file=sys.stderr)  # fmt: skip
        db = str(ensure_demo())
    engine = Engine.open(db, args.table, args.date_column, dimensions)
    try:
        from data_hunter.tui.app import DataHunterApp, Options

        if anomaly_date is not None:
            # Start the window scan now, so it overlaps the app's start and first paint; the
            # tree's request waits for it instead of scanning again. Not before Textual's
            # import: both need the CPU, and measured at 10M rows (bench/README.md) that
            # delays the first paint by ~0.25 s without filling the root any sooner. Bad
            # windows are reported by the app below: a failure here is only no head start.
            with contextlib.suppress(DataHunterError):
                engine.prefetch(engine.windows(granularity, anomaly_date, anomaly_end,
                                               baseline_start, baseline_end, kind))  # fmt: skip

        options = Options(
            db=db, table=args.table, date_column=args.date_column, dimensions=dimensions,
            metric=args.metric, granularity=granularity, anomaly_date=anomaly_date,
            anomaly_end=anomaly_end, baseline_start=baseline_start, baseline_end=baseline_end,
            baseline_kind=kind,
        )  # fmt: skip
        app = DataHunterApp(engine, options)  # validates metric and windows
        app.run(mouse=not args.no_mouse)
        if app.engine is not engine:  # reloaded with r
            app.engine.close()
    finally:
        engine.close()
    return 0
