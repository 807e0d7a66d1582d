"""Shared fixtures: small hand-made DuckDB files and the demo database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pytest

from data_hunter.demo import write_demo
from data_hunter.sql import quote_ident

Row = Sequence[Any]


def write_table(
    path: Path,
    rows: Sequence[Row],
    columns: Sequence[tuple[str, str]],
    table: str = "records",
) -> Path:
    """Create ``path`` with one table of ``rows`` (column names and DuckDB types given)."""
    con = duckdb.connect(str(path))
    try:
        cols = ", ".join(f"{quote_ident(n)} {t}" for n, t in columns)
        con.execute(f"CREATE TABLE {quote_ident(table)} ({cols})")
        if rows:
            marks = ", ".join("?" for _ in columns)
            con.executemany(f"INSERT INTO {quote_ident(table)} VALUES ({marks})",
                            [list(r) for r in rows])  # fmt: skip
    finally:
        con.close()
    return path


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# The hand-made table of tests/test_semantics.py; every expected number there is computed by
# hand from these rows.
SMALL_COLUMNS = [("session_date", "DATE"), ("country", "VARCHAR"), ("device", "VARCHAR"),
                 ("m", "INTEGER")]  # fmt: skip
SMALL_ROWS: list[Row] = [
    (d("2024-01-01"), "US", "ios", 10), (d("2024-01-01"), "US", "web", 5),
    (d("2024-01-02"), "US", "ios", 10), (d("2024-01-02"), "BR", "ios", 4),
    (d("2024-01-03"), "US", "ios", 10),
    (d("2024-01-04"), "US", "ios", 10), (d("2024-01-04"), "US", "web", 3),
    (d("2024-01-04"), None, "ios", 2),
    (d("2024-01-05"), "US", "ios", 20), (d("2024-01-05"), "BR", "web", 6),
    (d("2024-01-05"), None, "ios", 2), (d("2024-01-05"), "US", "web", None),
]  # fmt: skip


@pytest.fixture
def small_db(tmp_path: Path) -> Path:
    return write_table(tmp_path / "small.db", SMALL_ROWS, SMALL_COLUMNS)


@pytest.fixture
def make_db(tmp_path: Path) -> Callable[..., Path]:
    counter = iter(range(10_000))

    def make(rows: Sequence[Row], columns: Sequence[tuple[str, str]], table: str = "records",
             name: str | None = None) -> Path:  # fmt: skip
        return write_table(tmp_path / (name or f"t{next(counter)}.db"), rows, columns, table)

    return make


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    write_demo(path)
    return path
