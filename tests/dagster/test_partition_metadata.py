"""Each month partition of a range run carries its own month's figures, not the run's totals."""

from __future__ import annotations

import collections
import logging
import datetime as dt

import dagster as dg

from xero_sync.assets.platform_records import platform_records
from xero_sync.assets.xero_records import xero_records
from xero_sync.partitions import partition_key, partners, range_tags
from xero_sync.sync.month_slices import month_start, recent_months


def latest_metadata(instance: dg.DagsterInstance, asset: str, partner_id: str) -> dict[dt.date, dict]:
    """The newest materialization's metadata of every partition of `asset` for one partner."""
    out: dict[dt.date, dict] = {}
    records = instance.fetch_materializations(dg.AssetKey(asset), limit=10_000).records
    for record in sorted(records, key=lambda r: r.storage_id):
        month, partner = record.partition_key.split("|")
        if partner == partner_id:
            out[dt.date.fromisoformat(month)] = {k: v.value for k, v in record.asset_materialization.metadata.items()}
    return out


def test_a_twelve_month_range_run_gives_each_partition_its_own_counts(world):
    months = sorted(recent_months(dt.date.today()))
    world.instance.add_dynamic_partitions(partners.name, [world.partner_id])
    result = dg.materialize(
        [xero_records, platform_records], instance=world.instance, resources=world.defs.resources,
        tags=range_tags(world.partner_id, months[0], months[-1]),
    )
    assert result.success

    def month_of(day: dt.date) -> dt.date:  # the current month also holds invoices dated ahead
        return min(month_start(day), months[-1])

    org_invoices = [i for i in world.org.invoices.values() if month_of(i.date) >= months[0]]
    pulled = collections.Counter(month_of(i.date) for i in org_invoices)
    sales = collections.Counter(month_of(i.date) for i in org_invoices
                                if i.type == "ACCREC" and i.status in ("AUTHORISED", "PAID"))
    assert len(set(pulled.values())) > 1  # the months differ, so equal figures would be run totals

    xero_meta = latest_metadata(world.instance, "xero_invoices", world.partner_id)
    platform_meta = latest_metadata(world.instance, "platform_invoices", world.partner_id)
    assert sorted(xero_meta) == sorted(platform_meta) == months
    for month in months:
        mine = xero_meta[month]
        assert mine["month"] == f"{month:%Y-%m}"
        assert (mine["records_pulled"], mine["inserted"], mine["updated"]) == (pulled[month], pulled[month], 0), month
        assert platform_meta[month]["inserted"] == sales[month], month
        # The run's totals stay available, under names that say so.
        assert mine["run_records_pulled"] == sum(pulled.values())
        assert mine["run_months"] == f"{months[0]:%Y-%m}..{months[-1]:%Y-%m}"
    partition = str(partition_key(world.partner_id, months[-1]))
    assert {e.partition for e in result.get_asset_materialization_events()} >= {partition}


def _preview_numbers(preview: str) -> set[str]:
    lines = [line for line in preview.splitlines() if line.startswith("| ") and not line.startswith("| number")]
    return {line.split("|")[1].strip() for line in lines}


def test_a_months_page_tells_its_own_rows_and_preview_first(world):
    """Issue 20: `dagster/row_count` was the whole table (1,530 on a month of 46 records), the
    2024-06 preview listed December 2025 invoices, and the month's own counts sat under the run's
    totals and the rate budget."""
    months = sorted(recent_months(dt.date.today()))
    world.instance.add_dynamic_partitions(partners.name, [world.partner_id])
    result = dg.materialize(
        [xero_records, platform_records], instance=world.instance, resources=world.defs.resources,
        tags=range_tags(world.partner_id, months[0], months[-1]),
    )
    assert result.success

    def month_of(day: dt.date) -> dt.date:
        return min(month_start(day), months[-1])

    in_window = [i for i in world.org.invoices.values() if month_of(i.date) >= months[0]]
    pulled = collections.Counter(month_of(i.date) for i in in_window)
    month_by_number = {i.number: month_of(i.date) for i in in_window if i.number}
    xero_meta = latest_metadata(world.instance, "xero_invoices", world.partner_id)
    platform_meta = latest_metadata(world.instance, "platform_invoices", world.partner_id)
    for month in months:
        mine, theirs = xero_meta[month], platform_meta[month]
        assert mine["dagster/row_count"] == pulled[month], month
        assert theirs["dagster/row_count"] == theirs["inserted"] + theirs["updated"] + theirs["unchanged"], month
        for meta in (mine, theirs):
            shown = _preview_numbers(meta["preview"])
            assert {month_by_number[n] for n in shown} <= {month}, (month, shown)
            keys = list(meta)
            assert keys[0] == "month" and keys.index("preview") < keys.index("run_months"), keys
        assert list(mine)[-1] == "rate_budget"


def test_a_months_run_says_what_it_did_at_info(world):
    """Issue 20: the quickstart terminal (run logs at INFO) showed nothing of the onboarding runs:
    the month assets logged only at DEBUG (Dagster's own events)."""
    month = recent_months(dt.date.today())[0]
    world.instance.add_dynamic_partitions(partners.name, [world.partner_id])
    result = dg.materialize([xero_records, platform_records], instance=world.instance,
                            resources=world.defs.resources,
                            partition_key=str(partition_key(world.partner_id, month)))
    assert result.success
    info = [e.user_message for e in world.instance.all_logs(result.run_id)
            if e.level == logging.INFO and e.dagster_event is None]
    assert any(f"{world.partner_id} {month:%Y-%m}..{month:%Y-%m}: pulled" in m for m in info), info
    assert any("applied to the dashboard" in m for m in info), info
