"""Schedules that fan out over a shard's connected partners with deterministic run keys.

- incremental_sync_schedule (every 15 minutes): If-Modified-Since pull per partner.
- daily_reread_schedule (03:00 UTC): full re-read of the current and previous month per partner,
  because some Xero edits (DueDate on part-paid invoices, line account codes) do not bump
  UpdatedDateUTC.
Partners that are not connected, or parked by Xero's daily limit, are skipped; each shard's code
location schedules only its own partners.
"""


import datetime as dt
import functools

import dagster as dg

from xero_sync.assets.platform_records import platform_records_for
from xero_sync.assets.xero_records import xero_records_for
from xero_sync.jobs.incremental import incremental_sync_job_for
from xero_sync.jobs.run_tags import connection_tags
from xero_sync.partitions import range_tags
from xero_sync.platform import connections
from xero_sync.resources.platform import PlatformResource
from xero_sync.shards.layout import Shard, shard as shard_at
from xero_sync.sync.month_slices import add_months, month_start


@functools.cache
def pull_job_for(shard: Shard):
    return dg.define_asset_job(
        "pull_months_job",
        selection=dg.AssetSelection.assets(xero_records_for(shard), platform_records_for(shard)),
        description="Pull and apply a partner's months (range runs from schedules and sensors).",
    )


def _active(platform: PlatformResource, now: dt.datetime, shard: Shard) -> list[connections.Connection]:
    with platform.begin() as conn:
        active = connections.list_connections(conn, statuses=["connected"], shard=shard.index)
    return [c for c in active if not c.is_parked(now)]


@functools.cache
def incremental_sync_schedule_for(shard: Shard) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="incremental_sync_schedule",
        job=incremental_sync_job_for(shard),
        cron_schedule="*/15 * * * *",
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    def incremental_sync_schedule(context: dg.ScheduleEvaluationContext, platform: PlatformResource):
        tick = context.scheduled_execution_time
        for c in _active(platform, tick, shard):
            yield dg.RunRequest(
                run_key=f"incremental:{c.partner_id}:{tick:%Y%m%dT%H%M}",
                partition_key=c.partner_id,
                tags=connection_tags(c, "incremental"),
            )

    return incremental_sync_schedule


@functools.cache
def daily_reread_schedule_for(shard: Shard) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="daily_reread_schedule",
        job=pull_job_for(shard),
        cron_schedule="0 3 * * *",
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    def daily_reread_schedule(context: dg.ScheduleEvaluationContext, platform: PlatformResource):
        tick = context.scheduled_execution_time
        current = month_start(tick.date())
        for c in _active(platform, tick, shard):
            yield dg.RunRequest(
                run_key=f"reread:{c.partner_id}:{tick:%Y%m%d}",
                tags={
                    **range_tags(c.partner_id, add_months(current, -1), current),
                    **connection_tags(c, "reread"),
                },
            )

    return daily_reread_schedule


pull_job = pull_job_for(shard_at(0))
incremental_sync_schedule = incremental_sync_schedule_for(shard_at(0))
daily_reread_schedule = daily_reread_schedule_for(shard_at(0))
