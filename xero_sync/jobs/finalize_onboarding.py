"""finalize_onboarding_job: the last step of a partner's initial sync.

`new_connection_sensor` only discovers that every planned month of a partner has landed and
requests this job for it (run config: the partner; run key `finalize:{partner}:{attempt}`). The
run records the months before the organisation's first transaction as materialized-empty
(runless events in batches, sensors/recorded_months.py; no Xero call: nothing can be dated
there), so a Connected partner shows 100% in the UI, then marks the partner connected.

Idempotent: it writes only the events Dagster does not hold yet and leaves a partner that is
already connected as it is, so a run cut short is completed by the next one the sensor requests,
with nothing written twice. A partner whose months have not all landed (a run launched by hand
too early) fails the run and is left pending.
"""

# No `from __future__ import annotations`: Dagster resolves the op's config annotation at definition.
import datetime as dt
import functools

import dagster as dg

from xero_sync.partitions import HISTORY_START
from xero_sync.platform import connections, onboarding_progress
from xero_sync.resources.platform import PlatformResource
from xero_sync.sensors.recorded_months import missing_empty_history, month_asset_keys, record_materializations
from xero_sync.shards.layout import Shard, shard as shard_at
from xero_sync.sync.onboarding import OnboardingState, next_step

OP_NAME = "finalize_onboarding"


class FinalizeOnboardingConfig(dg.Config):
    partner_id: str


def finalize_run_config(partner_id: str) -> dict:
    return {"ops": {OP_NAME: {"config": {"partner_id": partner_id}}}}


def finalize_partner(context: dg.OpExecutionContext, platform: PlatformResource, shard: Shard,
                     partner_id: str) -> int:
    """Record the partner's empty months and connect it; returns the events written."""
    with platform.begin() as conn:
        connection = connections.get_connection(conn, partner_id)
        landed = onboarding_progress.landed_months(conn, [partner_id])[partner_id]
    if connection is None:
        raise dg.Failure(f"partner {partner_id}: no connection")
    if connection.status != "pending":
        context.log.info(f"partner {partner_id}: already {connection.status}; nothing to do")
        return 0
    state = OnboardingState(today=dt.datetime.now(dt.timezone.utc).date(), first_month=connection.first_month,
                            oldest_partition=HISTORY_START, materialized=landed, in_flight=False, parked=False)
    step = next_step(state)
    if not step.complete:
        raise dg.Failure(f"partner {partner_id}: {step.months_done} of {step.months_total} planned months "
                         "landed; onboarding is not complete")
    empty = missing_empty_history(context.instance, partner_id, connection.first_month, month_asset_keys(shard))
    record_materializations(context.instance, empty)
    with platform.begin() as conn:
        connections.mark_connected(conn, partner_id)
    context.log.info(f"partner {partner_id}: initial sync complete ({step.months_total} months; "
                     f"{len(empty)} months x assets before the first transaction recorded empty)")
    return len(empty)


@functools.cache
def finalize_onboarding_job_for(shard: Shard) -> dg.JobDefinition:
    @dg.op(name=OP_NAME, description="Record the months before the first transaction empty; mark connected.")
    def finalize_onboarding(context: dg.OpExecutionContext, config: FinalizeOnboardingConfig,
                            platform: PlatformResource) -> None:
        finalize_partner(context, platform, shard, config.partner_id)

    @dg.job(name="finalize_onboarding_job", executor_def=dg.in_process_executor,
            description="Last step of a partner's initial sync (requested by new_connection_sensor).")
    def finalize_onboarding_job():
        finalize_onboarding()

    return finalize_onboarding_job


finalize_onboarding_job = finalize_onboarding_job_for(shard_at(0))
