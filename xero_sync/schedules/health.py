"""partner_health_schedule: refresh the partner_health asset (and its checks) every 5 minutes."""

from __future__ import annotations

import dagster as dg

partner_health_job = dg.define_asset_job(
    "partner_health_job", selection=dg.AssetSelection.assets("partner_health"),
    description="Refresh partner_health (the schedule's target).",
)


@dg.schedule(job=partner_health_job, cron_schedule="*/5 * * * *",
             default_status=dg.DefaultScheduleStatus.RUNNING)
def partner_health_schedule(context: dg.ScheduleEvaluationContext):
    """Every 5 minutes: the table and its checks stay within 5 minutes of the store."""
    return dg.RunRequest(run_key=f"partner-health:{context.scheduled_execution_time:%Y%m%dT%H%M}")
