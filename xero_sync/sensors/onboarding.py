"""new_connection_sensor: drives a partner's initial sync, from *Pending* to *Connected*.

It discovers work and requests runs; the work is done in the runs. Each tick takes a slice of
pending connections (at most PARTNERS_PER_TICK, round-robin by partner id after the cursor, so
nobody starves when many partners connect at once) and, for each, adds the partner partition if
new, requests the next range run of `onboarding_job` that `sync.onboarding.next_step` names
(recent 12 months at high priority, then history chunks newest first at low priority, one at a
time) and records progress (months done / total) on the connection. Once every planned month
has landed it requests one `finalize_onboarding_job` run for the partner (jobs/finalize_onboarding.py),
which records the months before the organisation's first transaction as materialized-empty (no
Xero call: nothing can be dated there, and the first month's window is open at the start), so a
Connected partner shows 100% in the UI, and marks it connected. A tick requests finalize runs
for at most EMPTY_EVENTS_PER_TICK empty months in all, the rest on the next ticks.

Cost follows the work, not the number of partners: months landed come from the store's
`partner_months` (written by the runs themselves, see platform_records), and Dagster is asked only
about this slice's in-flight runs and attempts, with one query each. Every Xero call happens in
the launched runs. Partners moving between shards are handled first (sensors/shard_moves.py):
the tick adds or removes their partitions, and a partner whose partition is here gets a
finalize_onboarding_job run that records its months on this shard's assets.
"""


import datetime as dt
import functools

import dagster as dg

from xero_sync.jobs.finalize_onboarding import finalize_onboarding_job_for, finalize_run_config
from xero_sync.jobs.onboarding import onboarding_job_for
from xero_sync.jobs.run_tags import connection_tags
from xero_sync.partitions import HISTORY_START, existing_partners, range_tags
from xero_sync.store import connections, onboarding_progress, shards
from xero_sync.core.ids import check_partner_id
from xero_sync.resources.platform import PlatformResource
from xero_sync.sensors.intervals import interval
from xero_sync.glue.recorded_months import month_asset_keys
from xero_sync.sensors.shard_moves import handle_moves
from xero_sync.shards.layout import Shard, shard as shard_at
from xero_sync.sync.month_slices import months_in
from xero_sync.sync.onboarding import (
    OnboardingState,
    OnboardingStep,
    RangeRequest,
    history_chunk_months,
    next_step,
)

MAX_ATTEMPTS = 5  # per range; after that a person looks at the failed runs
# Pending partners looked at per tick; measured by bench/scale.py (bench/README.md).
PARTNERS_PER_TICK = 500
# Empty months (month x asset) whose finalize runs one tick requests: about 3,000 a second in
# batches on PostgreSQL (glue/recorded_months.py), so ~7 s of event-log writes per tick's
# worth: ~20 partners whose history starts in 2024.
EMPTY_EVENTS_PER_TICK = 20_000
ONBOARDING_JOB, FINALIZE_JOB = "onboarding_job", "finalize_onboarding_job"
IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def in_flight_partners(instance: dg.DagsterInstance, partner_ids: list[str]) -> set[str]:
    """Partners among `partner_ids` with an onboarding run queued or running (one query)."""
    if not partner_ids:
        return set()
    runs = instance.get_runs(filters=dg.RunsFilter(
        statuses=IN_FLIGHT, tags={"xero/phase": "onboarding", "xero/partner": partner_ids}))
    return {r.tags["xero/partner"] for r in runs}


def attempts_by_range(instance: dg.DagsterInstance, range_keys: list[str]) -> dict[str, int]:
    """Runs launched so far per `xero/range` tag (one query)."""
    counts = dict.fromkeys(range_keys, 0)
    if range_keys:
        for run in instance.get_runs(filters=dg.RunsFilter(tags={"xero/range": range_keys})):
            counts[run.tags["xero/range"]] = counts.get(run.tags["xero/range"], 0) + 1
    return counts


def _run_request(connection: connections.Connection, req: RangeRequest, range_key: str,
                 attempts: int) -> dg.RunRequest:
    partner_id = connection.partner_id
    return dg.RunRequest(
        job_name=ONBOARDING_JOB,
        run_key=f"onboard:{range_key}:{attempts}",
        tags={
            **range_tags(partner_id, req.months[0], req.months[-1]),
            **connection_tags(connection, "onboarding"),
            "xero/range": range_key,
            "dagster/priority": str(req.priority),
        },
    )


def _finalize_key(partner_id: str) -> str:
    return f"{partner_id}:finalize"


def _empty_months_estimate(connection: connections.Connection, keys: list[dg.AssetKey]) -> int:
    """Events the partner's finalize run writes at most: months before the first transaction x assets."""
    first = connection.first_month
    return len(keys) * len(months_in(HISTORY_START, first)) if first and first > HISTORY_START else 0


def _within_event_budget(context: dg.SensorEvaluationContext, complete: list[connections.Connection],
                         keys: list[dg.AssetKey]) -> list[connections.Connection]:
    """The complete partners whose finalize runs are requested this tick: about
    EMPTY_EVENTS_PER_TICK empty months' worth, the rest on the next ticks."""
    chosen, budget = [], EMPTY_EVENTS_PER_TICK
    for connection in complete:
        if budget <= 0:
            context.log.info(f"partner {connection.partner_id}: complete; finalized after the next tick")
            continue
        chosen.append(connection)
        budget -= _empty_months_estimate(connection, keys)
    return chosen


def _finalize_requests(context: dg.SensorEvaluationContext,
                       partners: list[tuple[connections.Connection, list[shards.PendingMove]]],
                       attempts: dict[str, int]) -> list[dg.RunRequest]:
    """One finalize_onboarding_job run per complete or newly arrived partner (records its months
    on this shard's assets, marks it connected / arrived); a failed one is requested again,
    MAX_ATTEMPTS times in all."""
    requests = []
    for connection, moved in partners:
        key = _finalize_key(connection.partner_id)
        if attempts[key] >= MAX_ATTEMPTS:
            context.log.warning(f"partner {connection.partner_id}: finalizing failed {attempts[key]} times; "
                                "not retrying")
            continue
        requests.append(dg.RunRequest(
            job_name=FINALIZE_JOB,
            run_key=f"finalize:{connection.partner_id}:{attempts[key]}",
            run_config=finalize_run_config(connection.partner_id, moved),
            tags={**connection_tags(connection, "onboarding"), "xero/range": key},
        ))
    return requests


def _valid_partners(context: dg.SensorEvaluationContext,
                    pending: list[connections.Connection]) -> list[connections.Connection]:
    """One bad partner row is logged and skipped; it never stops onboarding for the others."""
    valid = []
    for connection in pending:
        try:
            check_partner_id(connection.partner_id)
        except ValueError as exc:
            context.log.warning(f"onboarding skipped a partner row: {exc}")
            continue
        valid.append(connection)
    return valid


def _unknown_partitions(instance: dg.DagsterInstance, platform: PlatformResource, shard: Shard) -> list[str]:
    """Partner partitions with no connection row at all: added by hand (the UI's Materialize
    dialog offers "Add a partition"), they name a partner that does not exist, and are removed
    instead of onboarded. One list of keys and one query per tick."""
    keys = instance.get_dynamic_partitions(shard.partners_name)
    if not keys:
        return []
    with platform.begin() as conn:
        known = connections.partner_ids(conn)
    return [k for k in keys if k not in known]


@functools.cache
def new_connection_sensor_for(shard: Shard, every: int | None = None) -> dg.SensorDefinition:
    """Onboarding of this shard's partners (and partners moving in or out of it)."""

    @dg.sensor(
        name="new_connection_sensor",
        jobs=[onboarding_job_for(shard), finalize_onboarding_job_for(shard)],
        minimum_interval_seconds=interval(30, every),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Initial sync of newly connected partners: last 12 months first, then history.",
    )
    def new_connection_sensor(context: dg.SensorEvaluationContext, platform: PlatformResource):
        instance = context.instance
        now = dt.datetime.now(dt.timezone.utc)
        keys = month_asset_keys(shard)
        moves = handle_moves(context, platform, shard)
        with platform.begin() as conn:
            pending = connections.pending_slice(conn, context.cursor or None, PARTNERS_PER_TICK, shard.index)
            cursor = pending[-1].partner_id if pending else None
            # A partner joining this shard gets runs once its partition and history are here.
            pending = [c for c in _valid_partners(context, pending) if c.partner_id not in moves.arriving]
            ids = [c.partner_id for c in pending]
            landed = onboarding_progress.landed_months(conn, ids)
            moved_in = {m.partner_id: connections.get_connection(conn, m.partner_id) for m in moves.ready}
        busy = in_flight_partners(instance, ids + list(moved_in))
        # Only partners with nothing landed yet can lack their partition.
        known = existing_partners(context, [p for p in ids if not landed[p] and p not in busy], shard.partners)

        to_add: list[str] = []
        steps: list[tuple[connections.Connection, OnboardingState, OnboardingStep]] = []
        for connection in pending:
            partner_id = connection.partner_id
            if not landed[partner_id] and partner_id not in busy and partner_id not in known:
                to_add.append(partner_id)
            state = OnboardingState(
                today=now.date(),
                first_month=connection.first_month,
                oldest_partition=HISTORY_START,
                materialized=landed[partner_id],
                in_flight=partner_id in busy,
                parked=connection.is_parked(now),
            )
            steps.append((connection, state, next_step(state)))
        # Chunk size only matters where history is next: count recent records for those alone.
        history_next = [c.partner_id for c, _, step in steps if step.request and step.request.phase == "history"]
        with platform.begin() as conn:
            recent = onboarding_progress.recent_record_counts(conn, history_next, now.date())

        planned: list[tuple[connections.Connection, RangeRequest, str]] = []
        progress: list[tuple[str, int, int]] = []
        complete: list[connections.Connection] = []
        unpark: list[str] = []
        for connection, state, step in steps:
            partner_id = connection.partner_id
            if partner_id in recent:
                step = next_step(state, history_chunk_months(recent[partner_id]))
            if (step.months_done, step.months_total) != (connection.months_done, connection.months_total):
                progress.append((partner_id, step.months_done, step.months_total))
            if step.complete:
                if not state.in_flight:  # its finalize run, once requested, is in flight
                    complete.append(connection)
            elif connection.parked_until is not None and not state.parked:
                unpark.append(partner_id)
            if step.request is not None:
                planned.append((connection, step.request, f"{partner_id}:{step.request.key}"))
        with platform.begin() as conn:  # progress of the whole slice in one statement
            connections.record_progress_many(conn, progress)
        for partner_id in unpark:
            with platform.begin() as conn:
                connections.unpark(conn, partner_id)

        finalize: dict[str, tuple[connections.Connection, list[shards.PendingMove]]] = {
            c.partner_id: (c, []) for c in _within_event_budget(context, complete, keys)}
        for move in moves.ready:  # their months are recorded by the same run
            arrived = moved_in[move.partner_id]
            if arrived is not None and move.partner_id not in busy:
                finalize.setdefault(move.partner_id, (arrived, []))[1].append(move)
        attempts = attempts_by_range(instance, [key for _, _, key in planned] +
                                     [_finalize_key(p) for p in finalize])
        requests = _finalize_requests(context, list(finalize.values()), attempts)
        for connection, req, range_key in planned:
            if attempts[range_key] >= MAX_ATTEMPTS:
                context.log.warning(
                    f"partner {connection.partner_id}: {req.key} failed {attempts[range_key]} times; not retrying")
                continue
            requests.append(_run_request(connection, req, range_key, attempts[range_key]))
        partition_requests: list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest] = []
        if to_add or moves.to_add:
            partition_requests.append(shard.partners.build_add_request(list(dict.fromkeys(to_add + moves.to_add))))
        unknown = [p for p in _unknown_partitions(instance, platform, shard) if p not in moves.to_delete]
        if unknown:
            context.log.warning(f"partitions of unknown partners removed (added by hand; no connection): {unknown}")
        to_delete = moves.to_delete + unknown
        if to_delete:
            partition_requests.append(shard.partners.build_delete_request(to_delete))
        return dg.SensorResult(
            run_requests=requests,
            dynamic_partitions_requests=partition_requests,
            cursor=cursor,
        )

    return new_connection_sensor


new_connection_sensor = new_connection_sensor_for(shard_at(0))
