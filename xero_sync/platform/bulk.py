"""Bulk SQL that differs between PostgreSQL and SQLite: upsert inserts, big id lists, chunking."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

T = TypeVar("T")

# Both backends cap bound parameters per statement (PostgreSQL 65,535; SQLite 32,766).
MAX_PARAMS = 30_000
CHUNK_ROWS = 5_000


def dialect_insert(conn: sa.Connection, table: sa.Table):
    """`INSERT` with `on_conflict_do_*` for the connection's backend."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"platform store does not support {conn.dialect.name}")


def chunks(items: Sequence[T], columns: int = 1, rows: int = CHUNK_ROWS) -> Iterator[Sequence[T]]:
    """Slices small enough for one statement: at most `rows`, and under the parameter cap."""
    size = max(1, min(rows, MAX_PARAMS // max(1, columns)))
    for start in range(0, len(items), size):
        yield items[start : start + size]


def in_values(conn: sa.Connection, column: sa.ColumnElement, values: Sequence[str]) -> sa.ColumnElement[bool]:
    """`column IN values` with ONE bound parameter however long the list is: a PostgreSQL array,
    or SQLite's json_each over a JSON text."""
    values = list(values)
    if conn.dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, values, type_=postgresql.ARRAY(sa.String)))
    each = sa.func.json_each(sa.bindparam(None, json.dumps(values), type_=sa.Text)).table_valued("value")
    return column.in_(sa.select(each.c.value))


@contextmanager
def pg_staged(conn: sa.Connection, table: sa.Table, columns: Sequence[str], rows: Sequence[Mapping]) -> Iterator[sa.TableClause]:
    """PostgreSQL: COPY `rows` into a temporary copy of `table`'s `columns` and yield it, for one
    set-based `INSERT ... SELECT ... ON CONFLICT` (the fastest bulk path; no per-row SQL)."""
    from psycopg.types.json import Json

    name = f"_stage_{table.name}"
    cols = ", ".join(f'"{c}"' for c in columns)
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    conn.exec_driver_sql(f"CREATE TEMP TABLE {name} ON COMMIT DROP AS SELECT {cols} FROM {table.name} WITH NO DATA")
    json_cols = {c for c in columns if isinstance(table.c[c].type, sa.JSON)}
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY {name} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([Json(row[c]) if c in json_cols and row[c] is not None else row[c] for c in columns])
    try:
        yield sa.table(name, *[sa.column(c, table.c[c].type) for c in columns])
    finally:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
