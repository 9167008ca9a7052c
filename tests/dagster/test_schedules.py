"""Schedules request cohort runs over connected, unparked partners with deterministic run keys
(tests/dagster/test_cohorts.py covers cohort sizes, shards and partitions)."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from xero_sync.demo.main import drive_headless
from xero_sync.store import connections
from xero_sync.schedules.sync import daily_reread_schedule, incremental_sync_schedule

TICK = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.timezone.utc)


def evaluate(schedule, world):
    with dg.build_schedule_context(instance=world.instance, scheduled_execution_time=TICK,
                                   repository_def=world.defs.get_repository_def(),
                                   resources=world.defs.resources) as context:
        return list(schedule.evaluate_tick(context).run_requests or [])


def test_schedules_skip_partners_until_connected_then_request_their_cohort_runs(world):
    assert evaluate(incremental_sync_schedule, world) == []  # still pending
    assert drive_headless(world.instance, world.defs, world.engine, world.partner_id) == []

    [incremental] = evaluate(incremental_sync_schedule, world)
    assert incremental.run_config == {"ops": {"pull_changes_cohort": {"config": {"partners": [world.partner_id]}}}}
    assert incremental.run_key == "incremental:20261125T0300:cohort-1-of-1"
    assert incremental.tags["xero/cohort"] == "1-of-1" and "xero/partner" not in incremental.tags
    # Cohort runs name their shard: two shards' `1-of-1` runs looked identical (issue 20).
    assert incremental.tags["xero/shard"] == "0"

    [reread] = evaluate(daily_reread_schedule, world)
    assert reread.run_config == {"ops": {"reread_cohort": {"config": {
        "partners": [world.partner_id], "months": ["2026-10-01", "2026-11-01"]}}}}
    assert reread.run_key == "reread:20261125:cohort-1-of-1"

    with world.engine.begin() as conn:
        connections.park(conn, world.partner_id, dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=5),
                         "Xero daily API limit reached")
    assert evaluate(incremental_sync_schedule, world) == []
    assert evaluate(daily_reread_schedule, world) == []


def test_cohort_runs_of_two_shards_name_their_shard():
    from xero_sync.jobs.run_tags import cohort_tags
    from xero_sync.shards.layout import shard

    first, second = (cohort_tags("1-of-1", "incremental", shard(i)) for i in (0, 1))
    assert first != second and second["xero/shard"] == "1" and second["xero/cohort"] == "1-of-1"
