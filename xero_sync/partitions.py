"""Partitions: partner (dynamic, one key per connected partner) x month.

Keys look like `2026-10-01|acme` (Dagster orders dimensions by name: month, then partner).
Months start at HISTORY_START (sync/month_slices.py, with the month key format, for code
without Dagster); an organisation's older history lands in the oldest partition,
whose Xero window is open at the start, so nothing is left out.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

from xero_sync.sync.month_slices import HISTORY_START, month_key
from xero_sync.dagster_private import tick_partitions_loader

partners = dg.DynamicPartitionsDefinition(name="partners")
months = dg.MonthlyPartitionsDefinition(start_date=HISTORY_START.isoformat(), end_offset=1)
partner_months = dg.MultiPartitionsDefinition({"partner": partners, "month": months})


def partition_key(partner_id: str, month: dt.date) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"partner": partner_id, "month": month_key(month)})


def range_tags(partner_id: str, first: dt.date, last: dt.date) -> dict[str, str]:
    """Run tags that make one run cover months first..last of one partner (a range run)."""
    return {
        "dagster/asset_partition_range_start": str(partition_key(partner_id, first)),
        "dagster/asset_partition_range_end": str(partition_key(partner_id, last)),
    }


def partner_and_months(context: dg.AssetExecutionContext) -> tuple[str, list[dt.date]]:
    """The partner and ascending months of this run, for single-partition and range runs."""
    keys = context.partition_keys  # works for both; partition_key raises in range runs
    parsed = [partner_months.get_partition_key_from_str(str(k)).keys_by_dimension for k in keys]
    partner_ids = {p["partner"] for p in parsed}
    if len(partner_ids) != 1:
        raise dg.Failure(
            f"a run must cover exactly one partner, got {sorted(partner_ids)}; "
            "launch one backfill run per partner"
        )
    month_list = sorted({dt.date.fromisoformat(p["month"]) for p in parsed})
    return partner_ids.pop(), month_list


def existing_partners(context: dg.SensorEvaluationContext | dg.ScheduleEvaluationContext,
                      partner_ids: list[str],
                      partitions_def: dg.DynamicPartitionsDefinition = partners) -> set[str]:
    """Which of `partner_ids` are partner partitions (of a shard): one bounded query for the batch.

    In a sensor tick through the tick's caching loader, so Dagster's own check of each
    partitioned RunRequest reads the answer from the cache instead of asking the storage once
    per request; a schedule tick has no such loader and asks the instance.
    """
    if not partner_ids:
        return set()
    loader = tick_partitions_loader(context)
    store = loader if loader is not None else context.instance
    if partitions_def.name is None:  # a function-backed definition has no stored partitions
        raise ValueError("existing_partners needs a named DynamicPartitionsDefinition")
    return set(store.get_existing_dynamic_partitions(partitions_def.name, partner_ids))
