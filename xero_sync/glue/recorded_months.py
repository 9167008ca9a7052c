"""Month materializations a sensor records itself, many per statement.

Two kinds of partner x month partitions are materialized without a run of their assets: the
months before an organisation's first transaction, once its onboarding completes
(finalize_onboarding_job; nothing can be dated there, so no Xero call is made), and every month
of a partner that moved shards (its records are already in
the store). A partner started in 2024 has ~150 such months x 7 assets. Handed to the daemon as a
tick's `asset_events`, each was a transaction of its own, ~46 ms under load: a go-live of 200
partners kept them Pending for hours after their data was in. Here they go to Dagster's event
log as one batch insert per asset (`store_event_batch`, the path Dagster itself uses for a ranged
run's materializations; a private API, behind xero_sync/dagster_private.py), the same runless
events `report_runless_asset_event` would write.

Only what Dagster does not hold yet is written, so a run or tick cut short is completed by the
next one and a repeated one writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

import dagster as dg

from xero_sync.dagster_private import store_runless_materializations
from xero_sync.partitions import HISTORY_START, partition_key
from xero_sync.shards.layout import Shard, shard as shard_at
from xero_sync.sync.month_slices import months_in

BATCH = 500  # events per insert: one asset's months of a few partners


def missing_month_events(instance: dg.DagsterInstance, keys: list[dg.AssetKey], partner_id: str,
                         months: dict[dt.date, dict]) -> list[dg.AssetMaterialization]:
    """Materializations to record for `months` of `partner_id` (metadata per month) on each of
    `keys`, leaving out those Dagster already holds (one bounded query per asset)."""
    by_key = {str(partition_key(partner_id, m)): m for m in months}
    events = []
    for key in keys:
        found = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=list(by_key)), limit=4 * len(by_key)
        ).records
        done = {r.partition_key for r in found}
        events += [dg.AssetMaterialization(asset_key=key, partition=p, metadata=months[m])
                   for p, m in by_key.items() if p not in done]
    return events


def record_materializations(instance: dg.DagsterInstance, events: Sequence[dg.AssetMaterialization]) -> None:
    """Write `events` to the event log as runless materializations, one insert per asset and
    BATCH events (the storage updates an asset's latest-materialization row from the last event
    of a batch, so a batch never mixes assets)."""
    by_key: dict[dg.AssetKey, list[dg.AssetMaterialization]] = defaultdict(list)
    for event in events:
        by_key[event.asset_key].append(event)
    for batch in (group[i:i + BATCH] for group in by_key.values() for i in range(0, len(group), BATCH)):
        store_runless_materializations(instance, batch)


def missing_empty_history(instance: dg.DagsterInstance, partner_id: str, first_month: dt.date | None,
                          keys: list[dg.AssetKey] | None = None) -> list[dg.AssetMaterialization]:
    """Materialized-empty events still to record for the months from the oldest partition up to
    the organisation's first transaction, for every partner x month asset of the shard (`keys`,
    shard 0's by default; none when the first month is the oldest partition). Only what is
    missing, so a run cut short while recording them is completed by the next one."""
    if first_month is None or first_month <= HISTORY_START:
        return []
    if keys is None:
        keys = month_asset_keys(shard_at(0))
    why = (f"before the organisation's first transaction (first month {first_month:%Y-%m}): "
           "nothing to read, so no Xero call was made")
    meta = {"records_pulled": 0, "empty_because": why, "source": "onboarding"}
    return missing_month_events(instance, keys, partner_id,
                                {m: {"month": f"{m:%Y-%m}", **meta} for m in months_in(HISTORY_START, first_month)})


def month_asset_keys(shard: Shard) -> list[dg.AssetKey]:
    """The shard's partner x month assets (the Xero and platform records)."""
    return list(shard.record_keys)


def missing_arrival_events(instance: dg.DagsterInstance, keys: list[dg.AssetKey], partner_id: str,
                           landed: frozenset[dt.date] | set[dt.date], from_shard: int, moved_at: str,
                           first_month: dt.date | None) -> list[dg.AssetMaterialization]:
    """A partner that joined this shard: its months landed before the move (the move named in
    their metadata) and the empty months before its first transaction, on this shard's `keys`;
    only those Dagster does not hold yet."""
    why = {"source": "shard move", "moved_from": f"shard {from_shard}", "moved_at": moved_at,
           "note": "landed before the move; the records are in the platform store"}
    events = missing_month_events(instance, keys, partner_id, {m: {"month": f"{m:%Y-%m}", **why} for m in sorted(landed)})
    return events + missing_empty_history(instance, partner_id, first_month, keys)
