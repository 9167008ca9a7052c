"""The reconciliation runs by itself (issue 17): daily for every connected partner, and after a
push once its writes are past the settle bound.

- daily_reconciliation_schedule (04:00 UTC, after the 03:00 re-read): one `reconcile_cohort_job`
  run per cohort of the shard's due partners (the same planning as the sync schedules).
- reconciliation_after_push_sensor (every 60 s): one `reconciliation_job` run (the
  reconciliation_diff asset for the partner's partition) for each partner whose last written
  outbox row was sent more than the settle bound ago (S + B + L: the client's longest write call
  plus Xero's read lag, push/settle.py; before it Xero may not show what was written yet) and
  whose latest reconciliation did not see it settled. The run key names the last written row, so
  Dagster deduplicates asking again; a newer write makes a new run once it settles.
Each shard's code location has both, over its own partners.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable

import dagster as dg

from xero_sync.cohorts.jobs import RECONCILE_OP, cohort_run_config, reconcile_cohort_job_for
from xero_sync.cohorts.plan import plan_cohorts, run_key
from xero_sync.config import Settings
from xero_sync.jobs.run_tags import cohort_tags, run_tags
from xero_sync.partitions import existing_partners
from xero_sync.store import partner_work
from xero_sync.core.ids import is_partner_id
from xero_sync.push.settle import READ_LAG_SECONDS
from xero_sync.resources.platform import PlatformResource
from xero_sync.schedules.sync import due_partners
from xero_sync.sensors.intervals import interval
from xero_sync.shards.layout import Shard, shard as shard_at
from xero_sync.xero.retry import RetryPolicy

MAX_PARTNERS_PER_TICK = 200
# Done writes older than this are the daily schedule's: the sensor's query stays bounded.
LOOK_BACK = dt.timedelta(days=2)
DEFAULT_TIMEOUT_SECONDS = 5 + 60  # XeroClient's default (connect, read) timeout


def settle_bound() -> dt.timedelta:
    """B + L: the longest write call with the client's default timeouts, plus the read lag."""
    longest = RetryPolicy(None, None).longest_write_seconds(DEFAULT_TIMEOUT_SECONDS)
    return dt.timedelta(seconds=longest + READ_LAG_SECONDS)


@functools.cache
def reconciliation_job_for(shard: Shard) -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        "reconciliation_job", selection=dg.AssetSelection.assets(shard.key("reconciliation_diff")),
        description="Reconcile one partner (reconciliation_after_push_sensor's runs).")


@functools.cache
def daily_reconciliation_schedule_for(shard: Shard) -> dg.ScheduleDefinition:
    @dg.schedule(name="daily_reconciliation_schedule", job=reconcile_cohort_job_for(shard),
                 cron_schedule="0 4 * * *", default_status=dg.DefaultScheduleStatus.RUNNING,
                 description="Reconciles every connected partner of the shard daily, in cohorts.")
    def daily_reconciliation_schedule(context: dg.ScheduleEvaluationContext, platform: PlatformResource):
        tick = context.scheduled_execution_time
        size = Settings.from_env().cohort_size
        for cohort in plan_cohorts(due_partners(context, platform, shard), size):
            yield dg.RunRequest(
                run_key=run_key("reconcile", f"{tick:%Y%m%d}", cohort),
                run_config=cohort_run_config(RECONCILE_OP, list(cohort.partners)),
                tags=cohort_tags(cohort.label, "reconcile", shard),
            )

    return daily_reconciliation_schedule


@functools.cache
def reconciliation_after_push_sensor_for(shard: Shard, clock: Callable[[], float] = time.time,
                                         every: int | None = None) -> dg.SensorDefinition:
    """`clock`: seconds since the epoch (the pushers' clock; tests pass the sandbox's)."""

    @dg.sensor(name="reconciliation_after_push_sensor", job=reconciliation_job_for(shard),
               minimum_interval_seconds=interval(60, every), default_status=dg.DefaultSensorStatus.RUNNING,
               description="Reconciles a partner once the writes of its latest push are past the "
                           "settle bound.")
    def reconciliation_after_push_sensor(context: dg.SensorEvaluationContext, platform: PlatformResource):
        now = dt.datetime.fromtimestamp(clock(), tz=dt.timezone.utc)
        with platform.begin() as conn:
            due = partner_work.reconciliations_due_after_writes(
                conn, shard.index, now, settle_bound(), LOOK_BACK, MAX_PARTNERS_PER_TICK)
        valid = [d for d in due if is_partner_id(d.partner_id)]
        present = existing_partners(context, [d.partner_id for d in valid], shard.partners)
        requests = [
            dg.RunRequest(run_key=f"reconcile:{d.partner_id}:{d.last_outbox_id}", partition_key=d.partner_id,
                          tags=run_tags(d.partner_id, d.tenant_id, "reconcile"))
            for d in valid if d.partner_id in present
        ]
        if not requests:
            return dg.SkipReason("no partner has settled writes newer than its reconciliation")
        return requests

    return reconciliation_after_push_sensor


reconciliation_job = reconciliation_job_for(shard_at(0))
daily_reconciliation_schedule = daily_reconciliation_schedule_for(shard_at(0))
reconciliation_after_push_sensor = reconciliation_after_push_sensor_for(shard_at(0))
