"""Anomaly and baseline windows, in whole periods.

A date anywhere inside a period selects that whole period, so the user can type the day they
saw the spike whatever the granularity. Windows are cut to the periods the table covers: a
baseline that reaches before the first row would otherwise count empty periods as zeros and
drag every expectation down.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from data_hunter.errors import DataHunterError
from data_hunter.sql import Granularity

GRANULARITIES: tuple[Granularity, ...] = ("day", "week", "month")
DEFAULT_BASELINE_PERIODS: dict[str, int] = {"day": 28, "week": 8, "month": 6}


def parse_granularity(text: str) -> Granularity:
    value = text.strip().lower()
    for g in GRANULARITIES:
        if value == g:
            return g
    raise DataHunterError(f"unknown time dimension {text!r}: use day, week or month")


def parse_date(text: str, what: str = "date") -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        pass
    try:
        return dt.datetime.fromisoformat(text.strip()).date()
    except ValueError:
        raise DataHunterError(f"cannot read {what} {text!r}: use YYYY-MM-DD") from None


def period_start(day: dt.date, granularity: Granularity) -> dt.date:
    if granularity == "day":
        return day
    if granularity == "week":
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def add_periods(start: dt.date, granularity: Granularity, n: int) -> dt.date:
    """Move a period start by ``n`` periods (negative goes back)."""
    if granularity == "day":
        return start + dt.timedelta(days=n)
    if granularity == "week":
        return start + dt.timedelta(weeks=n)
    months = start.year * 12 + (start.month - 1) + n
    return dt.date(months // 12, months % 12 + 1, 1)


def periods_between(first: dt.date, last: dt.date, granularity: Granularity) -> int:
    """Number of periods from period start ``first`` to period start ``last``, inclusive."""
    if granularity == "day":
        return (last - first).days + 1
    if granularity == "week":
        return (last - first).days // 7 + 1
    return (last.year * 12 + last.month) - (first.year * 12 + first.month) + 1


@dataclass(frozen=True)
class Window:
    """Whole periods ``start``..``end`` (both period starts, inclusive)."""

    start: dt.date
    end: dt.date
    granularity: Granularity

    @property
    def periods(self) -> int:
        return periods_between(self.start, self.end, self.granularity)

    @property
    def stop(self) -> dt.date:
        """The first day after the window: the exclusive bound used in SQL."""
        return add_periods(self.end, self.granularity, 1)

    @property
    def last_day(self) -> dt.date:
        return self.stop - dt.timedelta(days=1)

    def bounds(self) -> tuple[dt.date, dt.date]:
        return self.start, self.stop

    def overlaps(self, other: Window) -> bool:
        return self.start <= other.end and other.start <= self.end

    def describe(self) -> str:
        if self.start == self.end:
            return f"{self.start} ({self.granularity})"
        return f"{self.start} .. {self.end} ({self.periods} {self.granularity}s)"


BASELINE_KINDS = ("previous", "same-weekday")


@dataclass(frozen=True)
class WindowPair:
    """The anomaly window and the baseline it is judged against.

    ``kind`` "previous" spreads the baseline evenly (expected = baseline sum x ratio);
    "same-weekday" (daily data) judges each anomaly day against the same weekday of the
    baseline weeks, so a Monday is never compared with a Sunday.
    """

    anomaly: Window
    baseline: Window
    notes: tuple[str, ...] = ()
    kind: str = "previous"

    @property
    def ratio(self) -> float:
        """Anomaly periods per baseline period: expected = baseline sum x ratio."""
        return self.anomaly.periods / self.baseline.periods

    def baseline_day_weights(self) -> list[float]:
        """Weight of each baseline day (from ``baseline.start``) in expected, for same-weekday.

        A baseline day counts once for every anomaly day on its weekday, divided by the number
        of baseline days on that weekday: expected = sum over anomaly days of the mean of the
        same weekday in the baseline.
        """
        days = (self.baseline.stop - self.baseline.start).days
        anomaly_days = (self.anomaly.stop - self.anomaly.start).days
        per_weekday_anomaly = [0] * 7
        for i in range(anomaly_days):
            per_weekday_anomaly[(self.anomaly.start + dt.timedelta(days=i)).weekday()] += 1
        per_weekday_base = [0] * 7
        for i in range(days):
            per_weekday_base[(self.baseline.start + dt.timedelta(days=i)).weekday()] += 1
        weights = []
        for i in range(days):
            wd = (self.baseline.start + dt.timedelta(days=i)).weekday()
            weights.append(per_weekday_anomaly[wd] / per_weekday_base[wd])
        return weights

    def describe_baseline(self) -> str:
        text = self.baseline.describe()
        return text + (", same weekday" if self.kind == "same-weekday" else "")


def resolve_windows(
    granularity: Granularity,
    data_first: dt.date,
    data_last: dt.date,
    anomaly_date: dt.date,
    anomaly_end: dt.date | None = None,
    baseline_start: dt.date | None = None,
    baseline_end: dt.date | None = None,
    kind: str = "previous",
) -> WindowPair:
    """Turn the user's dates into whole-period windows inside the data.

    Raises ``DataHunterError`` for windows that are reversed, outside the data, overlapping,
    or that leave no baseline period.
    """
    g = granularity
    first = period_start(data_first, g)
    last = period_start(data_last, g)
    span = f"the data covers {data_first} .. {data_last}"
    notes: list[str] = []

    a_start = period_start(anomaly_date, g)
    a_end = period_start(anomaly_end if anomaly_end is not None else anomaly_date, g)
    if a_end < a_start:
        raise DataHunterError(f"anomaly end {anomaly_end} is before anomaly date {anomaly_date}")
    if a_end < first or a_start > last:
        raise DataHunterError(
            f"the anomaly window {a_start} .. {a_end} is outside the data: {span}"
        )
    if a_start < first or a_end > last:
        notes.append("anomaly window cut to the data's date range")
    a_start, a_end = max(a_start, first), min(a_end, last)
    anomaly = Window(a_start, a_end, g)

    if kind not in BASELINE_KINDS:
        raise DataHunterError(f"unknown baseline {kind!r}: use previous or same-weekday")
    if kind == "same-weekday" and g != "day":
        raise DataHunterError("--baseline same-weekday needs --time-dimension day")
    if kind == "same-weekday" and (baseline_start is not None or baseline_end is not None):
        raise DataHunterError("give either --baseline same-weekday or baseline dates, not both")
    if baseline_start is None and baseline_end is None:
        b_end = add_periods(a_start, g, -1)
        b_start = add_periods(a_start, g, -DEFAULT_BASELINE_PERIODS[g])
        if b_end < first:
            raise DataHunterError(
                f"no baseline data: nothing before the anomaly window starting {a_start} "
                f"({span}); pass --baseline-start/--baseline-end"
            )
    else:
        if baseline_end is not None:
            b_end = period_start(baseline_end, g)
        else:
            b_end = add_periods(a_start, g, -1)
        if baseline_start is not None:
            b_start = period_start(baseline_start, g)
        else:
            b_start = add_periods(b_end, g, -(DEFAULT_BASELINE_PERIODS[g] - 1))
        if b_end < b_start:
            raise DataHunterError(f"baseline end {b_end} is before baseline start {b_start}")
        if b_end < first or b_start > last:
            raise DataHunterError(
                f"no baseline data: the baseline {b_start} .. {b_end} is outside the data: {span}"
            )
        if Window(b_start, b_end, g).overlaps(anomaly):
            raise DataHunterError(
                f"the baseline {b_start} .. {b_end} overlaps the anomaly window "
                f"{anomaly.start} .. {anomaly.end}"
            )
    explicit = baseline_start is not None or baseline_end is not None
    if explicit and (b_start < first or b_end > last):
        notes.append("baseline cut to the data's date range")
    b_start, b_end = max(b_start, first), min(b_end, last)
    pair = WindowPair(anomaly, Window(b_start, b_end, g), tuple(notes), kind)
    if kind == "same-weekday":
        have = {(b_start + dt.timedelta(days=i)).weekday() for i in range(pair.baseline.periods)}
        need = {(a_start + dt.timedelta(days=i)).weekday() for i in range(anomaly.periods)}
        if not need <= have:
            raise DataHunterError(
                "no baseline data: the data before the anomaly window does not cover every "
                "weekday in it; use --baseline previous"
            )
    return pair
