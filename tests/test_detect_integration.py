"""Detection wired into the core and the CLI: the demo's planted anomalies, ``auto``, and the
same-weekday baseline with hand-computed numbers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from data_hunter.cli import main
from data_hunter.demo import PLANTED
from data_hunter.engine import Engine

from .conftest import d


def test_every_planted_anomaly_is_detected_with_few_false_windows(demo_db: Path) -> None:
    eng = Engine.open(str(demo_db))
    for metric in ("sessions", "revenue"):
        _, found = eng.detect(metric, "day")
        planted = [p for p in PLANTED if p.metric == metric]
        for p in planted:
            assert any(w.start <= p.end and p.start <= w.end for w in found), p.name
        # Windows that overlap no planted anomaly of any metric are false alarms.
        false = [w for w in found if not any(w.start <= p.end and p.start <= w.end
                                             for p in PLANTED)]  # fmt: skip
        assert len(false) <= 1, false


def test_one_fit_gives_the_windows_and_the_expectation(demo_db: Path) -> None:
    import numpy as np

    from data_hunter import detect as det

    eng = Engine.open(str(demo_db))
    for granularity in ("day", "week"):
        series, found, expected = eng.analyse("sessions", granularity)
        assert series.periods == eng.series("sessions", granularity).periods
        assert found == eng.detect("sessions", granularity)[1]
        alone = det.expected_series(series.periods, series.values, granularity,
                                    data_start=eng.schema.first_date,
                                    data_end=eng.schema.last_date)  # fmt: skip
        np.testing.assert_array_equal(expected, alone)
        assert np.isfinite(expected[-30:]).all()
    eng.close()


def test_auto_picks_the_most_recent_strong_window(demo_db: Path, capsys) -> None:
    code = main(["attribute", "--db", str(demo_db), "--metric", "sessions", "--time-dimension",
                 "day", "--anomaly-date", "auto", "--format", "json",
                 "--combo-depth", "1"])  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert doc["anomaly"] == {"start": "2025-11-18", "end": "2025-11-19", "periods": 2}
    assert doc["levels"][0]["segments"][0]["segment"] == {"country": "IN"}
    assert any("chosen by detect" in n for n in doc["notes"])


def test_detect_cli_text_and_json(demo_db: Path, capsys) -> None:
    args = ["detect", "--db", str(demo_db), "--metric", "sessions", "--time-dimension", "day"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "2025-03-18  2025-03-18" in text and "auto" in text
    assert main([*args, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    auto = [w for w in doc["windows"] if w["auto"]]
    assert len(auto) == 1 and auto[0]["start"] == "2025-11-18"


def test_same_weekday_baseline(make_db) -> None:
    start = d("2024-01-01")  # a Monday
    rows = []
    for i in range(30):  # 2024-01-01 .. 2024-01-30
        day = start + dt.timedelta(days=i)
        rows.append((day, "a", 10 if day.weekday() == 0 else 1))
    rows[28] = (d("2024-01-29"), "a", 12)
    db = make_db(rows, [("session_date", "DATE"), ("k", "VARCHAR"), ("m", "INTEGER")])
    eng = Engine.open(str(db))
    same = eng.windows("day", d("2024-01-29"), kind="same-weekday")
    assert (same.baseline.start, same.baseline.end) == (start, d("2024-01-28"))
    r = eng.attribute("m", same)
    assert (r.total.actual, r.total.expected) == (12, 10)  # Mondays only
    prev = eng.windows("day", d("2024-01-29"))
    r = eng.attribute("m", prev)
    assert r.total.expected == 64 / 28  # four Mondays of 10 and 24 other days of 1
    two = eng.windows("day", d("2024-01-29"), d("2024-01-30"), kind="same-weekday")
    r = eng.attribute("m", two)
    assert (r.total.actual, r.total.expected) == (13, 11)  # Monday mean 10 + Tuesday mean 1


def test_same_weekday_needs_days(small_db: Path, capsys) -> None:
    code = main(["attribute", "--db", str(small_db), "--metric", "m", "--time-dimension", "week",
                 "--anomaly-date", "2024-01-05", "--baseline", "same-weekday"])  # fmt: skip
    assert code == 2
    assert "needs --time-dimension day" in capsys.readouterr().err
