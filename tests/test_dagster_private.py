"""The private Dagster (and SQLAlchemy) APIs the adapters use still exist with the shape they use.

Each test fails with a message naming the installed version, the version the adapter was
written for, and what to re-check (xero_sync/dagster_private.py, xero_sync/store/sqlalchemy_private.py,
whose docstrings say what each private use buys and its public fallback)."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import socket
import uuid

import dagster as dg
import sqlalchemy as sa

from xero_sync import dagster_private
from xero_sync.store import sqlalchemy_private

MONTHS = dg.StaticPartitionsDefinition(["2026-01-01", "2026-02-01", "2026-03-01"])


def upgrade_changed(what: str, recheck: str, library: str = "Dagster") -> str:
    version = sa.__version__ if library == "SQLAlchemy" else dg.__version__
    written_for = "2.1" if library == "SQLAlchemy" else dagster_private.TESTED_WITH
    return (f"{library} {version} (the adapter was written for {written_for}): {what} changed. "
            f"Re-check {recheck}, or switch to the public fallback the adapter's docstring names.")


def private(module: str, name: str, recheck: str, library: str = "Dagster"):
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise AssertionError(upgrade_changed(f"{module}.{name} is gone ({exc})", recheck, library)) from exc


def parameters(func) -> list[str]:
    return [p for p in inspect.signature(func).parameters if p != "self"]


def test_batched_runless_materializations_write_what_report_runless_asset_event_writes():
    recheck = ("dagster_private.store_runless_materializations (glue/recorded_months.py's batch "
               "writes) against dagster/_core/instance (report_runless_asset_event)")
    storage = private("dagster._core.storage.event_log.base", "EventLogStorage", recheck)
    assert parameters(storage.store_event_batch) == ["events"], upgrade_changed(
        f"EventLogStorage.store_event_batch{inspect.signature(storage.store_event_batch)}", recheck)
    event = private("dagster._core.events", "DagsterEvent", recheck)
    assert {"event_type_value", "event_specific_data", "job_name"} <= set(parameters(event)), upgrade_changed(
        f"DagsterEvent{inspect.signature(event)}", recheck)
    data = private("dagster._core.events", "StepMaterializationData", recheck)
    assert parameters(data)[0] == "materialization", upgrade_changed(
        f"StepMaterializationData{inspect.signature(data)}", recheck)
    kind = private("dagster._core.events", "DagsterEventType", recheck)
    assert kind.ASSET_MATERIALIZATION.value == "ASSET_MATERIALIZATION", upgrade_changed(
        "DagsterEventType.ASSET_MATERIALIZATION", recheck)
    runless_run_id = private("dagster._core.instance.utils", "RUNLESS_RUN_ID", recheck)
    private("dagster._core.instance.utils", "RUNLESS_JOB_NAME", recheck)

    key = dg.AssetKey("monthly")
    with dg.instance_for_test() as instance:
        dagster_private.store_runless_materializations(instance, [
            dg.AssetMaterialization(asset_key=key, partition=p, metadata={"records_pulled": 0})
            for p in MONTHS.get_partition_keys()[:2]])
        instance.report_runless_asset_event(
            dg.AssetMaterialization(asset_key=key, partition="2026-03-01", metadata={"records_pulled": 0}))
        records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key), limit=10).records
        assert instance.get_materialized_partitions(key) == set(MONTHS.get_partition_keys()), upgrade_changed(
            "what a batch of runless events materializes", recheck)
        shape = {(r.run_id, r.event_log_entry.job_name, r.asset_materialization.metadata["records_pulled"].value)
                 for r in records}
        assert len(records) == 3 and len(shape) == 1 and next(iter(shape))[0] == runless_run_id, upgrade_changed(
            f"the rows report_runless_asset_event writes ({shape})", recheck)
        assert instance.get_latest_materialization_event(key) is not None


def test_the_postgres_storage_pieces_the_pooled_storage_uses():
    recheck = ("dagster_private.postgres_storage_config / pool_postgres_storages and "
               "xero_sync/deploy/pg_storage.py (tests/deploy/test_pg_storage.py measures it)")
    pg_config = private("dagster._core.storage.config", "pg_config", recheck)
    fields = set(pg_config())
    assert {"postgres_url", "postgres_db", "should_autocreate_tables"} <= fields, upgrade_changed(
        f"pg_config()'s fields ({sorted(fields)})", recheck)
    from dagster_postgres import DagsterPostgresStorage
    from dagster_postgres.event_log import PostgresEventLogStorage
    from dagster_postgres.run_storage import PostgresRunStorage
    from dagster_postgres.schedule_storage import PostgresScheduleStorage

    for name in ("run_storage", "event_log_storage", "schedule_storage"):
        assert isinstance(getattr(DagsterPostgresStorage, name, None), property), upgrade_changed(
            f"DagsterPostgresStorage.{name}", recheck)
    for storage in (PostgresRunStorage, PostgresEventLogStorage, PostgresScheduleStorage):
        method = getattr(storage, "optimize_for_webserver", None)
        assert method is not None and parameters(method) == ["statement_timeout", "pool_recycle", "max_overflow"], (
            upgrade_changed(f"{storage.__name__}.optimize_for_webserver", recheck))
    assert parameters(DagsterPostgresStorage)[:2] == ["postgres_url", "should_autocreate_tables"], upgrade_changed(
        f"DagsterPostgresStorage{inspect.signature(DagsterPostgresStorage)}", recheck)


def test_the_grpc_client_deploy_local_pings_code_servers_with():
    recheck = "dagster_private.code_server_answers (deploy/services.py code_server_ready)"
    client = private("dagster._grpc.client", "DagsterGrpcClient", recheck)
    assert {"port", "host"} <= set(parameters(client)), upgrade_changed(
        f"DagsterGrpcClient{inspect.signature(client)}", recheck)
    assert parameters(client.ping) == ["echo"], upgrade_changed(
        f"DagsterGrpcClient.ping{inspect.signature(client.ping)}", recheck)
    with socket.socket() as s:  # a port nothing listens on: not serving, and no exception
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert dagster_private.code_server_answers("127.0.0.1", port) is False


def test_the_daemon_module_runs_the_daemon_cli():
    recheck = "dagster_private.DAEMON_MODULE (deploy/services.py daemon_command)"
    assert importlib.util.find_spec(f"{dagster_private.DAEMON_MODULE}.__main__") is not None, upgrade_changed(
        f"`python -m {dagster_private.DAEMON_MODULE}`", recheck)
    cli = private(f"{dagster_private.DAEMON_MODULE}.cli", "cli", recheck)
    assert "run" in cli.commands, upgrade_changed(f"the daemon CLI's commands ({sorted(cli.commands)})", recheck)
    params = {p.name for p in cli.commands["run"].params}
    assert {"workspace", "log_level"} <= params, upgrade_changed(f"`dagster-daemon run` options {params}", recheck)


def test_a_sensor_tick_has_a_caching_partitions_loader():
    recheck = "dagster_private.tick_partitions_loader (partitions.py existing_partners)"
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("partners", ["acme"])
        with dg.build_sensor_context(instance=instance, instance_ref=instance.get_ref()) as context:
            loader = dagster_private.tick_partitions_loader(context)
            assert loader is not None, upgrade_changed(
                "SensorEvaluationContext.caching_dynamic_partitions_loader", recheck)
            assert set(loader.get_existing_dynamic_partitions("partners", ["acme", "ghost"])) == {"acme"}, (
                upgrade_changed("the loader's get_existing_dynamic_partitions", recheck))


def test_tags_can_be_added_to_a_run_after_it_started():
    recheck = "dagster_private.add_run_tags (resources/platform.py setup_for_execution)"
    assert parameters(dg.DagsterInstance.add_run_tags) == ["run_id", "new_tags"], upgrade_changed(
        f"DagsterInstance.add_run_tags{inspect.signature(dg.DagsterInstance.add_run_tags)}", recheck)
    with dg.instance_for_test() as instance:
        run_id = str(uuid.uuid4())
        instance.add_run(dg.DagsterRun(job_name="j", run_id=run_id, status=dg.DagsterRunStatus.STARTED,
                                       tags={"dagster/partition": "2026-01-01|acme"}))
        dagster_private.add_run_tags(instance, run_id, {"xero/partner": "acme"})
        assert instance.get_run_by_id(run_id).tags == {"dagster/partition": "2026-01-01|acme",
                                                       "xero/partner": "acme"}


def test_sqlalchemy_says_which_begins_are_implicit_through_its_autobegin():
    recheck = "xero_sync/store/sqlalchemy_private.py beginning_implicitly (store/db.py _sqlite_begin)"
    base = importlib.import_module("sqlalchemy.engine.base")
    autobegin = private("sqlalchemy.engine.base", "Connection", recheck, "SQLAlchemy").__dict__.get(
        sqlalchemy_private.AUTOBEGIN)
    assert autobegin is not None and inspect.getsourcefile(autobegin).endswith(
        sqlalchemy_private.SA_CONNECTION_FILE), upgrade_changed(
        f"Connection.{sqlalchemy_private.AUTOBEGIN} in {base.__file__}", recheck, "SQLAlchemy")

    seen: list[bool] = []
    engine = sa.create_engine("sqlite://")
    sa.event.listen(engine, "begin", lambda _conn: seen.append(sqlalchemy_private.beginning_implicitly(depth=2)))
    with engine.connect() as conn:
        conn.execute(sa.text("select 1"))
    with engine.begin() as conn:
        conn.execute(sa.text("select 1"))
    with engine.connect() as conn, conn.begin():
        conn.execute(sa.text("select 1"))
    assert seen == [True, False, False], upgrade_changed(
        f"which begins are found implicit (autobegin, engine.begin, conn.begin: {seen})", recheck, "SQLAlchemy")
