"""The partner dashboard's records: platform_customers, platform_invoices, platform_payments.

Business window: the same partner x months as the Xero records they come from. SPEC section 2's
rules (xero_sync.sync.rules) decide each change; the platform store writes them in bulk.
Idempotent: applying the same landed records again finds nothing to change. The body is
`xero_sync.pulls.months.apply_months`, which the daily re-read's cohort runs share.
"""


import functools

import dagster as dg

from xero_sync.assets.table_metadata import OWNERS, table_metadata
from xero_sync.assets.xero_records import xero_specs
from xero_sync.glue.metadata import platform_month_metadata, platform_run_metadata
from xero_sync.partitions import partition_key, partner_and_months
from xero_sync.pulls.metadata import PLATFORM_TABLES, platform_checks
from xero_sync.pulls.months import apply_months
from xero_sync.resources.platform import PlatformResource
from xero_sync.shards.layout import Shard, shard as shard_at

GROUP = "platform"

_WINDOW = ("Business window: the same partner x month as the Xero records it comes from (first month "
           "open at the start, current month open-ended).")
_TABLES = PLATFORM_TABLES


def _spec(shard: Shard, name: str, entity: str, deps: list, what: str) -> dg.AssetSpec:
    return dg.AssetSpec(shard.key(name), group_name=GROUP, deps=deps, description=f"{what} {_WINDOW}",
                        kinds={"sqlalchemy", "python"}, owners=OWNERS,
                        metadata=table_metadata(_TABLES[entity]))


@functools.cache
def platform_specs(shard: Shard) -> dict[str, dg.AssetSpec]:
    xero = {e: spec.key for e, spec in xero_specs(shard).items()}
    return {
        "customers": _spec(
            shard, "platform_customers", "customers", [xero["contacts"], xero["invoices"]],
            "Customers in the partner dashboard (Xero customers and contacts of synced invoices).",
        ),
        "invoices": _spec(
            shard, "platform_invoices", "invoices", [xero["invoices"]],
            "Approved sales invoices with status and outstanding balance (Xero AmountDue).",
        ),
        "payments": _spec(
            shard, "platform_payments", "payments", [xero["payments"]],
            "Payments made in Xero on synced invoices (Alternative's own are recognised, not doubled).",
        ),
    }


PLATFORM_ASSETS = platform_specs(shard_at(0))


@functools.cache
def platform_records_for(shard: Shard) -> dg.AssetsDefinition:
    """The partner dashboard's assets of one shard."""
    specs = platform_specs(shard)
    checks = [
        dg.AssetCheckSpec("no_orphan_invoices", asset=specs["invoices"].key,
                          description="Every platform invoice has a customer."),
        dg.AssetCheckSpec("no_duplicate_invoices", asset=specs["invoices"].key,
                          description="No Xero invoice is present twice for a partner."),
    ]

    @dg.multi_asset(
        name="platform_records" if shard.index == 0 else f"shard_{shard.index}_platform_records",
        specs=list(specs.values()),
        check_specs=checks,
        partitions_def=shard.partner_months,
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def platform_records(context: dg.AssetExecutionContext, platform: PlatformResource):
        partner_id, month_list = partner_and_months(context)
        applied = apply_months(platform.engine, partner_id, month_list)
        context.log.info(f"{partner_id} {month_list[0]:%Y-%m}..{month_list[-1]:%Y-%m}: applied to the dashboard "
                         + ", ".join(f"{e} {platform_run_metadata(applied, e)['run_inserted']} new"
                                     for e in applied.counts))
        for entity, spec in specs.items():
            run = platform_run_metadata(applied, entity)  # after the month's own (the page's order)
            for month in applied.counts[entity]:
                context.add_asset_metadata({**platform_month_metadata(applied, entity, month), **run},
                                           asset_key=spec.key, partition_key=str(partition_key(partner_id, month)))
            yield dg.MaterializeResult(asset_key=spec.key)
        for check in platform_checks(applied):
            yield dg.AssetCheckResult(check_name=check.name, asset_key=specs["invoices"].key,
                                      passed=check.passed, metadata=check.metadata)

    return platform_records


platform_records = platform_records_for(shard_at(0))

