"""``data-hunter explain``: the documented JSON shape and a hand-checkable root cause."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from data_hunter.cli import main

from .conftest import d


def test_explain_json_names_the_cause(make_db, capsys) -> None:
    rows = []
    start = d("2024-02-01")
    for day in range(8):
        for a in ("x", "y", "z"):
            for b in ("p", "q", "r"):
                value = 100 + (day * 7 + ord(a) + ord(b)) % 5  # a little deterministic jitter
                if day == 7 and a == "x":
                    value *= 2
                rows.append((start + dt.timedelta(days=day), a, b, value))
    db = make_db(rows, [("session_date", "DATE"), ("a", "VARCHAR"), ("b", "VARCHAR"),
                        ("m", "INTEGER")])  # fmt: skip
    code = main(["explain", "--db", str(db), "--metric", "m", "--time-dimension", "day",
                 "--anomaly-date", "2024-02-08", "--format", "json"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    doc = json.loads(out)
    assert set(doc) >= {"metric", "anomaly", "baseline", "total", "root_causes"}
    assert doc["anomaly"] == {"start": "2024-02-08", "end": "2024-02-08", "periods": 1}
    causes = doc["root_causes"]
    assert [c["segment"] for c in causes] == [{"a": "x"}]
    cause = causes[0]
    assert set(cause) == {"segment", "actual", "expected", "contribution", "share", "score"}
    assert cause["contribution"] == pytest.approx(cause["actual"] - cause["expected"])
    assert cause["share"] == pytest.approx(cause["contribution"] / doc["total"]["contribution"])
    for fmt in ("text", "csv", "markdown"):
        assert main(["explain", "--db", str(db), "--metric", "m", "--time-dimension", "day",
                     "--anomaly-date", "2024-02-08", "--format", fmt]) == 0  # fmt: skip
        assert "a=x" in capsys.readouterr().out
