"""A Connected partner is 100% materialized: the months before its first transaction are
recorded as materialized-empty when onboarding completes, without a single Xero call."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from xero_sync.assets.platform_records import platform_records
from xero_sync.assets.xero_records import xero_records
from xero_sync.demo.main import drive_headless
from xero_sync.partitions import partner_months
from xero_sync.platform import connections


def test_after_onboarding_every_partition_of_the_partner_is_materialized_without_extra_calls(world):
    assert drive_headless(world.instance, world.defs, world.engine, world.partner_id) == []
    with world.engine.begin() as conn:
        connection = connections.get_connection(conn, world.partner_id)
    assert connection.status == "connected"

    wanted = {k for k in partner_months.get_partition_keys(dynamic_partitions_store=world.instance)
              if k.endswith(f"|{world.partner_id}")}
    assert len(wanted) > connection.months_total  # the organisation is younger than 2012
    for key in [*xero_records.keys, *platform_records.keys]:
        assert wanted <= world.instance.get_materialized_partitions(key), key.to_user_string()

    # Each month before the first transaction says why it is empty.
    early = dt.date(2012, 1, 1)
    record = world.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("xero_invoices"),
                              asset_partitions=[f"{early}|{world.partner_id}"]), limit=1).records[0]
    meta = {k: v.value for k, v in record.asset_materialization.metadata.items()}
    assert meta["records_pulled"] == 0 and "first transaction" in meta["empty_because"]

    # No Xero call covered those months: one call to learn the first month, then one page per
    # entity per onboarding run (a small organisation), and nothing else.
    runs = world.instance.get_runs(filters=dg.RunsFilter(tags={"xero/phase": "onboarding"}))
    reads = [e for e in world.server.sandbox.requests.entries(world.tenant_id) if e["method"] == "GET"]
    assert len(reads) == 1 + 4 * len(runs)
