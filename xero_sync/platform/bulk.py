"""Bulk SQL that differs between PostgreSQL and SQLite: upsert inserts, big id lists, chunking."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
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
