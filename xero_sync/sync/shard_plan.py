"""Shard sizing, assignment and rebalancing: pure rules, no store and no Dagster.

A shard holds at most `max_partitions` partner x month partitions per asset (default 50,000,
Dagster's UI stays responsive well below its documented 100,000 guidance), so its capacity in
partners is that divided by the number of month partitions. That number grows by one each month,
so capacity is sized for HEADROOM_MONTHS more: a shard filled today stays within the limit for two
years (after that `xero-sync shards list` says to add a shard and rebalance).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

HEADROOM_MONTHS = 24


def capacity(max_partitions: int, month_count: int, headroom_months: int = HEADROOM_MONTHS) -> int:
    """Partners a shard holds while every asset stays within `max_partitions` for
    `headroom_months` more months."""
    if month_count <= 0:
        raise ValueError("month_count must be positive")
    return max_partitions // (month_count + headroom_months)


def choose(counts: Mapping[int, int], shard_count: int) -> int:
    """The shard a new partner joins: the least filled of 0..shard_count-1 (lowest index on ties)."""
    if shard_count < 1:
        raise ValueError("shard_count must be >= 1")
    return min(range(shard_count), key=lambda s: (counts.get(s, 0), s))


@dataclass(frozen=True)
class Move:
    partner_id: str
    from_shard: int
    to_shard: int


def rebalance(members: Mapping[int, Sequence[str]], shard_count: int) -> list[Move]:
    """The fewest moves that leave shards 0..shard_count-1 within one partner of each other and
    empty every shard numbered shard_count or more. Partners move from the most filled shard to the
    least filled, the last partner ids first, so a re-run of the same plan moves nobody twice."""
    if shard_count < 1:
        raise ValueError("shard_count must be >= 1")
    load = {s: sorted(members.get(s, ())) for s in range(shard_count)}
    leaving = [(s, p) for s in sorted(members) if s >= shard_count for p in sorted(members[s])]
    moves: list[Move] = []
    for from_shard, partner_id in leaving:
        to = min(load, key=lambda s: (len(load[s]), s))
        load[to].append(partner_id)
        moves.append(Move(partner_id, from_shard, to))
    while True:
        most = max(load, key=lambda s: (len(load[s]), -s))
        least = min(load, key=lambda s: (len(load[s]), s))
        if len(load[most]) - len(load[least]) <= 1:
            return moves
        partner_id = load[most].pop()
        load[least].append(partner_id)
        moves.append(Move(partner_id, most, least))
