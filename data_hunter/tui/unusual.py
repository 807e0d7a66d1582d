"""Which periods of a series look unusual: a cheap, local stand-in for anomaly detection.

Used only to move the chart cursor (``[`` / ``]``) and to dot periods on the chart. Each value
is compared with the median of the same period of the previous cycles (the same weekday of the
4 previous weeks for daily data, the 8 or 6 previous periods otherwise); residuals are scaled
by their median absolute deviation. The real detector (``detect``) can replace this later.
"""

from __future__ import annotations

import numpy as np

THRESHOLD = 3.5

# granularity -> (season length, how many previous seasons)
CYCLES: dict[str, tuple[int, int]] = {"day": (7, 4), "week": (1, 8), "month": (1, 6)}


def reference(values: np.ndarray, season: int = 7, k: int = 4) -> np.ndarray:
    n = len(values)
    ref = np.empty(n, dtype=np.float64)
    for i in range(n):
        prev = [values[i - season * j] for j in range(1, k + 1) if i - season * j >= 0]
        if len(prev) < 2:
            prev = [values[i + season * j] for j in range(1, k + 1) if i + season * j < n]
        ref[i] = float(np.median(prev)) if prev else float(values[i])
    return ref


def scores(values: np.ndarray, granularity: str = "day") -> np.ndarray:
    """Robust z-score of each period against its reference (0 for a flat or short series)."""
    values = np.nan_to_num(np.asarray(values, dtype=np.float64))
    season, k = CYCLES.get(granularity, (1, 6))
    if len(values) < 2 * season + 2:
        return np.zeros(len(values))
    residual = values - reference(values, season, k)
    scale = 1.4826 * float(np.median(np.abs(residual - np.median(residual))))
    if scale <= 0:
        scale = float(np.mean(np.abs(residual))) or 1.0
    return residual / scale


def runs(
    values: np.ndarray, granularity: str = "day", threshold: float = THRESHOLD
) -> list[tuple[int, int]]:
    """``(first, last)`` period indexes of each run of consecutive unusual periods."""
    flags = np.abs(scores(values, granularity)) >= threshold
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(flags):
        if flags[i]:
            j = i
            while j + 1 < len(flags) and flags[j + 1]:
                j += 1
            out.append((i, j))
            i = j + 1
        else:
            i += 1
    return out
