"""Run failures reach the partner's record, per partner and per work (sync/failure_policy.py).

`partner_run_failure_sensor` records a failed run of a partner (job, time, message: secrets
masked, at most 500 characters) for each piece of work the run was doing: each asset it planned
over the run's months (UI `__ASSET_JOB` runs and backfills included), or the job when it has no
assets; the Integrations card and partner_health show it. `partner_run_success_sensor` clears
only the same work's earlier failures (the same asset over covering months, the same job) and
notes the phase's success, so the record always says "this is still broken" (the failed run stays
in Dagster's run history) and materializing another asset clears nothing. Runs carry their
partner in tags: `xero/partner` (our sensors and schedules), `dagster/partition/partner` (UI
launches), the partition key or range tags, or `xero/tenant`. Runs without a partner
(partner_health_job) are ignored, and so are cohort runs (many partners in one run, `xero/cohort`
tag, no partner tag): they apply the same policy to each partner themselves (xero_sync/cohorts/).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping

import dagster as dg
import sqlalchemy as sa

from xero_sync.jobs.run_tags import PHASE
from xero_sync.store import connections, partner_work
from xero_sync.resources.platform import PlatformResource
from xero_sync.sensors.intervals import interval
from xero_sync.sync.failure_policy import Work, asset_name, asset_works, job_work

_PARTITION_TAGS = ("dagster/partition", "dagster/asset_partition_range_start")


def _partner_in_key(key: str) -> str | None:
    """`acme` (partner partitions) or `2026-10-01|acme` (partner x month; dimensions sorted by
    name, so the partner comes last)."""
    key = key.strip()
    if not key:
        return None
    return key.split("|")[-1] if "|" in key else key


def partner_for_run(conn: sa.Connection, tags: Mapping[str, str]) -> tuple[str, str] | None:
    """The partner a run belongs to, and the tag that said so (None if it names no partner)."""
    for tag in ("xero/partner", "dagster/partition/partner"):
        if tags.get(tag):
            return tags[tag], tag
    for tag in _PARTITION_TAGS:
        partner = _partner_in_key(tags.get(tag, ""))
        if partner and connections.get_connection(conn, partner) is not None:
            return partner, tag
    if tags.get("xero/tenant"):
        found = connections.connection_for_tenant(conn, tags["xero/tenant"])
        if found is not None:
            return found.partner_id, "xero/tenant"
    return None


def run_works(instance: dg.DagsterInstance, run: dg.DagsterRun) -> list[Work]:
    """What the run was doing: each asset it planned to materialize over the run's months, or
    its job when it planned no asset (op jobs: push_job, incremental_sync_job)."""
    planned = instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED).records
    assets = {asset_name(r.event_log_entry.dagster_event.asset_key.path) for r in planned
              if r.event_log_entry.dagster_event and r.event_log_entry.dagster_event.asset_key}
    if not assets and run.asset_selection:
        assets = {asset_name(key.path) for key in run.asset_selection}
    if not assets:
        return [job_work(run.job_name)]
    keys = [run.tags[t] for t in ("dagster/partition", "dagster/asset_partition_range_start",
                                  "dagster/asset_partition_range_end") if run.tags.get(t)]
    return asset_works(assets, keys)


def run_phase(run: dg.DagsterRun, works: list[Work]) -> str:
    """The run's phase: its `xero/phase` tag; a run launched from the UI by what it did."""
    if run.tags.get(PHASE):
        return run.tags[PHASE]
    names = {w.name for w in works}
    if "reconciliation_diff" in names:
        return "reconcile"
    return "pull" if any(w.first_month for w in works) else run.job_name


def failure_message(context: dg.RunFailureSensorContext) -> str:
    """What went wrong, in words: the failed steps' own descriptions (dg.Failure says what and
    what next) rather than Dagster's generic "Execution of run failed"."""
    parts = []
    for event in context.get_step_failure_events():
        data = event.step_failure_data
        described = data.user_failure_data.description if data.user_failure_data else None
        text = described or (data.error.message if data.error else event.message)
        parts.append(f"{event.step_key}: {text}")
    return "; ".join(parts) or context.failure_event.message or ""  # masked by partner_work.work_failed


def _skip(context: dg.RunStatusSensorContext, why: str) -> None:
    """Log a run this sensor has nothing to do for. Not a SkipReason: a tick covers several runs,
    and Dagster refuses a tick whose runs returned both a SkipReason and nothing (e.g. a
    partner_health_job run and an onboarding run finishing between two ticks); cohort runs
    (xero/cohort) are frequent and partner-less."""
    context.log.debug(why)


def _timestamp(ts: float | None) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts or dt.datetime.now(dt.timezone.utc).timestamp(), tz=dt.timezone.utc)


@functools.cache
def partner_run_failure_sensor_for(every: int | None = None) -> dg.SensorDefinition:
    """The sensor recording partners' failed runs, ticking every `every` seconds (default 30)."""

    @dg.run_failure_sensor(name="partner_run_failure_sensor", default_status=dg.DefaultSensorStatus.RUNNING,
                           minimum_interval_seconds=interval(30, every),
                           description="Records a partner's failed run (job, time, message) on its connection.")
    def partner_run_failure_sensor(context: dg.RunFailureSensorContext, platform: PlatformResource):
        return _record_failed_run(context, platform)

    return partner_run_failure_sensor


def _record_failed_run(context: dg.RunFailureSensorContext, platform: PlatformResource):
    run = context.dagster_run
    record = context.instance.get_run_record_by_id(run.run_id)
    at = _timestamp(record.end_time if record else None)
    with platform.begin() as conn:
        found = partner_for_run(conn, run.tags)
        if found is None:
            return _skip(context, f"run {run.run_id} ({run.job_name}) has no partner tag")
        partner_id, _ = found
        # A later success of the same work, reported first (e.g. by a cohort run), keeps it cleared.
        works = run_works(context.instance, run)
        partner_work.work_failed(conn, partner_id, works, job=run.job_name, at=at,
                                 message=failure_message(context), run_id=run.run_id)
    context.log.info(f"partner {partner_id}: recorded failed run {run.run_id} of {run.job_name}")


@functools.cache
def partner_run_success_sensor_for(every: int | None = None) -> dg.SensorDefinition:
    """The sensor clearing partners' failures on later successes, ticking every `every` seconds."""

    @dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, name="partner_run_success_sensor",
                          default_status=dg.DefaultSensorStatus.RUNNING, minimum_interval_seconds=interval(30, every),
                          description="Clears a partner's recorded failure when the same work succeeds later.")
    def partner_run_success_sensor(context: dg.RunStatusSensorContext, platform: PlatformResource):
        return _clear_on_success(context, platform)

    return partner_run_success_sensor


def _clear_on_success(context: dg.RunStatusSensorContext, platform: PlatformResource):
    run = context.dagster_run
    record = context.instance.get_run_record_by_id(run.run_id)
    at = _timestamp(record.end_time if record else None)
    with platform.begin() as conn:
        found = partner_for_run(conn, run.tags)
        if found is None:
            return _skip(context, f"run {run.run_id} ({run.job_name}) has no partner tag")
        works = run_works(context.instance, run)
        partner_work.work_succeeded(conn, found[0], works, phase=run_phase(run, works), at=at,
                                    job=run.job_name)


# With each sensor's own interval (build_defs passes XERO_SYNC_SENSOR_INTERVAL when it is set).
partner_run_failure_sensor = partner_run_failure_sensor_for()
partner_run_success_sensor = partner_run_success_sensor_for()
