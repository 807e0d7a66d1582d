"""The selection pane: metric, dimensions (with their number of values) and granularity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Label, OptionList, SelectionList
from textual.widgets.option_list import Option
from textual.widgets.selection_list import Selection

from data_hunter.windows import GRANULARITIES


class SelectionPane(VerticalScroll):
    """Posts ``MetricChosen``, ``DimensionsChanged`` and ``GranularityChosen``."""

    class MetricChosen(Message):
        def __init__(self, metric: str) -> None:
            super().__init__()
            self.metric = metric

    class DimensionsChanged(Message):
        def __init__(self, dimensions: tuple[str, ...]) -> None:
            super().__init__()
            self.dimensions = dimensions

    class GranularityChosen(Message):
        def __init__(self, granularity: str) -> None:
            super().__init__()
            self.granularity = granularity

    def __init__(
        self,
        metrics: Sequence[str],
        dimensions: Sequence[str],
        chosen_dimensions: Sequence[str],
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.metrics = list(metrics)
        self.all_dimensions = list(dimensions)
        self.chosen = set(chosen_dimensions)

    def compose(self) -> ComposeResult:
        yield Label("Metric (m)", classes="pane-label")
        yield OptionList(*[Option(Text(m), id=m) for m in self.metrics], id="metric-list")
        yield Label("Dimensions (d)", classes="pane-label")
        yield Label("values in the windows", classes="pane-hint")
        yield SelectionList[str](
            *[Selection(Text(d), d, d in self.chosen) for d in self.all_dimensions],
            id="dimension-list",
        )
        yield Label("Granularity (g)", classes="pane-label")
        yield OptionList(*[Option(Text(g), id=g) for g in GRANULARITIES], id="granularity-list")

    def show_choice(self, metric: str, granularity: str) -> None:
        metrics = self.query_one("#metric-list", OptionList)
        metrics.highlighted = self.metrics.index(metric) if metric in self.metrics else None
        grans = self.query_one("#granularity-list", OptionList)
        grans.highlighted = [str(g) for g in GRANULARITIES].index(granularity)
        for option_list, chosen in ((metrics, metric), (grans, granularity)):
            for i, option in enumerate(option_list.options):
                mark = "● " if option.id == chosen else "  "
                option_list.replace_option_prompt_at_index(i, Text(mark + str(option.id)))

    def show_counts(self, counts: Mapping[str, int]) -> None:
        """Label each dimension with its number of distinct values."""
        dims = self.query_one("#dimension-list", SelectionList)
        for i, d in enumerate(self.all_dimensions):
            label = Text(d)
            if d in counts:
                label.append(f" ({counts[d]})", style="dim")
            dims.replace_option_prompt_at_index(i, label)

    @on(OptionList.OptionSelected, "#metric-list")
    def _metric(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.MetricChosen(event.option.id))

    @on(OptionList.OptionSelected, "#granularity-list")
    def _granularity(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.GranularityChosen(event.option.id))

    @on(SelectionList.SelectedChanged, "#dimension-list")
    def _dimensions(self, event: SelectionList.SelectedChanged) -> None:
        event.stop()
        selected = set(event.selection_list.selected)
        ordered = tuple(d for d in self.all_dimensions if d in selected)
        self.post_message(self.DimensionsChanged(ordered))
