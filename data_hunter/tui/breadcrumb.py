"""One line: where you are (``All > country=BR > device=ios``) and what is analysed."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from data_hunter.segment import Segment
from data_hunter.tui.labels import added_condition
from data_hunter.tui.series_chart import span_text
from data_hunter.windows import WindowPair


class Breadcrumb(Static):
    def show(
        self,
        path: Sequence[Segment],
        metric: str,
        granularity: str,
        windows: WindowPair | None,
    ) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("All", style="bold" if not path else "")
        parent = Segment()
        for i, segment in enumerate(path):
            text.append(" > ", style="dim")
            text.append(added_condition(segment, parent),
                        style="bold" if i == len(path) - 1 else "")  # fmt: skip
            parent = segment
        text.append("   ")
        text.append(metric, style="bold")
        text.append(f" by {granularity}", style="dim")
        if windows is not None:
            a, b = windows.anomaly, windows.baseline
            text.append("   anomaly ", style="dim")
            text.append(span_text(a.start, a.end), style="bold yellow")
            text.append(" vs ", style="dim")
            text.append(span_text(b.start, b.end), style="blue")
            if windows.kind == "same-weekday":
                text.append(" same weekday", style="dim")
        self.update(text)
