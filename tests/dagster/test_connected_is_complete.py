"""A Connected partner is 100% materialized: the months before its first transaction are
recorded as materialized-empty when onboarding completes, without a single Xero call."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from xero_sync.assets.platform_records import platform_records
from xero_sync.assets.xero_records import xero_records
from xero_sync.demo.main import drive_headless
from xero_sync.partitions import HISTORY_START, partner_months
from xero_sync.store import connections, onboarding_progress
from xero_sync.sync.month_slices import months_in


def test_after_onboarding_every_partition_of_the_partner_is_materialized_without_extra_calls(world):
    assert drive_headless(world.instance, world.defs, world.engine, world.partner_id) == []
    with world.engine.begin() as conn:
        connection = connections.get_connection(conn, world.partner_id)
    assert connection.status == "connected"

    wanted = {k for k in partner_months.get_partition_keys(dynamic_partitions_store=world.instance)
              if k.endswith(f"|{world.partner_id}")}
    assert len(wanted) > connection.months_total  # the organisation is younger than 2012
    for key in [*xero_records.keys, *platform_records.keys]:
        assert wanted <= world.instance.get_materialized_partitions(key), key.to_user_string()

    # Each month before the first transaction says why it is empty.
    early = dt.date(2012, 1, 1)
    record = world.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("xero_invoices"),
                              asset_partitions=[f"{early}|{world.partner_id}"]), limit=1).records[0]
    meta = {k: v.value for k, v in record.asset_materialization.metadata.items()}
    assert meta["records_pulled"] == 0 and "first transaction" in meta["empty_because"]

    # No Xero call covered those months: one call to learn the first month and one for the
    # organisation's base currency (GET /Organisation), then one page per entity per onboarding
    # run (a small organisation), and nothing else.
    runs = world.instance.get_runs(filters=dg.RunsFilter(job_name="onboarding_job", tags={"xero/phase": "onboarding"}))
    reads = [e for e in world.server.sandbox.requests.entries(world.tenant_id) if e["method"] == "GET"]
    assert len(reads) == 2 + 4 * len(runs)
    assert sum(e["path"].endswith("/Organisation") for e in reads) == 1


def test_a_finalize_run_cut_short_while_recording_the_empty_months_is_completed_by_the_next(world):
    """The finalize_onboarding_job run the sensor requests once every month has landed writes
    the empty months in batches, one asset at a time. If an earlier run stopped after some of
    them, the next writes exactly the rest (none twice) and connects the partner."""
    from xero_sync.sensors.onboarding import new_connection_sensor
    from xero_sync.glue.recorded_months import missing_empty_history, month_asset_keys, record_materializations
    from xero_sync.shards.layout import shard

    keys = month_asset_keys(shard(0))

    def tick():
        with dg.build_sensor_context(instance=world.instance, definitions=world.defs,
                                     resources=world.defs.resources) as context:
            result = new_connection_sensor.evaluate_tick(context)
        for request in result.dynamic_partitions_requests or []:
            world.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        assert not result.asset_events  # written by the tick itself, never left to the daemon
        return result

    def connection():
        with world.engine.begin() as conn:
            return connections.get_connection(conn, world.partner_id)

    def all_landed() -> bool:
        with world.engine.begin() as conn:
            landed = onboarding_progress.landed_months(conn, [world.partner_id])[world.partner_id]
        return connection().months_total > 0 and len(landed) == connection().months_total

    finalize: list[dg.RunRequest] = []
    for _ in range(10):  # the onboarding runs, until every planned month has landed
        requests = tick().run_requests
        finalize = [r for r in requests if r.job_name == "finalize_onboarding_job"]
        for request in requests:
            if request.job_name == "onboarding_job":
                assert world.defs.resolve_job_def(request.job_name).execute_in_process(
                    instance=world.instance, tags=request.tags).success
        if all_landed():
            break
    assert all_landed() and connection().status == "pending"

    first_month = connection().first_month
    missing = missing_empty_history(world.instance, world.partner_id, first_month, keys)
    assert len(missing) == len(keys) * len(months_in(HISTORY_START, first_month))
    by_asset = {k: [e for e in missing if e.asset_key == k] for k in keys}
    written = by_asset[keys[0]] + by_asset[keys[1]][: len(by_asset[keys[1]]) // 2]
    record_materializations(world.instance, written)  # the earlier run stopped here

    [request] = finalize or [r for r in tick().run_requests if r.job_name == "finalize_onboarding_job"]
    assert connection().status == "pending"  # the sensor only asked
    assert world.defs.resolve_job_def(request.job_name).execute_in_process(
        instance=world.instance, run_config=request.run_config, tags=request.tags).success
    assert connection().status == "connected" and not tick().run_requests
    for key in keys:
        records = world.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=[str(e.partition) for e in by_asset[key]]),
            limit=10 * len(by_asset[key])).records
        assert sorted(r.partition_key for r in records) == sorted(str(e.partition) for e in by_asset[key]), key
    assert missing_empty_history(world.instance, world.partner_id, first_month, keys) == []
