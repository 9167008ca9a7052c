"""The whole code location loads, with the assets, jobs, sensors and schedules the data team uses."""

import dagster as dg

from xero_sync.definitions import defs


def test_definitions_load():
    dg.Definitions.validate_loadable(defs)
    repo = defs.get_repository_def()
    keys = {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()}
    assert {"xero_contacts", "xero_invoices", "xero_payments", "xero_credit_notes",
            "platform_customers", "platform_invoices", "platform_payments"} <= keys
    assert "new_connection_sensor" in {s.name for s in repo.sensor_defs}
    assert {"incremental_sync_schedule", "daily_reread_schedule"} <= {s.name for s in repo.schedule_defs}
    schedules = {s.name: s.job_name for s in repo.schedule_defs}
    assert schedules["incremental_sync_schedule"] == "incremental_cohort_job"
    assert schedules["daily_reread_schedule"] == "reread_cohort_job"
    assert "incremental_sync_job" in {j.name for j in repo.get_all_jobs()}  # webhooks, by hand
