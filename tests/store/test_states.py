"""The outbox's and the connections' states are one Enum each (store/states.py), and the database
keeps exactly those: the CHECK constraints of schema.py, of migration 0011 and of a migrated
database (SQLite and PostgreSQL) list the enums' values, and nothing else can be written."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from xero_sync.store import schema
from xero_sync.store.db import make_engine, upgrade
from xero_sync.store.states import ConnectionStatus, OutboxStatus
from xero_sync.sync.diff_rows import IN_FLIGHT_OUTBOX

ENUMS = {"outbox": OutboxStatus, "xero_connections": ConnectionStatus}
MIGRATION_0011 = Path(schema.__file__).parent / "migrations" / "versions" / "0011_event_invariants.py"
_QUOTED = re.compile(r"'([^']*)'")


def _values(enum) -> set[str]:
    return {s.value for s in enum}


def _constraint_values(check_sql: str) -> set[str]:
    return set(_QUOTED.findall(check_sql))


def test_schema_checks_list_the_enums():
    for table, enum in ENUMS.items():
        checks = [c for c in schema.metadata.tables[table].constraints if isinstance(c, sa.CheckConstraint)]
        compiled = [str(c.sqltext.compile(compile_kwargs={"literal_binds": True})) for c in checks
                    if "status" in str(c.sqltext)]
        assert len(compiled) == 1, compiled
        assert _constraint_values(compiled[0]) == _values(enum), table


def test_migration_0011_created_the_same_states():
    spec = importlib.util.spec_from_file_location("migration_0011", MIGRATION_0011)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert {table: set(states) for table, states in module.STATUSES.items()} == \
        {table: _values(enum) for table, enum in ENUMS.items()}


def _database_checks(engine: sa.Engine, table: str) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return conn.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"),
                                {"t": table}).scalar_one()
        return " ".join(conn.execute(sa.text(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) "
            "AND contype = 'c' AND conname = :n"), {"t": table, "n": f"ck_{table}_status"}).scalars())


def test_the_migrated_database_checks_the_enums_values(db_url):
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        for table, enum in ENUMS.items():
            sql = _database_checks(engine, table)
            constraint = re.search(rf"ck_{table}_status\W+CHECK\s*\((.*?)\)\s*(,|\)\s*$)", sql, re.S) \
                if engine.dialect.name == "sqlite" else re.search(r"CHECK\s*\((.*)\)", sql, re.S)
            assert constraint is not None, sql
            assert _constraint_values(constraint.group(1)) == _values(enum), (table, constraint.group(1))
        with engine.begin() as conn:
            conn.execute(sa.insert(schema.partners).values(partner_id="acme", name="Acme"))
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.insert(schema.xero_connections).values(partner_id="acme", status="paused"))
        with engine.begin() as conn:  # a member binds as its value
            conn.execute(sa.insert(schema.xero_connections).values(partner_id="acme",
                                                                   status=ConnectionStatus.PENDING))
            assert conn.execute(sa.select(schema.xero_connections.c.status)).scalar_one() == "pending"
    finally:
        engine.dispose()


def test_the_pure_rules_name_outbox_states_only():
    """sync/ imports no store, so its in-flight list is spelled out: every name must be a state."""
    assert set(IN_FLIGHT_OUTBOX) <= _values(OutboxStatus)
    assert OutboxStatus.HELD in IN_FLIGHT_OUTBOX and OutboxStatus.DONE not in IN_FLIGHT_OUTBOX
