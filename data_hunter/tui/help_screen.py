"""``?``: every key, by pane."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Anywhere",
        [
            ("tab / shift+tab", "next / previous pane"),
            ("m", "choose the metric"),
            ("d", "choose dimensions"),
            ("g", "cycle granularity: day, week, month"),
            ("n / p", "analyse the next / previous detected anomaly"),
            ("/", "find a segment (/ enter, ctrl+n: next match)"),
            ("e", "export the current view (csv, json, md)"),
            ("r", "reload the data"),
            ("backspace, escape", "back up one drill level"),
            ("ctrl+p", "command palette"),
            ("?", "this help"),
            ("q, ctrl+q", "quit"),
        ],
    ),
    (
        "Time series",
        [
            ("left/right, h/l", "move the cursor one period"),
            ("shift+left/right, H/L", "move seven periods"),
            ("home / end", "first / last period"),
            ("[ / ]", "cursor to the previous / next detected anomaly (• marks)"),
            ("a … a", "mark the anomaly window: start, then end"),
            ("b … b", "mark the baseline window: start, then end"),
            ("enter", "analyse the detected anomaly (or period) at the cursor"),
            ("escape", "cancel a half-marked window"),
        ],
    ),
    (
        "Segment tree",
        [
            ("up/down, j/k", "move"),
            ("right, l, space", "expand (load sub-segments)"),
            ("left, h", "collapse / go to parent"),
            ("enter", "drill into the segment (or load … more)"),
            ("t", "group children by dimension / rank them together"),
            ("o", "order children: |contribution|, relative change, surprise"),
            ("y", "copy the segment as a SQL WHERE clause"),
        ],
    ),
]

LEGEND = (
    "Tree labels: ▲/▼ segment, contribution (actual - expected), share of the total change, "
    "change vs expected, and a bar of the share. ★ a root cause (listed first, under "
    "'root causes'), ◆ carries >= 90% of its parent's change. Surprise = |contribution| x "
    "log(1 + |relative change|).\n"
    "Chart: ━ anomaly window, ─ baseline, • detected anomaly, ◌ incomplete first/last week or "
    "month, ▲ cursor; a dim ─ above a bar is where the detector expected it. Opening "
    "without a window analyses the most recent strong anomaly. "
    "Marking a new anomaly resets the baseline to the default (28 days, 8 weeks or 6 months "
    "before)."
)


def help_text() -> Text:
    text = Text()
    for title, keys in KEYS:
        text.append(f"{title}\n", style="bold underline")
        for key, what in keys:
            text.append(f"  {key:<24}", style="bold")
            text.append(f"{what}\n")
        text.append("\n")
    text.append(LEGEND, style="dim")
    return text


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close")
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box") as box:
            box.border_title = "data-hunter keys"
            yield Static(help_text())

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
