"""The pooled Dagster storage (xero_sync/deploy/pg_storage.py) on a real PostgreSQL database: it
stores what dagster-postgres stores, with a handful of connections where dagster-postgres opens
one per statement, and a ranged run's materializations are written in batches."""

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml

pytestmark = pytest.mark.postgres

MONTHS = dg.MonthlyPartitionsDefinition(start_date="2025-01-01", end_date="2026-01-01")


@dg.asset(partitions_def=MONTHS, backfill_policy=dg.BackfillPolicy.single_run())
def monthly(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"months": len(context.partition_keys)})


def instance_home(tmp_path, pg_url: str, storage: str):
    url = sa.make_url(pg_url)
    db = {"username": url.username or "postgres", "hostname": url.host, "port": url.port or 5432,
          "db_name": url.database, "scheme": "postgresql+psycopg2"}
    block = ({"postgres": {"postgres_db": db}} if storage == "dagster-postgres" else
             {"custom": {"module": "xero_sync.deploy.pg_storage", "class": "PooledPostgresStorage",
                         "config": {"postgres_db": db}}})
    home = tmp_path / storage
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump({"storage": block, "telemetry": {"enabled": False}}))
    return str(home)


def connections_opened(home: str) -> tuple[int, set[str]]:
    """Connections opened while one run materializes all 12 months; the months materialized."""
    opened = []

    def count(*_args):
        opened.append(1)

    with dg.DagsterInstance.from_config(home) as instance:
        instance.get_runs()  # tables created, as in a long-running process
        sa.event.listen(sa.pool.Pool, "connect", count)
        try:
            result = dg.materialize([monthly], instance=instance, tags={
                "dagster/asset_partition_range_start": "2025-01-01",
                "dagster/asset_partition_range_end": "2025-12-01"})
        finally:
            sa.event.remove(sa.pool.Pool, "connect", count)
        assert result.success
        return len(opened), instance.get_materialized_partitions(dg.AssetKey("monthly"))


def test_the_pooled_storage_keeps_its_connections(tmp_path, pg_url, monkeypatch):
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "1000")
    pooled, pooled_months = connections_opened(instance_home(tmp_path, pg_url, "pooled"))
    per_statement, plain_months = connections_opened(instance_home(tmp_path, pg_url, "dagster-postgres"))
    assert pooled_months == plain_months == set(MONTHS.get_partition_keys())
    print(f"connections opened: pooled {pooled}, dagster-postgres {per_statement}")
    assert per_statement > 40  # dagster-postgres: a new connection for nearly every statement
    assert pooled <= 6, pooled  # one kept per storage (runs, events, schedules)


def event_inserts(home: str) -> int:
    """INSERT statements into the event log while one run materializes all 12 months."""
    inserts = []

    def count(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("INSERT INTO EVENT_LOGS"):
            inserts.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", count)
    try:
        connections_opened(home)
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", count)
    return len(inserts)


def test_a_ranged_runs_materializations_are_one_insert_per_asset(tmp_path, pg_url, monkeypatch):
    """With DAGSTER_EVENT_BATCH_SIZE (set by deploy-local; docs/operations.md) the 12
    materializations of the asset go to the event log in one statement instead of twelve."""
    monkeypatch.delenv("DAGSTER_EVENT_BATCH_SIZE", raising=False)
    one_by_one = event_inserts(instance_home(tmp_path, pg_url, "pooled"))
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "1000")
    home = tmp_path / "batched"
    home.mkdir()
    batched = event_inserts(instance_home(home, pg_url, "pooled"))
    assert one_by_one - batched == 11, (one_by_one, batched)


def test_a_driver_other_than_psycopg2_is_refused_with_the_setting_to_change():
    from xero_sync.config import ConfigError
    from xero_sync.deploy.pg_storage import PooledPostgresStorage

    with pytest.raises(ConfigError, match=r"driver 'psycopg'; set `scheme: postgresql\+psycopg2`") as refused:
        PooledPostgresStorage("postgresql+psycopg://dagster:s3cret@db.internal/dagster")
    assert "s3cret" not in str(refused.value)
