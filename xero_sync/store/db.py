"""Engines and migrations for the platform store (PostgreSQL in production, SQLite embedded).

`make_engine` gives both backends the same behaviour where it matters: aware UTC timestamps (see
`schema.UTCDateTime`), enforced foreign keys, waiting instead of failing when another writer
holds SQLite's lock, and real SQLite transactions: every write transaction begins with
`BEGIN IMMEDIATE` (the pysqlite recipe in SQLAlchemy's SQLite dialect notes), so what a writer
reads before it writes cannot change under it, as under PostgreSQL's row locks (`_sqlite_begin`). `upgrade` runs the Alembic migrations in `migrations/` programmatically, so
no `alembic.ini` is needed anywhere.
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from xero_sync.store.private_files import PRIVATE_MODE, make_private
from xero_sync.store.sqlalchemy_private import beginning_implicitly

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Two processes upgrading one PostgreSQL database at once (e.g. two code servers starting) would
# race on CREATE TABLE; a transaction-scoped advisory lock serialises them.
PG_MIGRATION_LOCK = 0x78735F6D6967  # "xs_mig"


class DatabaseUrlError(ValueError):
    """The platform store URL cannot be used; the message says why."""


class StoreMissing(DatabaseUrlError):
    """No (migrated) platform store at that URL; nothing was created looking for it."""


def normalize_url(url: str | sa.URL) -> sa.URL:
    """Parse `url`; plain `postgresql://` (and `postgres://`) means psycopg 3 here."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise DatabaseUrlError(f"{url!r} is not a database URL: {exc}") from None
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend not in {"postgresql", "sqlite"}:
        raise DatabaseUrlError(
            f"unsupported database {parsed.drivername!r} in {parsed.render_as_string()!r}: "
            "use postgresql+psycopg://user@host/db or sqlite:///path"
        )
    return parsed


def sqlite_path(url: str | sa.URL) -> Path | None:
    """The file of a SQLite store (None for PostgreSQL or an in-memory database)."""
    parsed = normalize_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" \
            or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def make_engine(url: str | sa.URL) -> sa.Engine:
    """An engine for the platform store at `url` (SQLite: parent directory created if missing,
    the store and its -wal/-shm files private to this user, 0600)."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "postgresql":
        return sa.create_engine(parsed, pool_pre_ping=True)
    path = sqlite_path(parsed)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # Created empty with 0600 before SQLite opens it: SQLite gives -wal/-shm the same mode.
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE))
        except FileExistsError:
            pass
    engine = sa.create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    sa.event.listen(engine, "connect", _sqlite_pragmas)
    sa.event.listen(engine, "begin", _sqlite_begin)
    if path is not None:
        # Stores created before this (or by other tools): tighten them on every new connection.
        sa.event.listen(engine, "connect", lambda *_: _make_store_private(path))
    return engine


def _make_store_private(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        make_private(path.with_name(path.name + suffix))


def open_store(url: str | sa.URL) -> sa.Engine:
    """An engine for an existing, migrated store; StoreMissing (creating nothing) otherwise.

    For commands that read or change a store but never create one (accounts, diff, keys).
    """
    parsed = normalize_url(url)
    shown = parsed.render_as_string(hide_password=True)
    path = sqlite_path(parsed)
    if path is not None and not path.is_file():
        raise StoreMissing(f"no platform store at {path} (create it with `xero-sync db upgrade`)")
    engine = make_engine(parsed)
    try:
        revision = current_revision(engine)
    except BaseException:
        engine.dispose()
        raise
    head = ScriptDirectory.from_config(_script_config()).get_current_head()
    if revision != head:
        engine.dispose()
        state = "has no tables" if revision is None else f"is at revision {revision}, the code needs {head}"
        raise StoreMissing(f"the platform store at {shown} {state} (run `xero-sync db upgrade`)")
    return engine


def require_folder(url: str | sa.URL) -> None:
    """A SQLite URL given explicitly must point into an existing folder: we create only our home."""
    path = sqlite_path(url)
    if path is not None and not path.parent.is_dir():
        raise StoreMissing(f"the folder {path.parent} of the platform store {path} does not exist")


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # WAL lets readers (the web page, sensors) run while a sync writes; foreign keys are off by
    # default in SQLite; busy_timeout makes a second writer wait rather than fail at once.
    # pysqlite's own transaction handling off: `_sqlite_begin` begins every transaction.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    """Every write transaction takes SQLite's write lock when it begins, not at its first write.

    pysqlite on its own begins a transaction only before the first INSERT/UPDATE/DELETE, so the
    reads a write depends on (an invoice's balance, a payment's payout) ran outside it and two
    writers could both act on the same stale read (issue 18: a 100.00 invoice paid 210.00).
    `_sqlite_pragmas` turns pysqlite's own BEGIN off; this emits ours: `BEGIN IMMEDIATE` for a
    transaction begun explicitly (`engine.begin()`, `conn.begin()`: every write path), so a
    second writer waits (busy_timeout) and then reads the first one's result, as under
    PostgreSQL's row locks. A connection that only reads (`engine.connect()` and execute: its
    transaction is begun implicitly) gets a plain deferred BEGIN: a consistent snapshot that
    never waits for writers (WAL), so a page or sensor reading never queues behind a sync.
    """
    # Which kind of begin this is: SQLAlchemy does not say; xero_sync/store/sqlalchemy_private.py
    # finds its `Connection._autobegin` among the callers.
    conn.exec_driver_sql("BEGIN" if beginning_implicitly(depth=2) else "BEGIN IMMEDIATE")


def _script_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _alembic_config(connection: sa.Connection) -> Config:
    config = _script_config()
    config.attributes["connection"] = connection
    return config


def upgrade(url: str | sa.URL, revision: str = "head") -> str | None:
    """Migrate the store at `url` to `revision`; returns the revision reached. Re-running is a no-op.

    One transaction (on SQLite too): a store stamped past re-chained migrations it lacks has them
    applied first (`migration_repair`); upgraded to head, its schema must then be the models'
    exactly, else StoreSchemaMismatch names the differences and nothing was changed."""
    from xero_sync.store.migration_repair import repair

    engine = make_engine(url)  # on SQLite its explicit begin is BEGIN IMMEDIATE, DDL included
    script = ScriptDirectory.from_config(_script_config())
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":  # the lock migrations/env.py takes, before the repair
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_MIGRATION_LOCK})
            stamped = MigrationContext.configure(connection).get_current_revision()
            repaired = repair(connection, script, stamped)
            command.upgrade(_alembic_config(connection), revision)
            if revision == "head" and stamped is not None:
                differences = schema_differences(connection)
                if differences:
                    shown = normalize_url(url).render_as_string(hide_password=True)
                    raise StoreSchemaMismatch(
                        f"the platform store at {shown} is stamped at revision {stamped} but its schema "
                        f"differs from what the migrations give{' even after applying ' + ', '.join(repaired) if repaired else ''}: "
                        f"{describe_differences(differences)}. Nothing was changed; restore the store "
                        "from a backup or fix its schema by hand, then run `xero-sync db upgrade` again")
        return current_revision(engine)
    finally:
        engine.dispose()


class StoreSchemaMismatch(DatabaseUrlError):
    """The store's tables differ from what its stamped revision promises; nothing was changed."""


def schema_differences(connection: sa.Connection) -> list:
    """Alembic's differences between the store and the models (`schema.metadata`); [] when equal."""
    from alembic.autogenerate import compare_metadata

    from xero_sync.store.schema import metadata

    return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), metadata)


def describe_differences(differences: list, limit: int = 8) -> str:
    """Alembic's difference tuples in words: "missing table xero_api_calls; missing column ..."."""
    words = []
    for diff in differences:
        item = diff[0] if isinstance(diff, list) else diff  # column modifications come as lists
        kind = item[0]
        if kind == "add_table":
            words.append(f"missing table {item[1].name}")
        elif kind == "remove_table":
            words.append(f"unexpected table {item[1].name}")
        elif kind == "add_column":
            words.append(f"missing column {item[2]}.{item[3].name}")
        elif kind == "remove_column":
            words.append(f"unexpected column {item[2]}.{item[3].name}")
        elif kind in ("add_index", "remove_index", "add_constraint", "remove_constraint"):
            thing = item[1]
            table = getattr(getattr(thing, "table", None), "name", "?")
            words.append(f"{'missing' if kind.startswith('add') else 'unexpected'} "
                         f"{kind.split('_')[1]} {thing.name} on {table}")
        else:
            words.append(f"{kind} on {item[2]}.{item[3]}" if len(item) > 3 else kind)
    more = f" and {len(words) - limit} more" if len(words) > limit else ""
    return "; ".join(words[:limit]) + more


def current_revision(url_or_engine: str | sa.URL | sa.Engine) -> str | None:
    """The Alembic revision the store is at (None if never migrated)."""
    owned = not isinstance(url_or_engine, sa.Engine)
    engine = url_or_engine if isinstance(url_or_engine, sa.Engine) else make_engine(url_or_engine)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        if owned:
            engine.dispose()
