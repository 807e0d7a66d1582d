"""The ``data-hunter`` command line.

``attribute`` keeps the flags and defaults of the original ``attributor.py``; everything else
is added around it. Errors the user can fix end with exit status 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn, TypeVar

from data_hunter import __version__
from data_hunter.errors import DataHunterError
from data_hunter.limits import DEFAULT_MAX_CARDINALITY

if TYPE_CHECKING:
    from data_hunter.engine import Attribution, Engine, Explained
    from data_hunter.windows import WindowPair

PROG = "data-hunter"


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line (and exit 2, as argparse does)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _examples(text: str) -> str:
    return "examples:\n" + textwrap.indent(textwrap.dedent(text).strip(), "  ")


def _whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least ``minimum``, else a one-line error."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            bound = "0 or more" if minimum == 0 else f"at least {minimum}"
            raise argparse.ArgumentTypeError(f"{value} must be {bound}")
        return value

    return parse


_positive_int = _whole_number(1)
_non_negative_int = _whole_number(0)


def _add_source_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        default="data.db",
        help="DuckDB file, or a Parquet/CSV file or glob (default: data.db)",
    )
    _add_table_args(p)


def _add_table_args(p: argparse.ArgumentParser) -> None:
    """Which table, date column and dimensions to read (every command that reads data)."""
    p.add_argument("--table", help="table to read (default: records)")
    p.add_argument("--date-column", help="date column (default: session_date)")
    p.add_argument(
        "--dimensions", help="comma-separated dimension columns (default: every text column)"
    )


def _add_format_arg(p: argparse.ArgumentParser, choices: tuple[str, ...]) -> None:
    p.add_argument("--format", choices=choices, default="text",
                   help="output format (default: text)")  # fmt: skip


def _add_window_args(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("--metric", required=required, help="numeric column to explain")
    p.add_argument(
        "--time-dimension",
        required=required,
        metavar="{day,week,month}",
        help="period length; weeks start on Monday",
    )
    p.add_argument(
        "--anomaly-date",
        required=required,
        help="a date inside the first anomalous period (YYYY-MM-DD), or 'auto' for the most "
        "recent strong anomaly found by `detect`",
    )
    p.add_argument(
        "--anomaly-end", help="a date inside the last anomalous period (default: --anomaly-date)"
    )
    p.add_argument(
        "--baseline-start",
        help="first baseline date (default: 28 days, 8 weeks or 6 months before the anomaly)",
    )
    p.add_argument(
        "--baseline-end", help="last baseline date (default: the period before the anomaly)"
    )
    p.add_argument(
        "--baseline",
        choices=("previous", "same-weekday"),
        default="previous",
        help="previous: the periods before the anomaly, evenly; same-weekday (daily data): "
        "each day against the same weekday of the 4 weeks before",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Find which segments caused a metric's spike or dip, over DuckDB.",
        epilog=_examples("""
            data-hunter demo demo.db
            data-hunter attribute --db demo.db --metric sessions --time-dimension day \\
                --anomaly-date 2025-03-18
            data-hunter tui demo.db
        """),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser(
        "attribute",
        help="rank the segments that changed most",
        description="Rank segments (single values and combinations) by their contribution "
        "actual - expected over the anomaly window, level by level.",
        epilog=_examples("""
            data-hunter attribute --metric sessions --time-dimension day --anomaly-date 2025-03-18
            data-hunter attribute --db demo.db --metric revenue --time-dimension day \\
                --anomaly-date 2025-07-08 --combo-depth 3 --top-n 5
            data-hunter attribute --db events.parquet --metric clicks --time-dimension week \\
                --anomaly-date 2025-06-02 --baseline-start 2025-04-07 --format json
        """),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_window_args(p)
    _add_source_args(p)
    p.add_argument("--top-n", type=_positive_int, default=3, help="segments per level (default: 3)")
    p.add_argument(
        "--combo-depth",
        type=_positive_int,
        default=None,
        help="deepest combination level (default: all dimensions)",
    )
    p.add_argument(
        "--max-cardinality",
        type=_non_negative_int,
        default=DEFAULT_MAX_CARDINALITY,
        metavar="N",
        help="dimensions with more than N values in the windows stay out of combinations "
        f"(still ranked alone); 0 for no limit (default: {DEFAULT_MAX_CARDINALITY:,})",
    )
    _add_format_arg(p, ("text", "json", "csv", "markdown"))

    p = sub.add_parser(
        "explain",
        help="name the few segments that really caused the change",
        description="Find a small set of non-overlapping segments, each at the right depth, "
        "that together explain the change: a root cause outranks its parents and children. "
        "Says so when nothing explains the change well.",
        epilog=_examples("""
            data-hunter explain --db demo.db --metric revenue --time-dimension day \\
                --anomaly-date 2025-07-08
            data-hunter explain --db demo.db --metric sessions --time-dimension day \\
                --anomaly-date auto --format json
        """),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_window_args(p)
    _add_source_args(p)
    p.add_argument(
        "--max-causes",
        type=_positive_int,
        default=5,
        help="most root causes to report (default: 5)",
    )
    _add_format_arg(p, ("text", "json", "csv", "markdown"))

    p = sub.add_parser(
        "detect",
        help="find the anomalous windows of a metric's series",
        description="Scan the metric per period and list the windows where it left its robust "
        "expectation (same-weekday median for daily data, trend-adjusted). Incomplete edge "
        "weeks or months are flagged, never reported.",
        epilog=_examples("""
            data-hunter detect --db demo.db --metric sessions --time-dimension day
            data-hunter detect --db demo.db --metric revenue --time-dimension week --format json
        """),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--metric", required=True, help="numeric column to scan")
    p.add_argument(
        "--time-dimension",
        required=True,
        metavar="{day,week,month}",
        help="period length; weeks start on Monday",
    )
    _add_source_args(p)
    p.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="robust z-score a period must reach (default: 4)",
    )
    _add_format_arg(p, ("text", "json"))

    p = sub.add_parser(
        "demo",
        help="write the demo database",
        description="Write a demo DuckDB database: a year of daily product analytics with "
        "planted anomalies.",
        epilog=_examples("""
            data-hunter demo              # writes demo.db
            data-hunter demo /tmp/x.db --force
            data-hunter demo --list       # the planted anomalies
        """),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("path", nargs="?", default="demo.db", help="where to write (default: demo.db)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.add_argument("--list", action="store_true", help="list the planted anomalies and exit")

    p = sub.add_parser(
        "tui",
        help="explore interactively in the terminal",
        description="Open the interactive triage view (read-only): the metric over time with "
        "the detected anomalies and the analysed window marked, the root causes, and a tree of "
        "the segments that changed most. Without --anomaly-date (or with 'auto') it opens on the "
        "most recent strong anomaly. Without DB, opens the built-in demo. Press ? inside for keys.",
        epilog=_examples("""
            data-hunter tui                    # the built-in demo
            data-hunter tui demo.db --metric revenue --time-dimension day \\
                --anomaly-date 2025-07-08
            data-hunter tui events.parquet --dimensions country,device --no-mouse
            data-hunter tui demo.db --anomaly-date auto --baseline same-weekday
        """),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("db", nargs="?", help="DuckDB file, or a Parquet/CSV file or glob "
                   "(default: the built-in demo)")  # fmt: skip
    _add_window_args(p, required=False)
    _add_table_args(p)
    p.add_argument("--no-mouse", action="store_true", help="leave the mouse to the terminal")
    return parser


def _status(message: str) -> None:
    """Progress on stderr, only for a person watching a terminal."""
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\x1b[2K{message}")
        sys.stderr.flush()


def _clear_status() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\r\x1b[2K")
        sys.stderr.flush()


def _open(args: argparse.Namespace) -> Engine:
    from data_hunter.engine import Engine
    from data_hunter.schema import parse_dimension_list

    _status(f"opening {args.db} ...")
    return Engine.open(args.db, args.table, args.date_column, parse_dimension_list(args.dimensions))


def _resolve_windows(engine: Engine, args: argparse.Namespace) -> tuple[WindowPair, list[str]]:
    """The windows the flags describe; ``--anomaly-date auto`` asks the detector."""
    from data_hunter.windows import parse_date, parse_granularity

    granularity = parse_granularity(args.time_dimension)
    metric = engine.schema.require_metric(args.metric)
    notes: list[str] = []
    if args.anomaly_date.strip().lower() == "auto":
        if args.anomaly_end:
            raise DataHunterError("--anomaly-end cannot be combined with --anomaly-date auto")
        _status(f"detecting anomalies in {metric} ...")
        found = engine.auto_window(metric, granularity)
        anomaly_date = found.start
        anomaly_end: dt.date | None = found.end
        notes.append(
            f"anomaly window chosen by detect: {found.direction} of {found.periods} "
            f"{granularity}(s), score {found.score:.1f}"
        )
    else:
        anomaly_date = parse_date(args.anomaly_date, "--anomaly-date")
        anomaly_end = parse_date(args.anomaly_end, "--anomaly-end") if args.anomaly_end else None
    b_start = parse_date(args.baseline_start, "--baseline-start") if args.baseline_start else None
    b_end = parse_date(args.baseline_end, "--baseline-end") if args.baseline_end else None
    windows = engine.windows(granularity, anomaly_date, anomaly_end, b_start, b_end,
                             args.baseline)  # fmt: skip
    return windows, notes


_Result = TypeVar("_Result", bound="Attribution | Explained")


def _on_windows(
    args: argparse.Namespace, compute: Callable[[Engine, WindowPair], _Result]
) -> _Result:
    """Open the data, resolve the windows from the flags, run ``compute`` under a status
    line, and put the notes about the windows before the result's own."""
    from dataclasses import replace

    engine = _open(args)
    try:
        windows, window_notes = _resolve_windows(engine, args)
        _status(f"scanning {engine.schema.row_count:,} rows of {engine.schema.table} ...")
        result = compute(engine, windows)
    finally:
        _clear_status()
        engine.close()
    return replace(result, notes=(*window_notes, *result.notes))


def cmd_attribute(args: argparse.Namespace) -> int:
    from data_hunter.render import render_attribution

    result = _on_windows(args, lambda engine, windows: engine.attribute(
        args.metric, windows, args.top_n, args.combo_depth,
        max_cardinality=args.max_cardinality or None))  # fmt: skip
    print(render_attribution(result, args.format))
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from data_hunter.render import render_explanation

    result = _on_windows(args, lambda engine, windows: engine.explain(
        args.metric, windows, max_causes=args.max_causes))  # fmt: skip
    print(render_explanation(result, args.format))
    return 0


def cmd_detect(args: argparse.Namespace) -> int:
    from data_hunter.render import render_detection
    from data_hunter.windows import parse_granularity

    granularity = parse_granularity(args.time_dimension)
    engine = _open(args)
    try:
        metric = engine.schema.require_metric(args.metric)
        _status(f"scanning {metric} by {granularity} ...")
        series, found = engine.detect(metric, granularity, threshold=args.threshold)
    finally:
        _clear_status()
        engine.close()
    print(render_detection(series, found, engine.schema, args.format))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from data_hunter.demo import describe_planted, write_demo

    if args.list:
        print("\n".join(describe_planted()))
        return 0
    _status(f"writing {args.path} ...")
    try:
        rows = write_demo(args.path, force=args.force)
    finally:
        _clear_status()
    print(f"wrote {rows:,} rows to {args.path} (table records); planted anomalies:")
    print("\n".join("  " + line for line in describe_planted()))
    return 0


def cmd_tui(args: argparse.Namespace) -> int:
    from data_hunter.tui.launch import run

    return run(args)


COMMANDS = {
    "attribute": cmd_attribute,
    "explain": cmd_explain,
    "detect": cmd_detect,
    "demo": cmd_demo,
    "tui": cmd_tui,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return COMMANDS[args.command](args)
    except DataHunterError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug in data-hunter: one line unless asked for details
        if os.environ.get("DATA_HUNTER_DEBUG"):
            raise
        print(f"{PROG}: internal error: {type(exc).__name__}: {exc} "
              "(set DATA_HUNTER_DEBUG=1 for a traceback)", file=sys.stderr)  # fmt: skip
        return 1


if __name__ == "__main__":
    sys.exit(main())
