"""Alembic environment: run by `xero_sync.store.db.upgrade` with an open connection."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from xero_sync.store.schema import metadata

# Two processes upgrading one PostgreSQL database at once (e.g. two code servers starting) would
# race on CREATE TABLE; a transaction-scoped advisory lock serialises them.
_PG_MIGRATION_LOCK = 0x78735F6D6967  # "xs_mig"


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # Plain `alembic` CLI use: build the engine the same way the application does.
    from xero_sync.store.db import make_engine

    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no sqlalchemy.url in the Alembic configuration (or run `xero-sync db upgrade`)")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported; run `xero-sync db upgrade`")
run_migrations_online()
