"""A partner moved between shards, as its onboarding sensor sees it (part of each tick).

The platform store is keyed by partner, so a move keeps every record; what moves is the Dagster
side. The shard it left removes its partition (the runs and materializations recorded under the
old shard's asset keys stay in Dagster's history). The shard it joined adds the partition, then
requests a finalize_onboarding_job run for the partner (the sensor does), which records the
months already landed (and the empty months before the organisation's first transaction) as
materializations of its own assets (recorded_months: batch inserts), with the move named in their
metadata, so the partner shows the same partitions there without a single Xero call, and marks
the move arrived. Each step is checked against Dagster before the move is marked done, so a tick
or run cut short is completed by the next one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg

from xero_sync.partitions import existing_partners
from xero_sync.store import shards
from xero_sync.resources.platform import PlatformResource
from xero_sync.shards.layout import Shard

MOVES_PER_TICK = 20


@dataclass
class MoveWork:
    to_add: list[str] = field(default_factory=list)
    to_delete: list[str] = field(default_factory=list)
    arriving: set[str] = field(default_factory=set)  # not ready for runs in this shard yet
    # Partition present: its months are recorded by a finalize_onboarding_job run.
    ready: list[shards.PendingMove] = field(default_factory=list)


def handle_moves(context: dg.SensorEvaluationContext, platform: PlatformResource, shard: Shard) -> MoveWork:
    work = MoveWork()
    with platform.begin() as conn:
        leaving = shards.departures(conn, shard.index, MOVES_PER_TICK)
        joining = shards.arrivals(conn, shard.index, MOVES_PER_TICK)
    present = existing_partners(context, [m.partner_id for m in leaving + joining], shard.partners)
    departed = []
    for move in leaving:
        if move.partner_id in present:
            work.to_delete.append(move.partner_id)
        else:
            departed.append(move.move_id)
    for move in joining:
        work.arriving.add(move.partner_id)  # runs in this shard once its months are recorded
        if move.partner_id not in present:
            work.to_add.append(move.partner_id)  # its months are recorded once the partition exists
        else:
            work.ready.append(move)
    with platform.begin() as conn:
        shards.mark_departed(conn, departed, shard.index)
    if work.to_delete:
        context.log.info(f"partners moved out of {shard.label}: {work.to_delete}")
    return work
