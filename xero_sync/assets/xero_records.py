"""Raw Xero records per partner x month: xero_contacts, xero_invoices, xero_payments, xero_credit_notes.

Business window: the run's months (one month, or a range for onboarding and single-run
backfills). Each entity is read with ONE `where` over the whole window (pageSize 1000, stop on
pageCount), then landed by Xero id. Idempotent: landing upserts keyed by Xero id never replace a
newer `UpdatedDateUTC`, so re-running a partition changes nothing. The body is
`xero_sync.pulls.months.pull_months`, which the daily re-read's cohort runs share.
"""


import functools

import dagster as dg

from xero_sync.assets.table_metadata import OWNERS, table_metadata
from xero_sync.glue.failures import sync_failures
from xero_sync.glue.metadata import xero_month_metadata, xero_run_metadata
from xero_sync.glue.retry_policies import XERO_READ_RETRY_POLICY
from xero_sync.partitions import partition_key, partner_and_months
from xero_sync.store import connections
from xero_sync.pulls.metadata import XERO_TABLES, xero_checks
from xero_sync.pulls.months import pull_months
from xero_sync.resources.platform import PlatformResource
from xero_sync.resources.xero import XeroResource
from xero_sync.shards.layout import Shard, shard as shard_at

GROUP = "xero"

_WINDOW = ("Business window: partner x month; the organisation's first month also holds everything "
           "dated earlier, and the current month is open-ended (it also holds records dated ahead).")
_LANDING = XERO_TABLES


def _spec(shard: Shard, name: str, entity: str, what: str) -> dg.AssetSpec:
    return dg.AssetSpec(shard.key(name), group_name=GROUP, description=f"{what} {_WINDOW}",
                        kinds={"xero", "python"}, owners=OWNERS,
                        metadata=table_metadata(_LANDING[entity]))


@functools.cache
def xero_specs(shard: Shard) -> dict[str, dg.AssetSpec]:
    """The four raw-record assets of a shard, by entity."""
    return {
        "contacts": _spec(shard, "xero_contacts", "contacts",
                          "Xero contacts as pulled, sliced by UpdatedDateUTC month."),
        "invoices": _spec(shard, "xero_invoices", "invoices",
                          "Xero invoices (all types and statuses) as pulled, sliced by invoice Date."),
        "payments": _spec(shard, "xero_payments", "payments",
                          "Xero payments as pulled, sliced by payment Date."),
        "credit_notes": _spec(shard, "xero_credit_notes", "credit_notes",
                              "Xero credit notes with allocations, sliced by Date."),
    }


XERO_ASSETS = xero_specs(shard_at(0))


@functools.cache
def xero_records_for(shard: Shard) -> dg.AssetsDefinition:
    """The raw-record assets of one shard (one multi-asset: a run reads each entity once)."""
    specs = xero_specs(shard)
    totals_check = dg.AssetCheckSpec(
        "totals_add_up",
        asset=specs["invoices"].key,
        description="Every landed invoice has Total = AmountDue + AmountPaid + AmountCredited.",
    )

    @dg.multi_asset(
        name="xero_records" if shard.index == 0 else f"shard_{shard.index}_xero_records",
        specs=list(specs.values()),
        check_specs=[totals_check],
        partitions_def=shard.partner_months,
        backfill_policy=dg.BackfillPolicy.single_run(),
        op_tags={"kind": "xero"},
        retry_policy=XERO_READ_RETRY_POLICY,  # Xero unavailable past the client's own retries
    )
    def xero_records(context: dg.AssetExecutionContext, xero: XeroResource, platform: PlatformResource):
        partner_id, month_list = partner_and_months(context)
        with platform.begin() as conn:
            connection = connections.get_connection(conn, partner_id)
        if connection is None:
            raise dg.Failure(f"partner {partner_id} has no Xero connection record")
        with sync_failures():
            pulled = pull_months(platform.engine, xero.client_for(connection), connection, month_list)

        # At INFO, so the quickstart's terminal shows what each run did (README, "quickstart").
        context.log.info(f"{partner_id} {month_list[0]:%Y-%m}..{month_list[-1]:%Y-%m}: pulled "
                         + ", ".join(f"{len(r.records)} {e}" for e, r in pulled.reads.items())
                         + f"; {pulled.stats.get('calls', 0)} Xero calls")
        drift = pulled.drift
        if drift:
            context.log.warning(f"{len(drift)} unexpected values in Xero payloads (tolerated): {drift[:5]}")
        for entity, spec in specs.items():
            run = xero_run_metadata(pulled, entity)  # after the month's own (the page's order)
            for month in pulled.counts[entity]:
                context.add_asset_metadata({**xero_month_metadata(pulled, entity, month), **run},
                                           asset_key=spec.key, partition_key=str(partition_key(partner_id, month)))
            yield dg.MaterializeResult(asset_key=spec.key)
        for check in xero_checks(pulled):
            yield dg.AssetCheckResult(check_name=check.name, asset_key=specs["invoices"].key,
                                      passed=check.passed, metadata=check.metadata)

    return xero_records


xero_records = xero_records_for(shard_at(0))

