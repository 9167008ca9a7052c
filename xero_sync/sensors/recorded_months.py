"""Month materializations a sensor records itself, many per statement.

Two kinds of partner x month partitions are materialized without a run: the months before an
organisation's first transaction, once its onboarding completes (nothing can be dated there, so
no Xero call is made), and every month of a partner that moved shards (its records are already in
the store). A partner started in 2024 has ~150 such months x 7 assets. Handed to the daemon as a
tick's `asset_events`, each was a transaction of its own, ~46 ms under load: a go-live of 200
partners kept them Pending for hours after their data was in. Here they go to Dagster's event
log as one batch insert per asset (`store_event_batch`, the path Dagster itself uses for a ranged
run's materializations), the same runless events `report_runless_asset_event` would write.

Only what Dagster does not hold yet is written, so a tick cut short is completed by the next one
and a repeated tick writes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Sequence

import dagster as dg
from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
from dagster._core.instance.utils import RUNLESS_JOB_NAME, RUNLESS_RUN_ID

from xero_sync.partitions import partition_key

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
        now = time.time()
        instance.event_log_storage.store_event_batch([_entry(event, now) for event in batch])


def _entry(event: dg.AssetMaterialization, timestamp: float) -> dg.EventLogEntry:
    return dg.EventLogEntry(
        user_message="",
        level=logging.INFO,
        job_name=RUNLESS_JOB_NAME,
        run_id=RUNLESS_RUN_ID,
        error_info=None,
        timestamp=timestamp,
        step_key=None,
        dagster_event=DagsterEvent(
            event_type_value=DagsterEventType.ASSET_MATERIALIZATION.value,
            event_specific_data=StepMaterializationData(event),
            job_name=RUNLESS_JOB_NAME,
        ),
    )
