"""``explain`` on the built-in demo: realistic sparse leaves (Poisson counts, heavy-tailed
revenue, hierarchical dimensions, 1-3 day windows against a 28-day baseline)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from data_hunter.demo import PLANTED, PlantedAnomaly
from data_hunter.engine import Engine, Explained
from data_hunter.segment import Segment


@pytest.fixture(scope="module")
def engine(demo_db: Path) -> Iterator[Engine]:  # demo_db: session-scoped, conftest.py
    eng = Engine.open(str(demo_db))
    try:
        yield eng
    finally:
        eng.close()


def run(engine: Engine, metric: str, start: dt.date, end: dt.date) -> Explained:
    return engine.explain(metric, engine.windows("day", start, end))


@pytest.mark.parametrize("planted", PLANTED, ids=[a.name for a in PLANTED])
def test_planted_cause_comes_first(engine: Engine, planted: PlantedAnomaly) -> None:
    result = run(engine, planted.metric, planted.start, planted.end)
    causes = result.root_causes
    assert causes, result.notes
    expected = Segment.of(dict(planted.segment), engine.schema.dimensions)
    assert causes[0].segment == expected, [str(c.segment) for c in causes]
    assert len(causes) <= 2, [str(c.segment) for c in causes]
    # The planted cause carries most of the change; nothing tiny rides along.
    assert causes[0].share is not None and abs(causes[0].share) >= 0.5
    for c in causes:
        assert c.share is not None and abs(c.share) >= 0.05, str(c.segment)


@pytest.mark.parametrize(
    ("metric", "day"),
    [
        ("sessions", dt.date(2025, 3, 5)),
        ("revenue", dt.date(2025, 3, 5)),
        ("errors", dt.date(2025, 3, 5)),
        ("sessions", dt.date(2025, 2, 12)),
        ("errors", dt.date(2025, 2, 12)),
    ],
)
def test_pure_noise_day_has_no_cause(engine: Engine, metric: str, day: dt.date) -> None:
    # Normal weekdays (``detect`` flags nothing there) with no app release ramping in the
    # window or its baseline: nothing stands out, and the answer says so.
    result = run(engine, metric, day, day)
    assert result.root_causes == [], [str(c.segment) for c in result.root_causes]
    assert result.notes


def test_uniform_note_does_not_report_a_zero_ratio(engine: Engine) -> None:
    for planted in PLANTED:
        result = run(engine, planted.metric, planted.start, planted.end)
        assert not any("(x0)" in n for n in result.notes), result.notes
