"""The command line: the original flags, output formats, and one-line errors."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from data_hunter.cli import main
from data_hunter.demo import PLANTED

BASE = ["attribute", "--metric", "m", "--time-dimension", "day", "--anomaly-date", "2024-01-05"]


def run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse's own usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_json_output_is_the_documented_shape(small_db: Path, capsys) -> None:
    code, out, _ = run(capsys, *BASE, "--db", str(small_db), "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["metric"] == "m" and doc["time_dimension"] == "day"
    assert doc["anomaly"] == {"start": "2024-01-05", "end": "2024-01-05", "periods": 1}
    assert doc["baseline"] == {"start": "2024-01-01", "end": "2024-01-04", "periods": 4,
                               "kind": "previous"}  # fmt: skip
    assert doc["total"] == {"actual": 28, "expected": 13.5, "contribution": 14.5}
    assert [lvl["depth"] for lvl in doc["levels"]] == [1, 2]
    top = doc["levels"][0]["segments"]
    assert len(top) == 3  # --top-n defaults to 3
    assert top[0] == {"segment": {"device": "ios"}, "actual": 22, "expected": 11.5,
                      "contribution": 10.5, "share": pytest.approx(10.5 / 14.5)}  # fmt: skip


def test_null_values_in_json_and_text(small_db: Path, capsys) -> None:
    _, out, _ = run(capsys, *BASE, "--db", str(small_db), "--format", "json", "--top-n", "9")
    segments = [s["segment"] for s in json.loads(out)["levels"][0]["segments"]]
    assert {"country": None} in segments
    _, out, _ = run(capsys, *BASE, "--db", str(small_db), "--top-n", "9")
    assert "country=(null)" in out


def test_text_output(small_db: Path, capsys) -> None:
    code, out, _ = run(capsys, *BASE, "--db", str(small_db))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("metric    m")
    assert lines[1] == "anomaly   2024-01-05 (day)"
    assert lines[2] == "baseline  2024-01-01 .. 2024-01-04 (4 days)"
    assert lines[3].split() == [
        "total",
        "actual",
        "28",
        "expected",
        "13.50",
        "change",
        "+14.50",
        "(+107.4%)",
    ]
    row = next(line for line in lines if line.strip().startswith("device=ios"))
    assert row.split() == ["device=ios", "22", "11.50", "+10.50", "72.4%", "+91.3%"]


def test_csv_and_markdown(small_db: Path, capsys) -> None:
    _, out, _ = run(capsys, *BASE, "--db", str(small_db), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["segment"] == "device=ios" and float(rows[0]["contribution"]) == 10.5
    assert rows[0]["device"] == "ios" and rows[0]["country"] == ""
    _, out, _ = run(capsys, *BASE, "--db", str(small_db), "--format", "markdown")
    assert "### Depth 1" in out and "| device=ios | 22 |" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--db", "/nonexistent/x.db"], "no such file: /nonexistent/x.db"),
        (["--metric", "nope"], "no column 'nope'"),
        (["--metric", "country"], "not a number"),
        (["--table", "nope"], "no table 'nope'"),
        (["--anomaly-date", "yesterday"], "cannot read --anomaly-date 'yesterday'"),
        (["--time-dimension", "hour"], "unknown time dimension 'hour'"),
        (["--anomaly-end", "2024-01-01"], "is before anomaly date"),
        (["--anomaly-date", "2030-01-01"], "outside the data"),
        (["--anomaly-date", "2024-01-01"], "no baseline data"),
        (["--dimensions", "country,nope"], "no column 'nope' to use as a dimension"),
        (["--date-column", "nope"], "no date column 'nope'"),
        (["--top-n", "0"], "must be at least 1"),
        (["--max-cardinality", "-1"], "must be 0 or more"),
        (["--max-cardinality", "many"], "'many' is not a whole number"),
        (["--combo-depth", "3"], "more than the 2 dimensions"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(small_db: Path, capsys, extra, message) -> None:
    args = [*BASE, "--db", str(small_db)]
    for i in range(0, len(extra), 2):  # override or add each flag
        if extra[i] in args:
            args[args.index(extra[i]) + 1] = extra[i + 1]
        else:
            args += extra[i : i + 2]
    code, _, err = run(capsys, *args)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_not_a_database_and_no_dimensions(tmp_path: Path, make_db, capsys) -> None:
    junk = tmp_path / "junk.db"
    junk.write_text("hello, I am not a database\n" * 100)
    code, _, err = run(capsys, *BASE, "--db", str(junk))
    assert code == 2 and "not a DuckDB database" in err
    db = make_db([("2024-01-01", 1.0)], [("session_date", "DATE"), ("m", "DOUBLE")])
    code, _, err = run(capsys, *BASE, "--db", str(db), "--anomaly-date", "2024-01-01")
    assert code == 2 and ("no baseline data" in err or "no dimension" in err)


def test_parquet_and_csv_input(small_db: Path, tmp_path: Path, capsys) -> None:
    import duckdb

    con = duckdb.connect(str(small_db), read_only=True)
    con.execute(f"COPY records TO '{tmp_path / 'r.parquet'}' (FORMAT parquet)")
    con.execute(f"COPY records TO '{tmp_path / 'r.csv'}' (HEADER)")
    con.close()
    for name in ("r.parquet", "r.csv"):
        code, out, _ = run(capsys, *BASE, "--db", str(tmp_path / name), "--format", "json")
        assert code == 0
        assert json.loads(out)["total"]["contribution"] == 14.5
        # A file is one table: --table records (its name here) works, another name says so.
        path = str(tmp_path / name)
        code, out, _ = run(capsys, *BASE, "--db", path, "--table", "records", "--format", "json")
        assert code == 0 and json.loads(out)["total"]["contribution"] == 14.5
        code, _, err = run(capsys, *BASE, "--db", path, "--table", "sales")
        assert code == 2 and len(err.strip().splitlines()) == 1
        assert "is a single" in err and "leave --table out" in err


def test_database_file_is_not_modified(small_db: Path, capsys) -> None:
    before = small_db.read_bytes()
    mtime = os.stat(small_db).st_mtime_ns
    run(capsys, *BASE, "--db", str(small_db))
    assert small_db.read_bytes() == before and os.stat(small_db).st_mtime_ns == mtime
    assert not Path(str(small_db) + ".wal").exists()


def test_python_m_and_help_examples() -> None:
    for sub in ([], ["attribute"], ["demo"]):
        proc = subprocess.run([sys.executable, "-m", "data_hunter", *sub, "--help"],
                              capture_output=True, text=True, check=True)  # fmt: skip
        assert "examples:" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "data_hunter", *BASE, "--db", "/nope.db"],
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr == "data-hunter: error: no such file: /nope.db\n"


def test_demo_list_and_refuses_to_overwrite(tmp_path: Path, capsys) -> None:
    code, out, _ = run(capsys, "demo", "--list")
    assert code == 0 and len(out.strip().splitlines()) == len(PLANTED)
    target = tmp_path / "exists.db"
    target.write_text("keep me")
    code, _, err = run(capsys, "demo", str(target))
    assert code == 2 and "already exists" in err and target.read_text() == "keep me"


@pytest.mark.parametrize("planted", PLANTED, ids=lambda p: p.name)
def test_each_planted_anomaly_tops_its_level(demo_db: Path, capsys, planted) -> None:
    depth = len(planted.segment)
    code, out, _ = run(
        capsys, "attribute", "--db", str(demo_db), "--metric", planted.metric,
        "--time-dimension", "day", "--anomaly-date", str(planted.start),
        "--anomaly-end", str(planted.end), "--combo-depth", str(depth), "--format", "json",
    )  # fmt: skip
    assert code == 0
    level = json.loads(out)["levels"][depth - 1]
    assert level["segments"][0]["segment"] == planted.segment
