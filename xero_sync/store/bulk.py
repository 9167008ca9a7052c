"""Bulk SQL that differs between PostgreSQL and SQLite: upsert inserts, big id lists, chunking."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
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
        return column == sa.any_(sa.bindparam(None, _pg_text_array(values), type_=sa.types.NullType()))
    each = sa.func.json_each(sa.bindparam(None, json.dumps(values), type_=sa.Text)).table_valued("value")
    return column.in_(sa.select(each.c.value))


class _TextArrayLiteral(str):
    """A text[] parameter already written as an array literal (see `_pg_text_array`)."""


def _pg_text_array(values: Sequence[str]) -> _TextArrayLiteral:
    """The parameter for `= ANY(...)`, sent as ONE text[] literal that the server parses: far
    cheaper than psycopg adapting a 100,000-element list in Python. It must arrive typed text[]
    (not text cast in SQL) so the planner sees a constant array and hashes it."""
    from psycopg import adapters, postgres
    from psycopg.adapt import Dumper

    if _TextArrayLiteral not in _registered:
        class TextArrayDumper(Dumper):
            oid = postgres.types["text"].array_oid

            def dump(self, obj: str) -> bytes:
                return obj.encode()

        adapters.register_dumper(_TextArrayLiteral, TextArrayDumper)
        _registered.add(_TextArrayLiteral)
    return _TextArrayLiteral(pg_array_literal(values))


_registered: set[type] = set()


def pg_array_literal(values: Sequence[str]) -> str:
    """A PostgreSQL text-array literal: every element double-quoted, `\\` and `"` escaped; None
    is NULL."""
    quoted = ("NULL" if v is None else '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
              for v in values)
    return "{" + ",".join(quoted) + "}"


def pg_copy(conn: sa.Connection, table: sa.TableClause, columns: Sequence[str],
            rows: Iterable[Mapping] | Iterable[Sequence]) -> None:
    """PostgreSQL: COPY `rows` (mappings, or tuples in `columns` order) into `table`."""
    from psycopg.types.json import Json

    cols = ", ".join(f'"{c}"' for c in columns)
    json_at = [k for k, c in enumerate(columns) if isinstance(table.c[c].type, sa.JSON)]
    raw = conn.connection.driver_connection
    assert raw is not None  # a checked-out connection holds its psycopg connection
    with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({cols}) FROM STDIN") as copy:
        for row in rows:
            if isinstance(row, Mapping):
                row = [row[c] for c in columns]
            if json_at:
                row = list(row)
                for k in json_at:
                    if row[k] is not None:
                        row[k] = Json(row[k])
            copy.write_row(row)


@contextmanager
def pg_staged(conn: sa.Connection, table: sa.Table, columns: Sequence[str],
              rows: Sequence[Mapping] | Sequence[Sequence]) -> Iterator[sa.TableClause]:
    """PostgreSQL: COPY `rows` into a temporary copy of `table`'s `columns` and yield it, for one
    set-based `INSERT ... SELECT ... ON CONFLICT` or `UPDATE ... FROM` (the fastest bulk path; no
    per-row SQL). Rows are mappings, or tuples already in `columns` order (cheapest)."""
    name = f"_stage_{table.name}"
    cols = ", ".join(f'"{c}"' for c in columns)
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    conn.exec_driver_sql(f"CREATE TEMP TABLE {name} ON COMMIT DROP AS SELECT {cols} FROM {table.name} WITH NO DATA")
    staged = sa.table(name, *[sa.column(c, table.c[c].type) for c in columns])
    pg_copy(conn, staged, columns, rows)
    try:
        yield staged
    finally:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
