"""Opening the user's data, read-only, whatever form it comes in.

A DuckDB file is opened with ``read_only=True``: data-hunter never writes to it, and several
processes (or the user's own writer, once it lets go) can hold it at once. Parquet and CSV
files, or globs of them, are read through an in-memory DuckDB where they appear as a view, so
the rest of the core sees one kind of thing: a connection and a table name.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass

import duckdb

from data_hunter.errors import DataHunterError

_PARQUET = (".parquet", ".pq", ".parq")
_CSV = (".csv", ".tsv", ".csv.gz", ".tsv.gz", ".txt")


@dataclass
class Source:
    """An open connection to the user's data and how it was opened."""

    con: duckdb.DuckDBPyConnection
    path: str
    kind: str  # "duckdb", "parquet" or "csv"
    file_view: str | None = None  # the view name for Parquet/CSV input

    def close(self) -> None:
        self.con.close()


def _kind_of(path: str) -> str:
    lower = path.lower()
    if lower.endswith(_PARQUET):
        return "parquet"
    if lower.endswith(_CSV):
        return "csv"
    return "duckdb"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__


def open_source(path: str, view_name: str = "records") -> Source:
    """Open ``path`` read-only; raise ``DataHunterError`` with a one-line reason otherwise."""
    kind = _kind_of(path)
    is_glob = any(ch in path for ch in "*?[")
    if is_glob:
        if not glob.glob(path, recursive=True):
            raise DataHunterError(f"no file matches {path}")
    elif not os.path.exists(path):
        raise DataHunterError(f"no such file: {path}")
    elif os.path.isdir(path):
        raise DataHunterError(f"{path} is a directory: give a DuckDB, Parquet or CSV file")
    elif not os.access(path, os.R_OK):
        raise DataHunterError(f"cannot read {path}: permission denied")

    if kind == "duckdb":
        if is_glob:
            raise DataHunterError(f"{path}: globs work for Parquet and CSV files only")
        if os.path.getsize(path) == 0:
            raise DataHunterError(f"{path} is empty: not a DuckDB database")
        try:
            con = duckdb.connect(path, read_only=True)
        except duckdb.Error as exc:
            message = str(exc)
            if "lock" in message.lower():
                raise DataHunterError(
                    f"{path} is locked by another process writing to it; close that program "
                    "or query a copy of the file"
                ) from None
            if "not a valid DuckDB database" in message or "Invalid Input" in message:
                raise DataHunterError(f"{path} is not a DuckDB database") from None
            raise DataHunterError(f"cannot open {path}: {_first_line(exc)}") from None
        return Source(con, path, kind)

    con = duckdb.connect()
    try:
        rel = con.read_parquet(path) if kind == "parquet" else con.read_csv(path)
        rel.to_view(view_name)
    except duckdb.Error as exc:
        con.close()
        raise DataHunterError(f"cannot read {path} as {kind.upper()}: {_first_line(exc)}") from None
    return Source(con, path, kind, file_view=view_name)
