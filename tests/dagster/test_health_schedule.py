"""partner_health_schedule and the run-status sensors are part of the code location."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from xero_sync.definitions import defs
from xero_sync.schedules.health import partner_health_schedule


def test_health_schedule_every_five_minutes_with_a_run_key_per_tick():
    assert partner_health_schedule.cron_schedule == "*/5 * * * *"
    assert partner_health_schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert partner_health_schedule.job_name == "partner_health_job"
    tick = dt.datetime(2026, 11, 30, 12, 5, tzinfo=dt.timezone.utc)
    with dg.build_schedule_context(scheduled_execution_time=tick) as context:
        request = partner_health_schedule.evaluate_tick(context).run_requests[0]
    assert request.run_key == "partner-health:20261130T1205"


def test_run_status_sensors_are_registered_and_running():
    repo = defs.get_repository_def()
    sensors = {s.name: s for s in repo.sensor_defs}
    for name in ("partner_run_failure_sensor", "partner_run_success_sensor"):
        assert sensors[name].default_status == dg.DefaultSensorStatus.RUNNING
    job = defs.resolve_job_def("partner_health_job")
    assert {k.to_user_string() for k in job.asset_layer.executable_asset_keys} == {"partner_health"}
