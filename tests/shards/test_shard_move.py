"""A partner moved between shards keeps its data, and its partitions' history is reported in the
new shard (without a Xero call) while the old shard's history stays in Dagster's event log."""

from __future__ import annotations

import datetime as dt
import os
import tempfile

import dagster as dg
import pytest

from xero_sync.jobs.finalize_onboarding import finalize_onboarding_job_for
from xero_sync.partitions import HISTORY_START, months, partition_key
from xero_sync.store import connections, onboarding_progress, shards
from xero_sync.resources.platform import PlatformResource
from xero_sync.sensors.onboarding import new_connection_sensor_for
from xero_sync.shards.layout import shard
from xero_sync.sync.month_slices import add_months, month_start, months_in

CURRENT = month_start(dt.date.today())
FIRST = add_months(CURRENT, -5)
ASSETS = ("xero_contacts", "xero_invoices", "xero_payments", "xero_credit_notes",
          "platform_customers", "platform_invoices", "platform_payments")


@pytest.fixture
def instance():
    # On tmpfs when available: the move reports 7 x 179 events and SQLite fsyncs each one.
    shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(dir=shm) as home, dg.instance_for_test(temp_dir=home) as instance:
        yield instance


@pytest.fixture
def store_engine(sqlite_url):
    """The store side of moves runs on SQLite and PostgreSQL in test_shard_store.py; here the
    subject is Dagster's side."""
    from xero_sync.store.db import make_engine, upgrade

    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


def tick(engine, instance, index: int) -> dg.SensorResult:
    """One tick of shard `index`'s onboarding sensor, then what the daemon does with its result
    (partitions added or removed, finalize runs executed)."""
    platform = PlatformResource(database_url=engine.url.render_as_string(hide_password=False))
    with dg.build_sensor_context(instance=instance, resources={"platform": platform}) as context:
        result = new_connection_sensor_for(shard(index)).evaluate_tick(context)
    for request in result.dynamic_partitions_requests:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, key)
    assert not result.asset_events  # the sensor writes no materialization: the runs it requests do
    for request in result.run_requests:  # the finalize runs record a moved partner's months
        if request.job_name == "finalize_onboarding_job":
            assert finalize_onboarding_job_for(shard(index)).execute_in_process(
                instance=instance, run_config=request.run_config, tags=request.tags,
                resources={"platform": platform}).success
    return result


def connected_partner(engine, partner_id: str, count: int) -> None:
    with engine.begin() as conn:
        connections.ensure_partner(conn, partner_id, partner_id.title(), shard_count=count)
        connections.start_connection(conn, partner_id, tenant_id=f"t-{partner_id}", tenant_name=partner_id,
                                     xero_connection_id=f"c-{partner_id}", token_set_id=None)
        connections.set_plan(conn, partner_id, FIRST, 6)
        onboarding_progress.record_landed(conn, partner_id, months_in(FIRST, add_months(CURRENT, 1)))
        connections.record_progress(conn, partner_id, 6, 6)
        connections.mark_connected(conn, partner_id)


def materialized(instance, index: int, asset: str, partner_id: str) -> set[str]:
    keys = instance.get_materialized_partitions(shard(index).key(asset))
    return {k for k in keys if k.endswith(f"|{partner_id}")}


def test_a_moved_partner_keeps_its_data_and_shows_every_partition_in_its_new_shard(store_engine, instance):
    connected_partner(store_engine, "acme", count=2)
    with store_engine.begin() as conn:
        assert shards.shard_of(conn, "acme") == 0
        before = connections.get_connection(conn, "acme")
    instance.add_dynamic_partitions("partners", ["acme"])
    old_run = str(partition_key("acme", CURRENT))
    instance.report_runless_asset_event(dg.AssetMaterialization("xero_invoices", partition=old_run,
                                                                metadata={"records_pulled": 12}))

    with store_engine.begin() as conn:
        shards.move(conn, "acme", 1)

    # The new shard adds the partition first and starts no run for the partner ...
    first = tick(store_engine, instance, 1)
    assert [list(r.partition_keys) for r in first.dynamic_partitions_requests] == [["acme"]]
    assert first.run_requests == []
    assert all(materialized(instance, 1, asset, "acme") == set() for asset in ASSETS)
    # ... then its finalize run records every month: those landed before the move and the empty
    # ones before the organisation's first transaction, on all seven partner x month assets of shard 1.
    second = tick(store_engine, instance, 1)
    assert [r.job_name for r in second.run_requests] == ["finalize_onboarding_job"]
    every_month = {str(partition_key("acme", dt.date.fromisoformat(m))) for m in months.get_partition_keys()}
    landed = [str(partition_key("acme", m)) for m in months_in(FIRST, add_months(CURRENT, 1))]
    for asset in ASSETS:
        assert materialized(instance, 1, asset, "acme") == every_month, asset
        moved = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=shard(1).key(asset), asset_partitions=landed), limit=1000).records
        assert sorted(r.partition_key for r in moved) == sorted(landed), asset  # each once
        meta = [r.asset_materialization.metadata for r in moved]
        assert all(m["source"].value == "shard move" and m["moved_from"].value == "shard 0" for m in meta)
    third = tick(store_engine, instance, 1)
    assert third.dynamic_partitions_requests == [] and third.run_requests == []
    with store_engine.begin() as conn:
        assert shards.arrivals(conn, 1) == []

    # The old shard removes its partition; its history stays in the event log.
    assert "acme" in instance.get_dynamic_partitions("partners")
    removed = tick(store_engine, instance, 0)
    assert [(type(r).__name__, list(r.partition_keys)) for r in removed.dynamic_partitions_requests] == [
        ("DeleteDynamicPartitionsRequest", ["acme"])]
    assert "acme" not in instance.get_dynamic_partitions("partners")
    tick(store_engine, instance, 0)
    with store_engine.begin() as conn:
        assert shards.departures(conn, 0) == []
        after = connections.get_connection(conn, "acme")
        assert onboarding_progress.landed_months(conn, ["acme"])["acme"] == frozenset(
            months_in(FIRST, add_months(CURRENT, 1)))
    old = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("xero_invoices"), asset_partitions=[old_run]), limit=5).records
    assert [r.event_log_entry.asset_materialization.metadata["records_pulled"].value for r in old] == [12]
    # Its data is the same partner's data: only the shard changed.
    assert after.shard == 1
    assert _same_but_shard(before, after)


def _same_but_shard(before: connections.Connection, after: connections.Connection) -> bool:
    from dataclasses import fields

    return all(getattr(before, f.name) == getattr(after, f.name)
               for f in fields(connections.Connection) if f.name not in {"shard", "updated_at"})


def test_a_pending_partner_resumes_onboarding_in_its_new_shard(store_engine, instance):
    with store_engine.begin() as conn:
        connections.ensure_partner(conn, "beta", "Beta", shard_count=2)
        connections.start_connection(conn, "beta", tenant_id="t-beta", tenant_name="beta",
                                     xero_connection_id="c-beta", token_set_id=None)
        connections.set_plan(conn, "beta", HISTORY_START, 1)
        onboarding_progress.record_landed(conn, "beta", [CURRENT])
    instance.add_dynamic_partitions("partners", ["beta"])
    with store_engine.begin() as conn:
        shards.move(conn, "beta", 1)
    assert tick(store_engine, instance, 0).run_requests == []  # not its shard any more
    assert tick(store_engine, instance, 1).run_requests == []  # partition being added
    reported = tick(store_engine, instance, 1).run_requests    # its landed month reported
    assert [r.job_name for r in reported] == ["finalize_onboarding_job"]
    resumed = tick(store_engine, instance, 1).run_requests
    assert [r.tags["xero/partner"] for r in resumed] == ["beta"]
    assert resumed[0].tags["dagster/asset_partition_range_end"] == str(partition_key("beta", add_months(CURRENT, -1)))
    assert materialized(instance, 1, "xero_invoices", "beta") == {str(partition_key("beta", CURRENT))}
