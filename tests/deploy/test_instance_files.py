"""deploy-local's generated dagster.yaml and workspace.yaml: valid for Dagster, the same per-tenant
run limits as the production dagster.yaml, and one PostgreSQL database holding both Dagster's
storage (schema dagster) and the migrated platform store (public) without their Alembic tables
clashing."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml

from xero_sync.deploy import database
from xero_sync.deploy.instance_files import (
    TAG_CONCURRENCY_LIMITS,
    CodeServer,
    dagster_yaml,
    default_max_runs,
    workspace_yaml,
)
from xero_sync.store.db import current_revision, make_engine, upgrade

REPO = Path(__file__).resolve().parents[2]


def test_the_run_limits_are_the_production_ones():
    production = yaml.safe_load((REPO / "dagster.yaml").read_text())
    assert TAG_CONCURRENCY_LIMITS == production["concurrency"]["runs"]["tag_concurrency_limits"]
    generated = yaml.safe_load(dagster_yaml(sa.make_url("postgresql+psycopg://postgres@127.0.0.1/x"), 6))
    assert generated["concurrency"]["runs"] == {"max_concurrent_runs": 6,
                                                "tag_concurrency_limits": TAG_CONCURRENCY_LIMITS}
    assert generated["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert default_max_runs(2) == 4 and default_max_runs(None) == 2


def test_a_password_stays_out_of_the_file():
    text = dagster_yaml(sa.make_url("postgresql+psycopg://app:s3cret@db.internal:6543/xs"), 4)
    db = yaml.safe_load(text)["storage"]["custom"]["config"]["postgres_db"]
    assert "s3cret" not in text
    assert db["password"] == {"env": "DAGSTER_PG_PASSWORD"}
    assert (db["hostname"], db["port"], db["db_name"], db["username"]) == ("db.internal", 6543, "xs", "app")


def test_one_grpc_server_entry_per_shard():
    servers = [CodeServer(0, 41000), CodeServer(1, 41001)]
    entries = yaml.safe_load(workspace_yaml(servers))["load_from"]
    assert entries == [
        {"grpc_server": {"host": "127.0.0.1", "port": 41000, "location_name": "xero_sync"}},
        {"grpc_server": {"host": "127.0.0.1", "port": 41001, "location_name": "xero_sync_shard_1"}},
    ]


@pytest.mark.postgres
def test_dagster_and_the_platform_store_share_one_database(pg_admin_url, tmp_path):
    db = database.create(pg_admin_url.set(drivername="postgresql+psycopg"))
    try:
        head = upgrade(db.platform_url)
        (tmp_path / "dagster.yaml").write_text(dagster_yaml(db.url, 4))
        with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
            run = instance.create_run_for_job(dg.GraphDefinition("noop").to_job())
            assert instance.get_run_by_id(run.run_id) is not None
        engine = make_engine(db.platform_url)
        try:
            with engine.connect() as conn:
                tables = set(conn.execute(sa.text(
                    "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                    "WHERE table_schema IN ('public', 'dagster')")).scalars())
            assert {"dagster.runs", "dagster.event_logs", "dagster.alembic_version"} <= tables
            assert {"public.xero_connections", "public.alembic_version"} <= tables
            assert "public.runs" not in tables
            assert head is not None and current_revision(engine) == head  # not Dagster's revision
        finally:
            engine.dispose()
        assert upgrade(db.platform_url) == head  # re-running the platform migrations still works
    finally:
        database.drop(db)
    with sa.create_engine(pg_admin_url).connect() as conn:
        assert conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :d"),
                            {"d": db.url.database}).first() is None
