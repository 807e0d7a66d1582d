"""What the panes share: the engine and the current analysis, as immutable values."""

from __future__ import annotations

from dataclasses import dataclass

from data_hunter.engine import Engine
from data_hunter.segment import ROOT, Segment
from data_hunter.windows import Granularity, WindowPair


@dataclass(frozen=True)
class ViewContext:
    """One analysis: everything a pane needs to ask the core a question.

    ``generation`` grows with every new analysis; a result tagged with an older generation
    is stale and dropped.
    """

    engine: Engine
    metric: str
    granularity: Granularity
    windows: WindowPair
    dimensions: tuple[str, ...]
    within: Segment = ROOT
    generation: int = 0
