"""Alembic migrations create exactly schema.metadata, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from xero_sync.store import schema
from xero_sync.store.db import (
    MIGRATIONS_DIR,
    DatabaseUrlError,
    current_revision,
    make_engine,
    normalize_url,
    upgrade,
)


def _head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def _diff(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, schema.metadata)


def test_migrated_database_matches_metadata(db_url):
    assert current_revision(db_url) is None
    assert upgrade(db_url) == _head()
    engine = make_engine(db_url)
    try:
        assert _diff(engine) == []
        assert set(sa.inspect(engine).get_table_names()) == set(schema.metadata.tables) | {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_twice_is_a_noop(db_url):
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(schema.partners).values(partner_id="acme", name="Acme"))
        assert upgrade(db_url) == _head()
        assert _diff(engine) == []
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(schema.partners)).scalar() == 1
    finally:
        engine.dispose()


def test_timestamps_round_trip_as_aware_utc(store_engine):
    plus_two = dt.timezone(dt.timedelta(hours=2))
    written = dt.datetime(2024, 3, 1, 12, 30, 15, 123456, tzinfo=plus_two)
    with store_engine.begin() as conn:
        conn.execute(sa.insert(schema.partners).values(partner_id="acme", name="Acme", created_at=written))
        row = conn.execute(sa.select(schema.partners.c.created_at)).one()
        server_default = conn.execute(
            sa.insert(schema.partners).values(partner_id="b", name="B").returning(schema.partners.c.created_at)
        ).scalar_one()
    assert row.created_at == written
    assert row.created_at.tzinfo == dt.timezone.utc
    assert server_default.tzinfo == dt.timezone.utc


def test_naive_timestamps_are_refused(store_engine):
    with store_engine.begin() as conn, pytest.raises(sa.exc.StatementError, match="naive datetime"):
        conn.execute(
            sa.insert(schema.partners).values(partner_id="a", name="A", created_at=dt.datetime(2024, 1, 1))
        )


def test_sqlite_engine_settings(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'x.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert (tmp_path / "nested" / "dir" / "x.db").exists()
    finally:
        engine.dispose()


def test_url_normalisation():
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"
    with pytest.raises(DatabaseUrlError, match="not a database URL"):
        normalize_url("nonsense")
    with pytest.raises(DatabaseUrlError, match="unsupported database"):
        normalize_url("mysql://u@h/db")


def test_0004_takes_existing_xero_invoices_values_as_their_baseline(db_url):
    """Before 0004 nothing could edit a Xero invoice in Alternative: its values are Xero's."""
    upgrade(db_url, "0002")
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(schema.partners).values(partner_id="acme", name="Acme"))
            for source, xid in (("xero", "x-1"), ("alternative", None)):
                conn.execute(sa.text(
                    "INSERT INTO invoices (partner_id, source, xero_invoice_id, currency, issue_date, "
                    "due_date, total_minor, outstanding_minor, status) VALUES ('acme', :s, :x, 'USD', "
                    "'2026-01-01', '2026-02-01', 500, 500, 'unpaid')"), {"s": source, "x": xid})
        upgrade(db_url, "0004")
        with engine.connect() as conn:
            rows = dict(conn.execute(sa.select(schema.invoices.c.source,
                                               schema.invoices.c.xero_total_minor)).all())
            due = conn.execute(sa.select(schema.invoices.c.xero_due_date)
                               .where(schema.invoices.c.source == "xero")).scalar_one()
        assert rows == {"xero": 500, "alternative": None}
        assert due == dt.date(2026, 2, 1)
    finally:
        engine.dispose()
