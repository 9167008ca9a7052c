"""Schedules of the steady state: one run per cohort of a shard's partners, deterministic run keys.

- incremental_sync_schedule (every 15 minutes): If-Modified-Since pull (`incremental_cohort_job`).
- daily_reread_schedule (03:00 UTC): full re-read of the current and previous month
  (`reread_cohort_job`), because some Xero edits (DueDate on part-paid invoices, line account
  codes) do not bump UpdatedDateUTC.
Each tick takes the shard's connected, unparked partners that have a partner partition, splits
them into cohorts of XERO_SYNC_COHORT_SIZE (xero_sync/cohorts/plan.py) and requests one run per
cohort with the partners in its run config: ceil(partners / size) runs per tick per shard instead
of one per partner. Each shard's code location schedules only its own partners.
Range runs of one partner's months launched by hand use `onboarding_job` (jobs/onboarding.py).
"""


import functools

import dagster as dg

from xero_sync.cohorts.jobs import (
    INCREMENTAL_OP,
    REREAD_OP,
    cohort_run_config,
    incremental_cohort_job_for,
    reread_cohort_job_for,
)
from xero_sync.cohorts.plan import plan_cohorts, run_key
from xero_sync.config import Settings
from xero_sync.jobs.run_tags import cohort_tags
from xero_sync.partitions import existing_partners
from xero_sync.store import connections
from xero_sync.core.ids import is_partner_id
from xero_sync.resources.platform import PlatformResource
from xero_sync.shards.layout import Shard, shard as shard_at
from xero_sync.sync.month_slices import add_months, month_start
from xero_sync.store.states import ConnectionStatus


def due_partners(context: dg.ScheduleEvaluationContext, platform: PlatformResource, shard: Shard) -> list[str]:
    """The shard's connected partners not parked at the tick that have a partner partition (one
    query for the connections, one for the partitions)."""
    tick = context.scheduled_execution_time
    with platform.begin() as conn:
        active = connections.list_connections(conn, statuses=[ConnectionStatus.CONNECTED], shard=shard.index)
    ids = []
    for c in active:
        if c.is_parked(tick):
            continue
        if not is_partner_id(c.partner_id):  # a bad partner row is logged, never fatal
            context.log.warning(f"partner id {c.partner_id!r} is not valid (fix the partner row); skipped")
            continue
        ids.append(c.partner_id)
    present = existing_partners(context, ids, shard.partners)
    missing = [p for p in ids if p not in present]
    if missing:
        context.log.warning(f"{len(missing)} connected partners have no partition in {shard.partners.name} "
                            f"and are skipped: {missing[:10]}")
    return [p for p in ids if p in present]


@functools.cache
def incremental_sync_schedule_for(shard: Shard) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="incremental_sync_schedule",
        job=incremental_cohort_job_for(shard),
        cron_schedule="*/15 * * * *",
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    def incremental_sync_schedule(context: dg.ScheduleEvaluationContext, platform: PlatformResource):
        tick = context.scheduled_execution_time
        size = Settings.from_env().cohort_size
        for cohort in plan_cohorts(due_partners(context, platform, shard), size):
            yield dg.RunRequest(
                run_key=run_key("incremental", f"{tick:%Y%m%dT%H%M}", cohort),
                run_config=cohort_run_config(INCREMENTAL_OP, list(cohort.partners)),
                tags=cohort_tags(cohort.label, "incremental", shard),
            )

    return incremental_sync_schedule


@functools.cache
def daily_reread_schedule_for(shard: Shard) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="daily_reread_schedule",
        job=reread_cohort_job_for(shard),
        cron_schedule="0 3 * * *",
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    def daily_reread_schedule(context: dg.ScheduleEvaluationContext, platform: PlatformResource):
        tick = context.scheduled_execution_time
        current = month_start(tick.date())
        months = [add_months(current, -1), current]
        size = Settings.from_env().cohort_size
        for cohort in plan_cohorts(due_partners(context, platform, shard), size):
            yield dg.RunRequest(
                run_key=run_key("reread", f"{tick:%Y%m%d}", cohort),
                run_config=cohort_run_config(REREAD_OP, list(cohort.partners), months),
                tags=cohort_tags(cohort.label, "reread", shard),
            )

    return daily_reread_schedule


incremental_sync_schedule = incremental_sync_schedule_for(shard_at(0))
daily_reread_schedule = daily_reread_schedule_for(shard_at(0))
