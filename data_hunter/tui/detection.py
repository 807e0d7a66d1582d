"""Adapter from the core's detector to what the chart draws (no SQL, no Textual).

``Engine.detect`` gives the series and its anomalous windows; the chart also wants the robust
expectation per period (to pick which period a squeezed column shows, and to print it at the
cursor) and whether the first / last week or month is only partly covered by the data.
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
    flags = det.partial_periods(series.periods, series.granularity, first, last)
    return expected, (flags.partial_first, flags.partial_last)


def load(
    engine: Engine,
    metric: str,
    granularity: Granularity,
    within: Segment = ROOT,
    token: CancelToken | None = None,
) -> Detected:
    series, windows = engine.detect(metric, granularity, within, token)
    expected, partial = expectation(engine, series)
    return Detected(series, windows, expected, partial)
