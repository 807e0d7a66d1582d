"""Turning results into text for people (text, markdown) and for programs (JSON, CSV).

The JSON shape is a public contract (documented in the README); change it only by adding keys.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from typing import Any

from data_hunter.detect import DetectedWindow
from data_hunter.engine import Attribution, Explained, Series
from data_hunter.schema import Schema
from data_hunter.segment import SegmentStats, format_value
from data_hunter.windows import Window, WindowPair

FORMATS = ("text", "json", "csv", "markdown")


def number(x: float) -> str:
    """1234.5 -> '1,234.5'; whole numbers without decimals."""
    if not math.isfinite(x):
        return str(x)
    if abs(x - round(x)) < 1e-9 and abs(x) < 1e15:
        return f"{round(x):,}"
    return f"{x:,.2f}"


def signed(x: float) -> str:
    text = number(x)
    return text if text.startswith("-") else "+" + text


def percent(x: float | None, signed_: bool = False) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x * 100:+.1f}%" if signed_ else f"{x * 100:.1f}%"


def _json_number(x: float | None) -> float | int | None:
    if x is None or not math.isfinite(x):
        return None
    if float(x).is_integer() and abs(x) < 2**53:
        return int(x)
    # Nine decimals drop float summation dust (11839.130000000001) and keep real precision.
    return round(float(x), 9)


def window_json(w: Window) -> dict[str, Any]:
    return {"start": w.start.isoformat(), "end": w.end.isoformat(), "periods": w.periods}


def stats_json(s: SegmentStats, with_score: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "segment": s.segment.as_dict(),
        "actual": _json_number(s.actual),
        "expected": _json_number(s.expected),
        "contribution": _json_number(s.contribution),
        "share": _json_number(s.share),
    }
    if with_score:
        out["score"] = _json_number(s.score)
    return out


def header_json(metric: str, windows: WindowPair, total: SegmentStats) -> dict[str, Any]:
    return {
        "metric": metric,
        "time_dimension": windows.anomaly.granularity,
        "anomaly": window_json(windows.anomaly),
        "baseline": {**window_json(windows.baseline), "kind": windows.kind},
        "total": {
            "actual": _json_number(total.actual),
            "expected": _json_number(total.expected),
            "contribution": _json_number(total.contribution),
        },
    }


def header_lines(
    metric: str,
    windows: WindowPair,
    total: SegmentStats,
    within_label: str | None = None,
    notes: Sequence[str] = (),
) -> list[str]:
    lines = [f"metric    {metric}" + (f"   within {within_label}" if within_label else "")]
    lines.append(f"anomaly   {windows.anomaly.describe()}")
    lines.append(f"baseline  {windows.describe_baseline()}")
    lines.append(
        f"total     actual {number(total.actual)}   expected {number(total.expected)}   "
        f"change {signed(total.contribution)} ({percent(total.change, True)})"
    )
    lines.extend(f"note      {n}" for n in notes)
    return lines


COLUMNS = ("segment", "actual", "expected", "contribution", "share", "change")


def stats_cells(s: SegmentStats) -> list[str]:
    return [
        s.segment.label(), number(s.actual), number(s.expected), signed(s.contribution),
        percent(s.share), percent(s.change, True),
    ]  # fmt: skip


def text_table(rows: Sequence[Sequence[str]], headers: Sequence[str], indent: str = "  ") -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]  # fmt: skip

    def fmt(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return (indent + "  ".join([first, *rest])).rstrip()

    return "\n".join([fmt(headers), *(fmt(r) for r in rows)])


def markdown_table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    def esc(cell: str) -> str:
        return cell.replace("\\", "\\\\").replace("|", "\\|")

    out = ["| " + " | ".join(esc(h) for h in headers) + " |"]
    out.append("|" + "|".join(["---"] + ["---:"] * (len(headers) - 1)) + "|")
    out.extend("| " + " | ".join(esc(c) for c in r) + " |" for r in rows)
    return "\n".join(out)


def render_attribution(result: Attribution, fmt: str) -> str:
    within = None if result.within.is_root else result.within.label()
    if fmt == "json":
        doc = header_json(result.metric, result.windows, result.total)
        if within:
            doc["within"] = result.within.as_dict()
        doc["notes"] = list(result.notes)
        doc["levels"] = [
            {"depth": lvl.depth, "segments": [stats_json(s) for s in lvl.segments]}
            for lvl in result.levels
        ]
        return json.dumps(doc, indent=2, ensure_ascii=False)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        dims = list(result.dimensions)
        writer.writerow(["depth", "rank", "segment", *dims, "actual", "expected",
                         "contribution", "share"])  # fmt: skip
        for lvl in result.levels:
            for rank, s in enumerate(lvl.segments, 1):
                values = s.segment.as_dict()
                cells = [format_value(values[d]) if d in values else "" for d in dims]
                share = "" if s.share is None else repr(s.share)
                writer.writerow([lvl.depth, rank, s.segment.label(), *cells, repr(s.actual),
                                 repr(s.expected), repr(s.contribution), share])  # fmt: skip
        return buf.getvalue().rstrip("\n")
    header = header_lines(result.metric, result.windows, result.total, within, result.notes)
    if fmt == "markdown":
        parts = ["\n".join(f"- {line}" for line in header)]
        for lvl in result.levels:
            rows = [stats_cells(s) for s in lvl.segments]
            parts.append(f"### Depth {lvl.depth}\n\n" + markdown_table(rows, COLUMNS))
        return "\n\n".join(parts)
    parts = ["\n".join(header)]
    for lvl in result.levels:
        rows = [stats_cells(s) for s in lvl.segments]
        title = f"depth {lvl.depth}: " + ("single dimensions" if lvl.depth == 1 else
                                          f"combinations of {lvl.depth} dimensions")  # fmt: skip
        parts.append(title + "\n" + text_table(rows, COLUMNS))
    return "\n\n".join(parts)


def render_detection(
    series: Series, found: Sequence[DetectedWindow], schema: Schema, fmt: str
) -> str:
    """The detected windows, most recent last; the one ``auto`` would pick is marked."""
    from data_hunter.detect import STRONG_SCORE, most_recent_strong, partial_periods

    flags = partial_periods(series.periods, series.granularity, schema.first_date,
                            schema.last_date)  # fmt: skip
    pick = most_recent_strong(list(found))
    if fmt == "json":
        doc = {
            "metric": series.metric,
            "time_dimension": series.granularity,
            "data": {"start": schema.first_date.isoformat(), "end": schema.last_date.isoformat(),
                     "partial_first": flags.partial_first, "partial_last": flags.partial_last},
            "windows": [
                {"start": w.start.isoformat(), "end": w.end.isoformat(), "periods": w.periods,
                 "direction": w.direction, "actual": _json_number(w.actual),
                 "expected": _json_number(w.expected), "score": _json_number(w.score),
                 "strong": w.score >= STRONG_SCORE, "auto": w == pick}
                for w in found
            ],
        }  # fmt: skip
        return json.dumps(doc, indent=2, ensure_ascii=False)
    lines = [f"metric    {series.metric}   by {series.granularity}",
             f"data      {schema.first_date} .. {schema.last_date}"]  # fmt: skip
    for edge, flag in (("first", flags.partial_first), ("last", flags.partial_last)):
        if flag:
            lines.append(f"note      the {edge} {series.granularity} is incomplete: not judged")
    if not found:
        lines.append("\nno anomalous window found")
        return "\n".join(lines)
    rows = []
    for w in found:
        change = None if w.expected == 0 else (w.actual - w.expected) / abs(w.expected)
        rows.append([
            str(w.start), str(w.end), str(w.periods), w.direction, number(w.actual),
            number(w.expected), percent(change, True), f"{w.score:.1f}",
            ("auto" if w == pick else ("strong" if w.score >= STRONG_SCORE else "")),
        ])  # fmt: skip
    headers = ("start", "end", "periods", "direction", "actual", "expected", "change", "score", "")
    return "\n".join(lines) + "\n\n" + text_table(rows, headers)


EXPLAIN_COLUMNS = ("segment", "actual", "expected", "contribution", "share", "change", "score")


def render_explanation(result: Explained, fmt: str) -> str:
    within = None if result.within.is_root else result.within.label()
    causes = result.root_causes
    if fmt == "json":
        doc = header_json(result.metric, result.windows, result.total)
        if within:
            doc["within"] = result.within.as_dict()
        doc["notes"] = list(result.notes)
        doc["explained"] = _json_number(result.explained)
        doc["root_causes"] = [stats_json(s, with_score=True) for s in causes]
        return json.dumps(doc, indent=2, ensure_ascii=False)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        dims = list(result.dimensions)
        writer.writerow(["rank", "segment", *dims, "actual", "expected", "contribution",
                         "share", "score"])  # fmt: skip
        for rank, s in enumerate(causes, 1):
            values = s.segment.as_dict()
            cells = [format_value(values[d]) if d in values else "" for d in dims]
            share = "" if s.share is None else repr(s.share)
            score = "" if s.score is None else repr(s.score)
            writer.writerow([rank, s.segment.label(), *cells, repr(s.actual), repr(s.expected),
                             repr(s.contribution), share, score])  # fmt: skip
        return buf.getvalue().rstrip("\n")
    header = header_lines(result.metric, result.windows, result.total, within, result.notes)
    rows = [[*stats_cells(s), "" if s.score is None else f"{s.score:.2f}"] for s in causes]
    summary = (f"{len(causes)} root cause(s) explaining {percent(result.explained)} of the change"
               if causes else "no root cause found")  # fmt: skip
    if fmt == "markdown":
        parts = ["\n".join(f"- {line}" for line in header), f"### Root causes\n\n{summary}"]
        if rows:
            parts.append(markdown_table(rows, EXPLAIN_COLUMNS))
        return "\n\n".join(parts)
    parts = ["\n".join(header), summary]
    if rows:
        parts[-1] += "\n" + text_table(rows, EXPLAIN_COLUMNS)
    return "\n\n".join(parts)
