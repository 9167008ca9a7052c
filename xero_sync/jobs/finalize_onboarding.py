"""finalize_onboarding_job: the last step of a partner's initial sync, or of its move to this shard.

`new_connection_sensor` only discovers that every planned month of a partner has landed and
requests this job for it (run config: the partner; run key `finalize:{partner}:{attempt}`). The
run records the months before the organisation's first transaction as materialized-empty
(runless events in batches, glue/recorded_months.py; no Xero call: nothing can be dated
there), so a Connected partner shows 100% in the UI, then marks the partner connected. For a
partner that moved into this shard (sensors/shard_moves.py; the moves in the run config) it first
records the months landed before the move on this shard's assets, and marks the moves arrived.

Idempotent: it writes only the events Dagster does not hold yet and leaves a partner that is
already connected as it is, so a run cut short is completed by the next one the sensor requests,
with nothing written twice. A partner whose months have not all landed (a run launched by hand
too early) fails the run and is left pending.
"""

# No `from __future__ import annotations`: Dagster resolves the op's config annotation at definition.
import functools
from collections.abc import Sequence

import dagster as dg

from xero_sync.partitions import HISTORY_START
from xero_sync.store import connections, onboarding_progress, shards
from xero_sync.resources.platform import PlatformResource
from xero_sync.glue.recorded_months import (
    missing_arrival_events,
    missing_empty_history,
    month_asset_keys,
    record_materializations,
)
from xero_sync.shards.layout import Shard, shard as shard_at
from xero_sync.sync.month_slices import utc_today
from xero_sync.sync.onboarding import OnboardingState, next_step
from xero_sync.store.states import ConnectionStatus

OP_NAME = "finalize_onboarding"


class Arrival(dg.Config):
    move_id: int
    from_shard: int
    moved_at: str  # ISO time of the move, shown in the months' metadata


class FinalizeOnboardingConfig(dg.Config):
    partner_id: str
    arrivals: list[Arrival] = []


def finalize_run_config(partner_id: str, moves: Sequence[shards.PendingMove] = ()) -> dict:
    arrivals = [{"move_id": m.move_id, "from_shard": m.from_shard,
                 "moved_at": m.moved_at.isoformat(timespec="seconds")} for m in moves]
    return {"ops": {OP_NAME: {"config": {"partner_id": partner_id, "arrivals": arrivals}}}}


def finalize_partner(context: dg.OpExecutionContext, platform: PlatformResource, shard: Shard,
                     partner_id: str, arrivals: Sequence[Arrival] = ()) -> int:
    """Record a moved partner's months on this shard, then (onboarding complete) its empty
    months, and connect it; returns the events written."""
    keys = month_asset_keys(shard)
    with platform.begin() as conn:
        connection = connections.get_connection(conn, partner_id)
        landed = onboarding_progress.landed_months(conn, [partner_id])[partner_id]
    if connection is None:
        raise dg.Failure(f"partner {partner_id}: no connection")
    written = 0
    for move in arrivals:
        events = missing_arrival_events(context.instance, keys, partner_id, landed, move.from_shard,
                                        move.moved_at, connection.first_month)
        record_materializations(context.instance, events)
        written += len(events)
        context.log.info(f"partner {partner_id} joined {shard.label} from shard {move.from_shard}: "
                         f"recorded {len(events)} month x asset materializations")
    if arrivals:
        with platform.begin() as conn:
            shards.mark_arrived(conn, [move.move_id for move in arrivals])
    if connection.status != ConnectionStatus.PENDING:
        context.log.info(f"partner {partner_id}: {connection.status}; no onboarding to finalize")
        return written
    state = OnboardingState(today=utc_today(), first_month=connection.first_month,
                            oldest_partition=HISTORY_START, materialized=landed, in_flight=False, parked=False)
    step = next_step(state)
    if not step.complete:
        if arrivals:  # a pending partner that moved: its onboarding goes on in this shard
            return written
        raise dg.Failure(f"partner {partner_id}: {step.months_done} of {step.months_total} planned months "
                         "landed; onboarding is not complete")
    empty = missing_empty_history(context.instance, partner_id, connection.first_month, keys)
    record_materializations(context.instance, empty)
    with platform.begin() as conn:
        connections.mark_connected(conn, partner_id)
    context.log.info(f"partner {partner_id}: initial sync complete ({step.months_total} months; "
                     f"{len(empty)} months x assets before the first transaction recorded empty)")
    return written + len(empty)


@functools.cache
def finalize_onboarding_job_for(shard: Shard) -> dg.JobDefinition:
    @dg.op(name=OP_NAME, description="Record the months before the first transaction empty; mark connected.")
    def finalize_onboarding(context: dg.OpExecutionContext, config: FinalizeOnboardingConfig,
                            platform: PlatformResource) -> None:
        finalize_partner(context, platform, shard, config.partner_id, config.arrivals)

    @dg.job(name="finalize_onboarding_job", executor_def=dg.in_process_executor,
            description="Last step of a partner's initial sync (requested by new_connection_sensor).")
    def finalize_onboarding_job():
        finalize_onboarding()

    return finalize_onboarding_job


finalize_onboarding_job = finalize_onboarding_job_for(shard_at(0))
