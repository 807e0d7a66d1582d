"""The benchmark runs end to end at a tiny size, and the fast and naive plans agree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parents[1] / "bench" / "run.py"


def test_bench_quick_mode_completes_and_plans_agree(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(RUN), "--rows", "20000", "--quick", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "| (c) naive == fast check | PASS |" in out
    assert "check 20k: PASS" in out
    assert "| (b) in-process attribution = cube + ranking |" in out
    for row in ("CLI `explain`, whole process", "in-process `explain`, cold",
                "in-process `explain` on the window cache"):  # fmt: skip
        line = next(x for x in out.splitlines() if row in x)
        assert " ms |" in line or " s |" in line, line  # a time, not a missing value
    # the table is cached by (rows, seed): a second run reuses it
    assert list(tmp_path.glob("records_r20000_s*.duckdb"))


def test_generator_is_deterministic(tmp_path: Path) -> None:
    import duckdb

    sys.path.insert(0, str(RUN.parent))
    import gen

    sums = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.duckdb"
        gen.generate(path, 5000, 7, verbose=False)
        con = duckdb.connect(str(path), read_only=True)
        sums.append(con.execute(
            "SELECT count(*), sum(widget_views), round(sum(revenue), 4), min(session_date), "
            "max(session_date), count(DISTINCT region), string_agg(country, '' ORDER BY rowid) "
            "FROM records"
        ).fetchall())  # fmt: skip
        con.close()
    assert sums[0] == sums[1]
    assert sums[0][0][0] == 5000
