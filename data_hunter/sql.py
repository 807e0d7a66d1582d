"""Every SQL statement data-hunter runs, in one place.

Keeping the SQL here, standard and parameterised, is what lets the aggregation move to
another engine (Spark, ClickHouse) later: callers hand over names and values, never SQL text.
Identifiers only ever come from the schema and pass through ``quote_ident``; values are bound
parameters (``?``). The only literal-producing helper, ``sql_literal``, is for SQL shown to
the user (the "copy as WHERE clause" action), never for SQL we execute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

Granularity = Literal["day", "week", "month"]


def quote_ident(name: str) -> str:
    """Quote one identifier, doubling embedded quotes; handles any character but NUL."""
    if "\x00" in name:
        raise ValueError("identifier contains a NUL byte")
    return '"' + name.replace('"', '""') + '"'


def quote_qualified(parts: Sequence[str]) -> str:
    """Quote a possibly schema-qualified name given as its parts."""
    return ".".join(quote_ident(p) for p in parts)


def sql_literal(value: str | None) -> str:
    """A string as a SQL literal, for display to the user only."""
    if value is None:
        return "NULL"
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class Query:
    """SQL text with its bound parameters."""

    text: str
    params: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Relation:
    """The records table as the SQL layer sees it.

    ``date_filter`` is the expression compared with date bounds: the bare column for DATE and
    TIMESTAMP columns (so DuckDB can skip row groups by zone maps), a cast for strings.
    ``date_expr`` is the column as a DATE.
    """

    table: str  # already quoted, possibly qualified
    date_expr: str
    date_filter: str


# --- schema discovery -------------------------------------------------------------------


def list_tables() -> Query:
    return Query(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database() "
        "ORDER BY table_schema = current_schema() DESC, table_schema, table_name"
    )


def describe(table: str) -> Query:
    return Query(f"DESCRIBE SELECT * FROM {table}")


def date_range(rel: Relation) -> Query:
    return Query(f"SELECT min({rel.date_expr}), max({rel.date_expr}), count(*) FROM {rel.table}")


def unparsed_date(rel: Relation, column: str) -> Query:
    """One value of a text date column that does not parse as a date, if any."""
    q = quote_ident(column)
    return Query(
        f"SELECT any_value({q}) FROM {rel.table} WHERE {q} IS NOT NULL AND {rel.date_expr} IS NULL"
    )


# --- filters ----------------------------------------------------------------------------


def segment_filter(conditions: Sequence[tuple[str, str | None]]) -> tuple[str, tuple[Any, ...]]:
    """``dim = ?`` conjunction (``dim IS NULL`` for NULL values), dimension values cast to text
    exactly as the window loader casts them."""
    parts: list[str] = []
    params: list[Any] = []
    for dim, value in conditions:
        col = f"CAST({quote_ident(dim)} AS VARCHAR)"
        if value is None:
            parts.append(f"{col} IS NULL")
        else:
            parts.append(f"{col} = ?")
            params.append(value)
    return (" AND ".join(parts) if parts else "TRUE"), tuple(params)


def where_clause_for_user(conditions: Sequence[tuple[str, str | None]]) -> str:
    """The segment as a WHERE clause a user can paste into another tool."""
    if not conditions:
        return "TRUE"
    parts = []
    for dim, value in conditions:
        col = quote_ident(dim)
        parts.append(f"{col} IS NULL" if value is None else f"{col} = {sql_literal(value)}")
    return " AND ".join(parts)


def finite_metric(metric: str) -> str:
    """The metric as a DOUBLE where NULL, NaN and +-Inf count as 0, as in the window cache."""
    m = f"CAST({quote_ident(metric)} AS DOUBLE)"
    return f"COALESCE(CASE WHEN isfinite({m}) THEN {m} END, 0)"


# --- the attribution stage --------------------------------------------------------------


def window_rows(
    rel: Relation,
    dimensions: Sequence[str],
    dimension_is_text: Sequence[bool],
    metrics: Sequence[str],
    anomaly: tuple[Any, Any],
    baseline: tuple[Any, Any],
    conditions: Sequence[tuple[str, str | None]] = (),
    with_day: bool = False,
) -> Query:
    """Rows of the anomaly and baseline windows: dimensions as text, a window flag, metrics.

    Bounds are half-open ``[start, stop)`` dates. NULL metric values count as 0 (the contract).
    This is the one scan the whole attribution needs; grouping happens on the result.
    """
    dims = [
        quote_ident(d) if is_text else f"CAST({quote_ident(d)} AS VARCHAR)"
        for d, is_text in zip(dimensions, dimension_is_text, strict=True)
    ]
    # Raw doubles: NULL, NaN and infinities are counted and zeroed by the caller.
    mets = [f"CAST({quote_ident(m)} AS DOUBLE)" for m in metrics]
    f = rel.date_filter
    seg_sql, seg_params = segment_filter(conditions)
    cols = [*dims, f"({f} >= ? AND {f} < ?) AS __in_anomaly", *mets]
    if with_day:
        cols.append(f"{rel.date_expr} AS __day")
    text = (
        f"SELECT {', '.join(cols)} FROM {rel.table} "
        f"WHERE (({f} >= ? AND {f} < ?) OR ({f} >= ? AND {f} < ?)) AND {seg_sql}"
    )
    params = (anomaly[0], anomaly[1], anomaly[0], anomaly[1], baseline[0], baseline[1])
    return Query(text, params + seg_params)


def series(
    rel: Relation,
    metric: str,
    granularity: Granularity,
    conditions: Sequence[tuple[str, str | None]] = (),
) -> Query:
    """The metric per period over the whole table, inside a segment: the sparkline."""
    seg_sql, seg_params = segment_filter(conditions)
    period = f"CAST(date_trunc('{granularity}', {rel.date_expr}) AS DATE)"
    text = (
        f"SELECT {period} AS period, COALESCE(sum({finite_metric(metric)}), 0) "
        f"FROM {rel.table} WHERE {seg_sql} AND {rel.date_expr} IS NOT NULL "
        f"GROUP BY period ORDER BY period"
    )
    return Query(text, seg_params)


def grouped_contribution(
    rel: Relation,
    metric: str,
    dimensions: Sequence[str],
    anomaly: tuple[Any, Any],
    baseline: tuple[Any, Any],
    ratio: float,
) -> Query:
    """One GROUP BY per combination: the naive plan, kept as the reference the fast path is
    tested and benchmarked against."""
    dims = [f"CAST({quote_ident(d)} AS VARCHAR)" for d in dimensions]
    m = finite_metric(metric)
    f = rel.date_filter
    text = (
        f"SELECT {', '.join(dims)}, "
        f"COALESCE(sum({m}) FILTER (WHERE {f} >= ? AND {f} < ?), 0) AS actual, "
        f"COALESCE(sum({m}) FILTER (WHERE {f} >= ? AND {f} < ?), 0) * ? AS expected "
        f"FROM {rel.table} WHERE ({f} >= ? AND {f} < ?) OR ({f} >= ? AND {f} < ?) "
        f"GROUP BY ALL"
    )
    params = (
        anomaly[0],
        anomaly[1],
        baseline[0],
        baseline[1],
        ratio,
        anomaly[0],
        anomaly[1],
        baseline[0],
        baseline[1],
    )
    return Query(text, params)
