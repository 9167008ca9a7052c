"""A partner moved between shards, as its onboarding sensor sees it (part of each tick).

The platform store is keyed by partner, so a move keeps every record; what moves is the Dagster
side. The shard it left removes its partition (the runs and materializations recorded under the
old shard's asset keys stay in Dagster's history). The shard it joined adds the partition, then
records the months already landed (and the empty months before the organisation's first
transaction) as materializations of its own assets (recorded_months: batch inserts, in the tick),
with the move named in their metadata, so the partner shows the same partitions there without a
single Xero call. Each step is checked against Dagster before the move is marked done, so a tick
cut short is completed by the next one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg

from xero_sync.partitions import existing_partners
from xero_sync.store import connections, onboarding_progress, shards
from xero_sync.resources.platform import PlatformResource
from xero_sync.sensors.recorded_months import missing_month_events, record_materializations
from xero_sync.shards.layout import Shard

MOVES_PER_TICK = 20


@dataclass
class MoveWork:
    to_add: list[str] = field(default_factory=list)
    to_delete: list[str] = field(default_factory=list)
    arriving: set[str] = field(default_factory=set)  # not ready for runs in this shard yet


def handle_moves(context: dg.SensorEvaluationContext, platform: PlatformResource, shard: Shard,
                 keys: list[dg.AssetKey], empty_history) -> MoveWork:
    work = MoveWork()
    with platform.begin() as conn:
        leaving = shards.departures(conn, shard.index, MOVES_PER_TICK)
        joining = shards.arrivals(conn, shard.index, MOVES_PER_TICK)
        joining_ids = [m.partner_id for m in joining]
        landed = onboarding_progress.landed_months(conn, joining_ids)
        joined = {p: connections.get_connection(conn, p) for p in joining_ids}
    present = existing_partners(context, [m.partner_id for m in leaving + joining], shard.partners)
    departed = []
    for move in leaving:
        if move.partner_id in present:
            work.to_delete.append(move.partner_id)
        else:
            departed.append(move.move_id)
    arrived = []
    for move in joining:
        partner_id = move.partner_id
        if partner_id not in present:
            work.to_add.append(partner_id)  # its months are reported once the partition exists
            work.arriving.add(partner_id)
            continue
        why = {"source": "shard move", "moved_from": f"shard {move.from_shard}",
               "moved_at": move.moved_at.isoformat(timespec="seconds"),
               "note": "landed before the move; the records are in the platform store"}
        events = missing_month_events(context.instance, keys, partner_id,
                                      {m: {"month": f"{m:%Y-%m}", **why} for m in sorted(landed[partner_id])})
        connection = joined[partner_id]
        if connection is not None:
            events += empty_history(context.instance, partner_id, connection.first_month)
        record_materializations(context.instance, events)
        if events:
            context.log.info(f"partner {partner_id} joined {shard.label} from shard {move.from_shard}: "
                             f"recorded {len(events)} month x asset materializations")
        arrived.append(move.move_id)
    with platform.begin() as conn:
        shards.mark_departed(conn, departed, shard.index)
        shards.mark_arrived(conn, arrived)
    if work.to_delete:
        context.log.info(f"partners moved out of {shard.label}: {work.to_delete}")
    return work
