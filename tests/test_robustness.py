"""Bad input, big input and hostile names: clear one-line errors, nothing written, no
injection. Each test fails without the handling it names."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from data_hunter.cli import main
from data_hunter.engine import Engine
from data_hunter.errors import DataHunterError

from .conftest import SMALL_COLUMNS, SMALL_ROWS, d, write_table

ARGS = ["attribute", "--metric", "m", "--time-dimension", "day", "--anomaly-date", "2024-01-05"]


def cli(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(capsys, *args: str) -> str:
    code, _, err = cli(capsys, *args)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return err


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_nothing_is_written_and_read_only_files_work(small_db: Path, capsys) -> None:
    before = sha(small_db)
    small_db.chmod(0o444)
    for fmt in ("text", "json", "csv", "markdown"):
        code, _, err = cli(capsys, *ARGS, "--db", str(small_db), "--format", fmt)
        assert code == 0, err
    cli(capsys, "detect", "--db", str(small_db), "--metric", "m", "--time-dimension", "day")
    assert sha(small_db) == before
    assert sorted(p.name for p in small_db.parent.iterdir()) == ["small.db"]


def test_write_lock_held_by_another_process(small_db: Path, capsys) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys, time
            con = duckdb.connect({str(small_db)!r})
            print("locked", flush=True)
            time.sleep(30)
        """)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        err = one_line_error(capsys, *ARGS, "--db", str(small_db))
        assert "locked by another process" in err and "copy" in err
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("directory", "is a directory"),
        ("empty-file", "is empty: not a DuckDB database"),
        ("text-file", "is not a DuckDB database"),
    ],
)
def test_files_that_are_not_databases(tmp_path: Path, capsys, setup: str, message: str) -> None:
    path = tmp_path / "x.db"
    if setup == "directory":
        path.mkdir()
    elif setup == "empty-file":
        path.touch()
    else:
        path.write_text("id,name\n1,a\n")
    assert message in one_line_error(capsys, *ARGS, "--db", str(path))


def test_table_problems(make_db, capsys) -> None:
    empty = make_db([], SMALL_COLUMNS)
    assert "is empty" in one_line_error(capsys, *ARGS, "--db", str(empty))
    no_date = make_db([("a", 1)], [("k", "VARCHAR"), ("m", "INTEGER")])
    assert "no date column 'session_date'" in one_line_error(capsys, *ARGS, "--db", str(no_date))
    no_metric = make_db([(d("2024-01-01"), "a")], [("session_date", "DATE"), ("k", "VARCHAR")])
    err = one_line_error(capsys, *ARGS, "--db", str(no_metric))
    assert "no column 'm'" in err and "metrics: none" in err


def test_text_dates(make_db, capsys) -> None:
    iso = make_db([(f"2024-01-0{i}", "a", i) for i in range(1, 6)],
                  [("session_date", "VARCHAR"), ("k", "VARCHAR"), ("m", "INTEGER")])  # fmt: skip
    code, out, _ = cli(capsys, *ARGS, "--db", str(iso), "--format", "json")
    assert code == 0 and json.loads(out)["total"]["actual"] == 5
    bad = make_db([("05/01/2024", "a", 1)],
                  [("session_date", "VARCHAR"), ("k", "VARCHAR"), ("m", "INTEGER")])  # fmt: skip
    assert "not an ISO date, e.g. '05/01/2024'" in one_line_error(capsys, *ARGS, "--db", str(bad))


def test_timestamptz_dates(make_db, capsys) -> None:
    rows = [(dt.datetime(2024, 1, i, 12, tzinfo=dt.UTC), "a", i) for i in range(1, 6)]
    db = make_db(rows, [("session_date", "TIMESTAMPTZ"), ("k", "VARCHAR"), ("m", "INTEGER")])
    code, out, _ = cli(capsys, *ARGS, "--db", str(db), "--format", "json")
    assert code == 0 and json.loads(out)["total"]["expected"] == 2.5


def test_all_null_metric_and_dimension(make_db) -> None:
    rows = [(d(f"2024-01-0{i}"), None, None) for i in range(1, 6)]
    db = make_db(rows, [("session_date", "DATE"), ("k", "VARCHAR"), ("m", "DOUBLE")])
    eng = Engine.open(str(db))
    r = eng.attribute("m", eng.windows("day", d("2024-01-05")))
    assert (r.total.actual, r.total.expected, r.total.share) == (0, 0, None)
    assert [s.segment.label() for s in r.levels[0].segments] == ["k=(null)"]


def test_nan_inf_and_negative_values(make_db, capsys) -> None:
    rows = [
        (d("2024-01-01"), "a", 4.0), (d("2024-01-02"), "a", math.nan),
        (d("2024-01-03"), "b", -2.0), (d("2024-01-04"), "a", math.inf),
        (d("2024-01-05"), "a", 1.0), (d("2024-01-05"), "b", -math.inf),
    ]  # fmt: skip
    db = make_db(rows, [("session_date", "DATE"), ("k", "VARCHAR"), ("m", "DOUBLE")])
    code, out, _ = cli(capsys, *ARGS, "--db", str(db), "--format", "json")
    doc = json.loads(out)
    assert code == 0
    assert doc["total"] == {"actual": 1, "expected": 0.5, "contribution": 0.5}  # (4 - 2) / 4
    assert "3 NaN or infinite m values counted as 0" in doc["notes"]
    eng = Engine.open(str(db))
    assert list(eng.series("m", "day").values) == [4, 0, -2, 0, 1]


def test_windows_with_no_rows_are_noted(make_db) -> None:
    rows = [(d("2024-01-01"), "a", 1), (d("2024-01-10"), "a", 1)]
    db = make_db(rows, [("session_date", "DATE"), ("k", "VARCHAR"), ("m", "INTEGER")])
    eng = Engine.open(str(db))
    r = eng.attribute("m", eng.windows("day", d("2024-01-05")))
    assert "no rows in the anomaly window" in r.notes
    r = eng.attribute("m", eng.windows("day", d("2024-01-10"), None, d("2024-01-03"),
                                       d("2024-01-06")))  # fmt: skip
    assert "no rows in the baseline" in r.notes


def test_high_cardinality_dimension_stays_out_of_combinations(tmp_path: Path, capsys) -> None:
    db = tmp_path / "users.db"
    con = duckdb.connect(str(db))
    con.execute(
        "CREATE TABLE records AS SELECT DATE '2024-01-01' + CAST(i % 5 AS INTEGER) AS session_date,"
        " 'user' || i AS user_id, CASE WHEN i % 2 = 1 THEN 'ios' ELSE 'web' END AS device,"
        " 1 AS m FROM range(100000) t(i)"
    )
    con.close()
    eng = Engine.open(str(db))
    w = eng.windows("day", d("2024-01-05"))
    start = time.perf_counter()
    r = eng.attribute("m", w)
    assert time.perf_counter() - start < 30  # a guard against a blow-up, not a benchmark
    assert [lvl.depth for lvl in r.levels] == [1]
    assert any("user_id (100,000 values)" in n for n in r.notes)
    chosen = Engine.open(str(db), dimensions=["user_id", "device"])
    assert [lvl.depth for lvl in chosen.attribute("m", w).levels] == [1, 2]
    # The cutoff is the user's to move: --max-cardinality 0 crosses every dimension.
    args = ["attribute", "--db", str(db), "--metric", "m", "--time-dimension", "day",
            "--anomaly-date", "2024-01-05", "--format", "json"]  # fmt: skip
    code, out, _ = cli(capsys, *args)
    assert code == 0 and [lvl["depth"] for lvl in json.loads(out)["levels"]] == [1]
    assert any("--max-cardinality" in n for n in json.loads(out)["notes"])
    code, out, _ = cli(capsys, *args, "--max-cardinality", "0")
    assert code == 0 and [lvl["depth"] for lvl in json.loads(out)["levels"]] == [1, 2]
    code, out, _ = cli(capsys, *args, "--max-cardinality", "200000")
    assert code == 0 and [lvl["depth"] for lvl in json.loads(out)["levels"]] == [1, 2]


def test_thirty_dimensions_cap_the_default_depth(make_db) -> None:
    names = [f"d{i}" for i in range(30)]
    rows = [(d(f"2024-01-0{1 + i % 5}"), *[f"v{(i + j) % 3}" for j in range(30)], i)
            for i in range(200)]  # fmt: skip
    db = make_db(rows, [("session_date", "DATE"), *[(n, "VARCHAR") for n in names],
                        ("m", "INTEGER")])  # fmt: skip
    eng = Engine.open(str(db))
    w = eng.windows("day", d("2024-01-05"))
    r = eng.attribute("m", w)
    assert [lvl.depth for lvl in r.levels] == [1, 2]  # 30 + 435 combinations; depth 3 is 4,525
    assert any("depth capped at 2" in n for n in r.notes)
    with pytest.raises(DataHunterError, match="combinations"):
        eng.attribute("m", w, combo_depth=6)


HOSTILE = ['my col', 'qu"ote', "semi;colon", "drop table records; --", "select", "ñandú 🐍",
           'x"; DROP TABLE records; --']  # fmt: skip


def test_hostile_column_and_table_names(tmp_path: Path, capsys) -> None:
    cols = [("session_date", "DATE"), *[(n, "VARCHAR") for n in HOSTILE], ('m "metric"', "INTEGER")]
    rows = [(r[0], *[f"{n}={r[1]}'" for n in HOSTILE], r[3]) for r in SMALL_ROWS if r[1]]
    for table in ('we"ird; table', "order"):
        db = write_table(tmp_path / f"{len(table)}.db", rows, cols, table=table)
        before = sha(db)
        code, out, err = cli(capsys, "attribute", "--db", str(db), "--table", table, "--metric",
                             'm "metric"', "--time-dimension", "day", "--anomaly-date",
                             "2024-01-05", "--format", "json", "--top-n", "50")  # fmt: skip
        assert code == 0, err
        doc = json.loads(out)
        names = {k for lvl in doc["levels"] for s in lvl["segments"] for k in s["segment"]}
        assert names == set(HOSTILE)
        values = {v for s in doc["levels"][0]["segments"] for v in s["segment"].values()}
        assert "x\"; DROP TABLE records; --=US'" in values
        con = duckdb.connect(str(db), read_only=True)
        assert con.execute("SELECT count(*) FROM information_schema.tables").fetchall() == [(1,)]
        con.close()
        assert sha(db) == before


def test_schema_qualified_table(tmp_path: Path, capsys) -> None:
    path = tmp_path / "s.db"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA sales")
    con.execute("CREATE TABLE sales.records (session_date DATE, country VARCHAR, m INTEGER)")
    con.executemany("INSERT INTO sales.records VALUES (?, ?, ?)",
                    [[r[0], r[1], r[3]] for r in SMALL_ROWS])  # fmt: skip
    con.close()
    code, out, err = cli(capsys, *ARGS, "--db", str(path), "--table", "sales.records",
                         "--format", "json")  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["total"]["contribution"] == 14.5


def test_internal_errors_are_one_line(monkeypatch, small_db: Path, capsys) -> None:
    from data_hunter import engine

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(engine.Engine, "attribute", boom)
    code, _, err = cli(capsys, *ARGS, "--db", str(small_db))
    assert code == 1
    assert err.strip() == ("data-hunter: internal error: RuntimeError: boom "
                           "(set DATA_HUNTER_DEBUG=1 for a traceback)")  # fmt: skip
