"""What is in the table: the date column, the metrics, the dimensions and the date range.

Discovery is by type so that a new table works without configuration: numbers are metrics,
text-like columns are dimensions. Everything is checked here once, with messages that name
what exists, so the later stages can assume a valid schema.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from data_hunter import sql
from data_hunter.errors import DataHunterError
from data_hunter.source import Source

DEFAULT_TABLE = "records"
DEFAULT_DATE_COLUMN = "session_date"

_NUMERIC = (
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
    "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL", "DECIMAL", "NUMERIC", "INT", "VARINT",
    "BIGNUM",
)  # fmt: skip
_DATE_TYPES = ("DATE", "TIMESTAMP")  # TIMESTAMP covers _S/_MS/_NS and WITH TIME ZONE
_NOT_DIMENSION = ("TIME", "INTERVAL", "BLOB", "BIT", "[]", "STRUCT", "MAP", "UNION", "JSON")


def is_numeric(type_name: str) -> bool:
    base = type_name.upper().split("(")[0].strip()
    return base in _NUMERIC


def is_date_like(type_name: str) -> bool:
    return type_name.upper().startswith(_DATE_TYPES)


def _can_be_dimension(type_name: str) -> bool:
    upper = type_name.upper()
    return not (is_numeric(upper) or is_date_like(upper) or any(t in upper for t in _NOT_DIMENSION))


def _listing(names: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "") or "none"


@dataclass(frozen=True)
class Schema:
    """A validated view of one table. ``relation`` is what the SQL layer needs."""

    relation: sql.Relation
    table: str
    columns: tuple[tuple[str, str], ...]
    date_column: str
    metrics: tuple[str, ...]
    dimensions: tuple[str, ...]
    first_date: dt.date
    last_date: dt.date
    row_count: int
    explicit_dimensions: tuple[str, ...] = ()  # the ones named by the user, if any

    def type_of(self, column: str) -> str:
        return dict(self.columns)[column]

    def is_text(self, column: str) -> bool:
        return self.type_of(column).upper() == "VARCHAR"

    def require_metric(self, name: str) -> str:
        """Validate ``name`` as a metric; returns the column's exact spelling."""
        column = _match(name, [c for c, _ in self.columns])
        if column is None:
            raise DataHunterError(
                f"no column {name!r} in {self.table}; metrics: {_listing(list(self.metrics))}"
            )
        if column not in self.metrics:
            raise DataHunterError(
                f"column {column!r} is {self.type_of(column)}, not a number; "
                f"metrics: {_listing(list(self.metrics))}"
            )
        return column

    def with_dimensions(self, names: Sequence[str]) -> Schema:
        """This schema restricted to ``names`` (validated, in the order given)."""
        chosen = _check_dimensions(names, self.columns, self.date_column)
        return Schema(
            self.relation, self.table, self.columns, self.date_column, self.metrics,
            chosen, self.first_date, self.last_date, self.row_count, chosen,
        )  # fmt: skip


def _match(name: str, candidates: Sequence[str]) -> str | None:
    """Exact match first, then case-insensitive (DuckDB identifiers are case-insensitive)."""
    if name in candidates:
        return name
    folded = [c for c in candidates if c.lower() == name.lower()]
    return folded[0] if len(folded) == 1 else None


def _check_dimensions(
    names: Sequence[str], columns: Sequence[tuple[str, str]], date_column: str
) -> tuple[str, ...]:
    all_names = [c for c, _ in columns]
    types = dict(columns)
    chosen: list[str] = []
    for name in names:
        column = _match(name, all_names)
        if column is None:
            raise DataHunterError(f"no column {name!r} to use as a dimension; columns: "
                                  f"{_listing(all_names)}")  # fmt: skip
        if column == date_column:
            raise DataHunterError(f"{column!r} is the date column, not a dimension")
        if is_date_like(types[column]) or any(t in types[column].upper() for t in _NOT_DIMENSION):
            raise DataHunterError(f"column {column!r} ({types[column]}) cannot be a dimension")
        if column not in chosen:
            chosen.append(column)
    if not chosen:
        raise DataHunterError("no dimensions given")
    return tuple(chosen)


def resolve_table(source: Source, table: str | None) -> tuple[str, str]:
    """Find the table: returns (quoted SQL name, display name)."""
    if source.file_view is not None:
        # A Parquet or CSV file (or glob) is one table: naming another is a mistake worth
        # saying, not ignoring. The view's own name is accepted, so scripts can pass it.
        if table is not None and table != source.file_view:
            raise DataHunterError(
                f"--table {table}: {source.path} is a single {source.kind.upper()} table; "
                "leave --table out"
            )
        return sql.quote_ident(source.file_view), source.path
    try:
        rows = source.con.execute(sql.list_tables().text).fetchall()
    except duckdb.Error as exc:
        raise DataHunterError(f"cannot list tables in {source.path}: {exc}") from None
    tables = [(str(s), str(n)) for s, n in rows]
    display = [n if s == "main" else f"{s}.{n}" for s, n in tables]
    if not tables:
        raise DataHunterError(f"{source.path} has no tables")
    wanted = table or DEFAULT_TABLE
    # Exact "schema.table" first, then a bare table name, each case-sensitive then not.
    for candidates in (
        [(s, n) for s, n in tables if f"{s}.{n}" == wanted],
        [(s, n) for s, n in tables if n == wanted],
        [(s, n) for s, n in tables if f"{s}.{n}".lower() == wanted.lower()],
        [(s, n) for s, n in tables if n.lower() == wanted.lower()],
    ):
        if len(candidates) >= 1:
            s, n = candidates[0]
            return sql.quote_qualified([s, n]), (n if s == "main" else f"{s}.{n}")
    if table is None and len(tables) == 1:
        s, n = tables[0]
        return sql.quote_qualified([s, n]), display[0]
    raise DataHunterError(f"no table {wanted!r} in {source.path}; tables: {_listing(display)}")


def discover(
    source: Source,
    table: str | None = None,
    date_column: str | None = None,
    dimensions: Sequence[str] | None = None,
) -> Schema:
    quoted, display = resolve_table(source, table)
    con = source.con
    try:
        described = con.execute(sql.describe(quoted).text).fetchall()
    except duckdb.Error as exc:
        raise DataHunterError(f"cannot read table {display}: {str(exc).splitlines()[0]}") from None
    columns = tuple((str(r[0]), str(r[1])) for r in described)
    names = [c for c, _ in columns]
    types = dict(columns)

    wanted_date = date_column or DEFAULT_DATE_COLUMN
    date_col = _match(wanted_date, names)
    if date_col is None:
        dated = [c for c, t in columns if is_date_like(t)]
        if date_column is None and len(dated) == 1:
            date_col = dated[0]
        else:
            raise DataHunterError(
                f"no date column {wanted_date!r} in {display}; pass --date-column "
                f"(date-like columns: {_listing(dated)})"
            )
    date_type = types[date_col].upper()
    q = sql.quote_ident(date_col)
    if date_type == "DATE":
        relation = sql.Relation(quoted, q, q)
    elif is_date_like(date_type):
        relation = sql.Relation(quoted, f"CAST({q} AS DATE)", q)
    elif date_type == "VARCHAR":
        expr = f"CAST(TRY_CAST({q} AS TIMESTAMP) AS DATE)"
        relation = sql.Relation(quoted, expr, expr)
        # fetchall, not fetchone: a half-read result would keep the connection busy.
        bad_rows = con.execute(sql.unparsed_date(relation, date_col).text).fetchall()
        bad = bad_rows[0] if bad_rows else None
        if bad is not None and bad[0] is not None:
            raise DataHunterError(
                f"date column {date_col!r} holds text that is not an ISO date, e.g. {bad[0]!r}"
            )
    else:
        raise DataHunterError(f"date column {date_col!r} is {types[date_col]}, not a date")

    metrics = tuple(c for c, t in columns if is_numeric(t) and c != date_col)
    if dimensions:
        dims = _check_dimensions(dimensions, columns, date_col)
    else:
        dims = tuple(c for c, t in columns if c != date_col and _can_be_dimension(t))

    first, last, count = con.execute(sql.date_range(relation).text).fetchall()[0]
    if not count:
        raise DataHunterError(f"table {display} is empty")
    if first is None or last is None:
        raise DataHunterError(f"date column {date_col!r} in {display} has no dates")
    explicit = dims if dimensions else ()
    return Schema(
        relation, display, columns, date_col, metrics, dims, first, last, int(count), explicit
    )


def parse_dimension_list(text: str | None) -> tuple[str, ...] | None:
    """``--dimensions a,b,c`` as names; None when the flag was not given."""
    if text is None:
        return None
    parts = tuple(p.strip() for p in text.split(",") if p.strip())
    if not parts:
        raise DataHunterError("--dimensions is empty")
    return parts


def require_dimensions(schema: Schema) -> None:
    if not schema.dimensions:
        raise DataHunterError(
            f"{schema.table} has no dimension columns (text columns besides the date); "
            "pass --dimensions"
        )
