"""Plain-text labels for segments and numbers, always ``rich.text.Text`` (never markup)."""

from __future__ import annotations

import math

from rich.text import Text

from data_hunter.render import number, percent
from data_hunter.segment import Segment, SegmentStats, format_value

UP = "green"
DOWN = "red"
EIGHTHS = " ▏▎▍▌▋▊▉█"


def direction_style(x: float) -> str:
    if x > 0:
        return UP
    if x < 0:
        return DOWN
    return ""


def arrow(x: float) -> str:
    return "▲" if x > 0 else "▼" if x < 0 else "•"


def share_bar(share: float | None, width: int = 8) -> str:
    """A left-aligned bar of ``|share|`` of ``width`` cells (eighth-cell resolution)."""
    if share is None or not math.isfinite(share):
        return " " * width
    eighths = round(min(abs(share), 1.0) * width * 8)
    full, rest = divmod(eighths, 8)
    bar = "█" * full + (EIGHTHS[rest] if rest else "")
    return bar.ljust(width)[:width]


def added_condition(segment: Segment, parent: Segment) -> str:
    """The part of ``segment`` that ``parent`` does not have: ``device=ios``."""
    fixed = parent.as_dict()
    parts = [f"{d}={format_value(v)}" for d, v in segment.conditions if d not in fixed]
    return " & ".join(parts) if parts else segment.label()


def ellipsize(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    return text[: max(width - 1, 0)] + "…"


def compact(x: float) -> str:
    """Short signed number for narrow columns: +2,398 / -12.3k / +1.2M."""
    a = abs(x)
    sign = "+" if x > 0 else "-" if x < 0 else "±"
    if a >= 1e9:
        return f"{sign}{a / 1e9:.1f}G"
    if a >= 1e6:
        return f"{sign}{a / 1e6:.1f}M"
    if a >= 1e5:
        return f"{sign}{a / 1e3:.0f}k"
    if a >= 100 or a == round(a):
        return f"{sign}{a:,.0f}"
    return f"{sign}{a:,.1f}"


def short_percent(x: float | None, signed_: bool = False) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    v = x * 100
    if abs(v) >= 1000:
        return f"{v:+,.0f}%" if signed_ else f"{v:,.0f}%"
    return f"{v:+.0f}%" if signed_ else f"{v:.0f}%"


CAUSE_MARK = "★"
DOMINANT_MARK = "◆"


def segment_label(name: str, stats: SegmentStats, name_width: int, mark: str = " ") -> Text:
    """``▲ country=BR      +2,398  81%  +434% ██████▌``: name, contribution, share of the
    total change, change vs expected, and a bar of the share. ``mark`` (one cell after the
    arrow): ``★`` a root cause, ``◆`` nearly all (>= 90%) of its parent's change."""
    c = stats.contribution
    style = direction_style(c)
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(arrow(c), style=style)
    text.append(mark[:1] or " ", style="bold yellow" if mark == CAUSE_MARK else "bold")
    text.append(ellipsize(name, name_width).ljust(name_width))
    text.append(f" {compact(c):>8}", style=style)
    text.append(f" {short_percent(stats.share):>5}")
    text.append(f" {short_percent(stats.change, True):>7} ", style="dim")
    text.append(share_bar(stats.share, 8), style=style or "dim")
    return text


def rounded(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else number(x)


def total_label(name: str, metric: str, stats: SegmentStats) -> Text:
    c = stats.contribution
    style = direction_style(c)
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(name, style="bold")
    text.append(f"  {metric} {rounded(stats.actual)} vs {rounded(stats.expected)} expected  ")
    text.append(f"{arrow(c)} {compact(c)} ({percent(stats.change, True)})", style=style)
    return text
