"""The xero-sync code location: assets, checks, jobs, sensors and schedules, wired to resources.

Nothing here reads the environment or calls the network at import time: resources resolve their
settings when a run, sensor tick or schedule tick starts.
"""

from __future__ import annotations

import warnings

import dagster as dg

from xero_sync.assets.partner_health import partner_health
# Beta APIs we chose knowingly; their notices would repeat in every Dagster process (webserver,
# daemon, code server, each run) without telling anyone anything new.
for _notice in (r"Class `MultiToSingleDimensionPartitionMapping` is currently in beta",
                r"Parameter `owners` of initializer `SensorDefinition.__init__` is currently in beta"):
    warnings.filterwarnings("ignore", message=_notice, category=dg.BetaWarning)

from xero_sync.assets.platform_records import platform_records
from xero_sync.assets.reconciliation import reconciliation_diff
from xero_sync.assets.xero_records import xero_records
from xero_sync.jobs.incremental import incremental_sync_job
from xero_sync.jobs.onboarding import onboarding_job
from xero_sync.jobs.push import push_job
from xero_sync.resources.platform import PlatformResource
from xero_sync.resources.xero import XeroResource
from xero_sync.schedules.health import partner_health_job, partner_health_schedule
from xero_sync.schedules.sync import daily_reread_schedule, incremental_sync_schedule, pull_job
from xero_sync.sensors.onboarding import new_connection_sensor
from xero_sync.sensors.outbox import payment_outbox_sensor
from xero_sync.sensors.run_failures import partner_run_failure_sensor, partner_run_success_sensor
from xero_sync.sensors.webhooks import xero_webhook_sensor


def build_defs(*, database_url: str | None = None, sandbox_url: str | None = None) -> dg.Definitions:
    """Definitions with explicit resources (tests and the demo point them at their own store)."""
    return dg.Definitions(
        assets=[xero_records, platform_records, reconciliation_diff, partner_health],
        jobs=[onboarding_job, pull_job, incremental_sync_job, push_job, partner_health_job],
        sensors=[new_connection_sensor, xero_webhook_sensor, payment_outbox_sensor,
                 partner_run_failure_sensor, partner_run_success_sensor],
        schedules=[incremental_sync_schedule, daily_reread_schedule, partner_health_schedule],
        resources={
            "platform": PlatformResource(database_url=database_url),
            "xero": XeroResource(database_url=database_url, sandbox_url=sandbox_url),
        },
    )


defs = build_defs()
