"""The xero-sync code location of one partner shard: assets, checks, jobs, sensors, schedules.

`defs` serves the shard named by XERO_SYNC_SHARD (default 0). The definitions load when a code
server process imports this module (once per process); `build_defs` then reads the settings once
(`Settings.from_env()`: the shard it serves, XERO_SYNC_SENSOR_INTERVAL for every sensor, and a
ConfigError naming any malformed variable). `shard_0`, `shard_1`, ... are the same for a given
shard, for workspaces that load several shards from one environment (docs/operations.md "Partner shards").
Shard 0 also carries `partner_health`, which covers every partner of every shard and says which
shard each one is in. Nothing here calls the network: resources resolve their settings when a
run, sensor tick or schedule tick starts.
"""

from __future__ import annotations

import functools
import re
import warnings

import dagster as dg

# Beta APIs we chose knowingly; their notices would repeat in every Dagster process (webserver,
# daemon, code server, each run) without telling anyone anything new.
for _notice in (r"Class `MultiToSingleDimensionPartitionMapping` is currently in beta",
                r"Parameter `owners` of initializer `SensorDefinition.__init__` is currently in beta"):
    warnings.filterwarnings("ignore", message=_notice, category=dg.BetaWarning)

from xero_sync.assets.partner_health import partner_health  # noqa: E402
from xero_sync.assets.platform_records import platform_records_for  # noqa: E402
from xero_sync.assets.reconciliation import reconciliation_diff_for  # noqa: E402
from xero_sync.assets.xero_records import xero_records_for  # noqa: E402
from xero_sync.config import Settings  # noqa: E402
from xero_sync.cohorts.jobs import (  # noqa: E402
    incremental_cohort_job_for,
    reconcile_cohort_job_for,
    reread_cohort_job_for,
)
from xero_sync.jobs.finalize_onboarding import finalize_onboarding_job_for  # noqa: E402
from xero_sync.jobs.incremental import incremental_sync_job_for  # noqa: E402
from xero_sync.jobs.onboarding import onboarding_job_for  # noqa: E402
from xero_sync.jobs.push import push_job_for  # noqa: E402
from xero_sync.resources.platform import PlatformResource  # noqa: E402
from xero_sync.resources.xero import XeroResource  # noqa: E402
from xero_sync.schedules.health import partner_health_job, partner_health_schedule  # noqa: E402
from xero_sync.schedules.reconciliation import (  # noqa: E402
    daily_reconciliation_schedule_for,
    reconciliation_after_push_sensor_for,
    reconciliation_job_for,
)
from xero_sync.schedules.sync import (  # noqa: E402
    daily_reread_schedule_for,
    incremental_sync_schedule_for,
)
from xero_sync.sensors.onboarding import new_connection_sensor_for  # noqa: E402
from xero_sync.sensors.outbox import payment_outbox_sensor_for  # noqa: E402
from xero_sync.sensors.run_failures import (  # noqa: E402
    partner_run_failure_sensor_for,
    partner_run_success_sensor_for,
)
from xero_sync.sensors.webhooks import xero_webhook_sensor_for  # noqa: E402
from xero_sync.shards.layout import shard as shard_at  # noqa: E402


def build_defs(*, shard: int | None = None, database_url: str | None = None,
               sandbox_url: str | None = None) -> dg.Definitions:
    """Definitions of one shard with explicit resources (tests and the demo point them at their
    own store). `shard` defaults to XERO_SYNC_SHARD. The one read of the settings at load time."""
    settings = Settings.from_env()
    # XERO_SYNC_SENSOR_INTERVAL for every sensor; unset, each keeps its own (and the factories'
    # cached definitions stay the module-level ones, so merging those in deduplicates).
    every = {} if settings.sensor_interval is None else {"every": settings.sensor_interval}
    s = shard_at(settings.shard if shard is None else shard)
    # A shard's assets say so on every page (shard 1's keys carry `shard_1/`, shard 0's none).
    assets = list(dg.map_asset_specs(
        lambda spec: spec.replace_attributes(description=f"{s.label.capitalize()} (code location "
                                             f"{s.location_name}, partitions {s.partners.name}). "
                                             f"{spec.description or ''}".rstrip()),
        [xero_records_for(s), platform_records_for(s), reconciliation_diff_for(s)]))
    jobs = [onboarding_job_for(s), finalize_onboarding_job_for(s), incremental_sync_job_for(s), push_job_for(s),
            incremental_cohort_job_for(s), reread_cohort_job_for(s), reconcile_cohort_job_for(s),
            reconciliation_job_for(s)]
    schedules = [incremental_sync_schedule_for(s), daily_reread_schedule_for(s),
                 daily_reconciliation_schedule_for(s)]
    if s.index == 0:  # one health table for all partners, in the first shard's location
        assets.append(partner_health)
        jobs.append(partner_health_job)
        schedules.append(partner_health_schedule)
    # Partially configured, so "xero" resolves its nested platform to this key: one engine per run.
    platform = PlatformResource.configure_at_launch(database_url=database_url)
    return dg.Definitions(
        assets=assets,
        jobs=jobs,
        sensors=[new_connection_sensor_for(s, **every), xero_webhook_sensor_for(s, **every),
                 payment_outbox_sensor_for(s, **every), reconciliation_after_push_sensor_for(s, **every),
                 partner_run_failure_sensor_for(**every), partner_run_success_sensor_for(**every)],
        schedules=schedules,
        resources={
            "platform": platform,
            # The same partially configured PlatformResource under both keys: Dagster then gives the
            # nested field the one instance (one engine per process); mypy's view of the field's
            # type alias does not include a PartialResource of the non-optional type.
            "xero": XeroResource(platform=platform, sandbox_url=sandbox_url),  # type: ignore[arg-type]
        },
    )


defs = build_defs()

_SHARD_ATTRIBUTE = re.compile(r"^shard_(\d+)$")


@functools.cache
def _shard_defs(index: int) -> dg.Definitions:
    return build_defs(shard=index)


def __getattr__(name: str) -> dg.Definitions:
    """`shard_N`: the definitions of shard N (workspace.yaml `attribute: shard_2`)."""
    found = _SHARD_ATTRIBUTE.match(name)
    if found is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _shard_defs(int(found.group(1)))
