"""Schedules fan out over connected, unparked partners with deterministic run keys."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from xero_sync.demo.main import drive_headless
from xero_sync.platform import connections
from xero_sync.schedules.sync import daily_reread_schedule, incremental_sync_schedule

TICK = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.timezone.utc)


def evaluate(schedule, world):
    with dg.build_schedule_context(instance=world.instance, scheduled_execution_time=TICK,
                                   repository_def=world.defs.get_repository_def(),
                                   resources=world.defs.resources) as context:
        return list(schedule.evaluate_tick(context).run_requests or [])


def test_schedules_skip_partners_until_connected_then_request_their_runs(world):
    assert evaluate(incremental_sync_schedule, world) == []  # still pending
    assert drive_headless(world.instance, world.defs, world.engine, world.partner_id) == []

    [incremental] = evaluate(incremental_sync_schedule, world)
    assert incremental.partition_key == world.partner_id
    assert incremental.run_key == f"incremental:{world.partner_id}:20261125T0300"
    assert incremental.tags["xero/tenant"] == world.tenant_id

    [reread] = evaluate(daily_reread_schedule, world)
    assert reread.tags["dagster/asset_partition_range_start"] == f"2026-10-01|{world.partner_id}"
    assert reread.tags["dagster/asset_partition_range_end"] == f"2026-11-01|{world.partner_id}"
    assert reread.run_key == f"reread:{world.partner_id}:20261125"

    with world.engine.begin() as conn:
        connections.park(conn, world.partner_id, dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=5),
                         "Xero daily API limit reached")
    assert evaluate(incremental_sync_schedule, world) == []
    assert evaluate(daily_reread_schedule, world) == []
