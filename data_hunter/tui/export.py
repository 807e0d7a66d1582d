"""Writing the current view (scope total + every loaded segment) as CSV, JSON or Markdown."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

from data_hunter.errors import DataHunterError
from data_hunter.render import (
    COLUMNS,
    header_json,
    header_lines,
    markdown_table,
    stats_cells,
    stats_json,
)
from data_hunter.segment import Segment, SegmentStats, format_value
from data_hunter.windows import WindowPair

FORMATS = {".csv": "csv", ".json": "json", ".md": "markdown", ".markdown": "markdown"}


def format_for(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DataHunterError(f"cannot export to {path.name}: use a .csv, .json or .md file name")
    return fmt


def render_view(
    fmt: str,
    metric: str,
    windows: WindowPair,
    within: Segment,
    dimensions: Sequence[str],
    total: SegmentStats,
    rows: Sequence[tuple[int, SegmentStats]],
) -> str:
    """``rows`` are (depth below the scope, stats) in tree order."""
    if fmt == "json":
        doc = header_json(metric, windows, total)
        doc["within"] = within.as_dict()
        doc["segments"] = [{"depth": d, **stats_json(s)} for d, s in rows]
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        dims = list(dimensions)
        writer.writerow(["depth", "segment", *dims, "actual", "expected", "contribution",
                         "share"])  # fmt: skip
        for depth, s in rows:
            values = s.segment.as_dict()
            cells = [format_value(values[d]) if d in values else "" for d in dims]
            share = "" if s.share is None else repr(s.share)
            writer.writerow([depth, s.segment.label(), *cells, repr(s.actual), repr(s.expected),
                             repr(s.contribution), share])  # fmt: skip
        return buf.getvalue()
    label = None if within.is_root else within.label()
    head = "\n".join(f"- {line}" for line in header_lines(metric, windows, total, label))
    table = markdown_table(
        [["  " * (d - 1) + c[0], *c[1:]] for d, s in rows for c in [stats_cells(s)]],
        COLUMNS,
    )
    return f"{head}\n\n{table}\n"


def write_view(path: Path, text: str) -> Path:
    target = path.expanduser()
    if not target.parent.exists():
        raise DataHunterError(f"cannot export: folder {target.parent} does not exist")
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise DataHunterError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target.resolve()
