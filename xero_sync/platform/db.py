"""Engines and migrations for the platform store (PostgreSQL in production, SQLite embedded).

`make_engine` gives both backends the same behaviour where it matters: aware UTC timestamps (see
`schema.UTCDateTime`), enforced foreign keys, and waiting instead of failing when another writer
holds SQLite's lock. `upgrade` runs the Alembic migrations in `migrations/` programmatically, so
no `alembic.ini` is needed anywhere.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 30_000


class DatabaseUrlError(ValueError):
    """The platform store URL cannot be used; the message says why."""


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


def make_engine(url: str | sa.URL) -> sa.Engine:
    """An engine for the platform store at `url` (SQLite parent directory created if missing)."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "postgresql":
        return sa.create_engine(parsed, pool_pre_ping=True)
    database = parsed.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # WAL lets readers (the web page, sensors) run while a sync writes; foreign keys are off by
    # default in SQLite; busy_timeout makes a second writer wait rather than fail at once.
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def _alembic_config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def upgrade(url: str | sa.URL, revision: str = "head") -> str | None:
    """Migrate the store at `url` to `revision`; returns the revision reached. Re-running is a no-op."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), revision)
        return current_revision(engine)
    finally:
        engine.dispose()


def current_revision(url_or_engine: str | sa.URL | sa.Engine) -> str | None:
    """The Alembic revision the store is at (None if never migrated)."""
    owned = not isinstance(url_or_engine, sa.Engine)
    engine = make_engine(url_or_engine) if owned else url_or_engine
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        if owned:
            engine.dispose()
