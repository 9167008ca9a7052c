"""A Connected partner is 100% materialized: the months before its first transaction are
recorded as materialized-empty when onboarding completes, without a single Xero call."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from xero_sync.assets.platform_records import platform_records
from xero_sync.assets.xero_records import xero_records
from xero_sync.demo.main import drive_headless
from xero_sync.partitions import partner_months
from xero_sync.platform import connections


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

    # No Xero call covered those months: one call to learn the first month, then one page per
    # entity per onboarding run (a small organisation), and nothing else.
    runs = world.instance.get_runs(filters=dg.RunsFilter(tags={"xero/phase": "onboarding"}))
    reads = [e for e in world.server.sandbox.requests.entries(world.tenant_id) if e["method"] == "GET"]
    assert len(reads) == 1 + 4 * len(runs)


def test_a_tick_cut_short_while_recording_the_empty_months_is_completed_by_the_next(world):
    """The daemon records a tick's events after the tick; if it stops half way, the partner stays
    Pending and the next tick asks for exactly the events still missing, then connects."""
    from xero_sync.sensors.onboarding import new_connection_sensor

    job = world.defs.resolve_job_def("onboarding_job")

    def tick():
        with dg.build_sensor_context(instance=world.instance, definitions=world.defs,
                                     resources=world.defs.resources) as context:
            result = new_connection_sensor.evaluate_tick(context)
        for request in result.dynamic_partitions_requests or []:
            world.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        return result

    def status():
        with world.engine.begin() as conn:
            return connections.get_connection(conn, world.partner_id).status

    for _ in range(10):  # the onboarding runs, until the tick that reports the empty months
        result = tick()
        if result.asset_events:
            break
        for request in result.run_requests:
            assert job.execute_in_process(instance=world.instance, tags=request.tags).success
    events = list(result.asset_events)
    assert events and status() == "pending"
    half = len(events) // 2
    for event in events[:half]:  # the daemon stopped half way
        world.instance.report_runless_asset_event(event)

    again = tick()
    assert {(e.asset_key, e.partition) for e in again.asset_events} == {(e.asset_key, e.partition) for e in events[half:]}
    assert status() == "pending" and not again.run_requests
    for event in again.asset_events:
        world.instance.report_runless_asset_event(event)
    last = tick()
    assert not last.asset_events and not last.run_requests and status() == "connected"
