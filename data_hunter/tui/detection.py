"""Adapter from the core's detector to what the chart draws (no SQL, no Textual).

``Engine.analyse`` gives the series, its anomalous windows and, from the same fit, the robust
expectation per period, which the chart wants (to pick which period a squeezed column shows,
and to print it at the cursor); it also wants whether the first / last week or month is only
partly covered by the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from data_hunter import detect as det
from data_hunter.engine import CancelToken, Engine, Series
from data_hunter.segment import ROOT, Segment
from data_hunter.windows import Granularity


@dataclass(frozen=True)
class Detected:
    series: Series
    windows: list[det.DetectedWindow]
    expected: np.ndarray
    partial: tuple[bool, bool] = (False, False)
    notes: tuple[str, ...] = field(default_factory=tuple)


def expectation(engine: Engine, series: Series) -> tuple[np.ndarray, tuple[bool, bool]]:
    """The robust expectation of ``series`` and its partial-edge flags (pure NumPy)."""
    first, last = engine.schema.first_date, engine.schema.last_date
    if not series.periods:
        return np.zeros(0), (False, False)
    expected = det.expected_series(series.periods, series.values, series.granularity,
                                   data_start=first, data_end=last)  # fmt: skip
    return expected, _partial(engine, series)


def _partial(engine: Engine, series: Series) -> tuple[bool, bool]:
    if not series.periods:
        return (False, False)
    flags = det.partial_periods(series.periods, series.granularity, engine.schema.first_date,
                                engine.schema.last_date)  # fmt: skip
    return flags.partial_first, flags.partial_last


def load(
    engine: Engine,
    metric: str,
    granularity: Granularity,
    within: Segment = ROOT,
    token: CancelToken | None = None,
) -> Detected:
    series, windows, expected = engine.analyse(metric, granularity, within, token)
    return Detected(series, windows, expected, _partial(engine, series))
