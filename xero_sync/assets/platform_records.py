"""The partner dashboard's records: platform_customers, platform_invoices, platform_payments.

Business window: the same partner x months as the Xero records they come from. SPEC section 2's
rules (xero_sync.sync.rules) decide each change; the platform store writes them in bulk.
Idempotent: applying the same landed records again finds nothing to change.
"""


import functools

import dagster as dg

from xero_sync.assets.table_metadata import OWNERS, row_counts, table_metadata
from xero_sync.assets.xero_records import window_for, xero_specs
from xero_sync.sync.month_slices import add_months, slice_into_months
from xero_sync.partitions import partition_key, partner_and_months
from xero_sync.money import from_minor
from xero_sync.platform import apply, connections, landing, onboarding_progress, previews, quality, schema
from xero_sync.resources.platform import PlatformResource
from xero_sync.shards.layout import Shard, shard as shard_at

GROUP = "platform"

_WINDOW = ("Business window: the same partner x month as the Xero records it comes from (first month "
           "open at the start, current month open-ended).")
_TABLES = {"customers": schema.customers, "invoices": schema.invoices, "payments": schema.payments}


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
        with platform.begin() as conn:
            connection = connections.get_connection(conn, partner_id)
            window = window_for(month_list, connection.first_month if connection else None)
            open_start = window.start < month_list[0]
            open_end = window.end > add_months(month_list[-1], 1)
            contacts = landing.load_contacts(
                conn, partner_id, updated_from=None if open_start else window.start,
                updated_before=None if open_end else window.end,
            )
            invoices = landing.load_invoices(conn, partner_id, months=month_list,
                                             include_earlier=open_start, include_later=open_end)
            payments = landing.load_payments(conn, partner_id, months=month_list,
                                             include_earlier=open_start, include_later=open_end)
            # Payments dated in later months on these invoices were skipped while the invoice was
            # unknown; apply them now (apply is idempotent, so the overlap costs nothing).
            seen = {p.payment_id for p in payments}
            payments += [p for p in landing.load_payments_on_invoices(conn, partner_id, [i.xero_invoice_id for i in invoices])
                         if p.payment_id not in seen]
            # Applied month by month (customers, then invoices, then payments, as before) so each
            # partition reports its own figures; payments dated after the run's months count in its
            # last month, like everything the open-ended windows hold.
            slices = {
                "customers": slice_into_months(contacts, lambda c: c.updated_at.date(), month_list),
                "invoices": slice_into_months(invoices, lambda i: i.issue_date, month_list),
                "payments": slice_into_months(payments, lambda p: p.date, month_list),
            }
            appliers = {"customers": apply.apply_contacts, "invoices": apply.apply_invoices,
                        "payments": apply.apply_payments}
            counts = {
                e: {m: appliers[e](conn, partner_id, records) for m, records in slices[e].items()}
                for e in slices
            }
            # In the same transaction: the onboarding sensor counts a month done once it is here.
            onboarding_progress.record_landed(conn, partner_id, month_list)
            preview = previews.recent_invoices(conn, partner_id, window.start, window.end)
            orphans = quality.orphan_invoices(conn, partner_id)
            duplicates = quality.duplicate_invoices(conn, partner_id)

        table_rows = row_counts(platform, _TABLES)
        for entity, spec in specs.items():
            for month, c in counts[entity].items():
                context.add_asset_metadata(
                    {"month": f"{month:%Y-%m}", **_figures(c)},
                    asset_key=spec.key, partition_key=str(partition_key(partner_id, month)),
                )
            run_total = _figures(*counts[entity].values())
            metadata = {"run_months": f"{month_list[0]:%Y-%m}..{month_list[-1]:%Y-%m}",
                        **{f"run_{k}": v for k, v in run_total.items()}, **table_rows[entity]}
            if entity == "invoices":
                metadata["preview"] = dg.MetadataValue.md(_preview(preview))
            yield dg.MaterializeResult(asset_key=spec.key, metadata=metadata)
        yield dg.AssetCheckResult(
            check_name="no_orphan_invoices", asset_key=specs["invoices"].key, passed=not orphans,
            metadata={"orphans": len(orphans), "examples": ", ".join(map(str, orphans[:10]))},
        )
        yield dg.AssetCheckResult(
            check_name="no_duplicate_invoices", asset_key=specs["invoices"].key, passed=not duplicates,
            metadata={"duplicates": len(duplicates), "examples": ", ".join(map(str, duplicates[:10]))},
        )

    return platform_records


platform_records = platform_records_for(shard_at(0))


def _figures(*counts: apply.ApplyCounts) -> dict[str, int]:
    return {name: sum(getattr(c, name) for c in counts)
            for name in ("inserted", "updated", "unchanged", "skipped", "conflicts")}


def _preview(rows) -> str:
    if not rows:
        return "_no invoices issued in this window_"
    lines = ["| number | customer | status | total | outstanding | due | flags |",
             "|---|---|---|---:|---:|---|---|"]
    for r in rows:
        flags = ", ".join(f for f, on in (("deleted in Xero", r.deleted_in_xero), ("conflict", r.conflict)) if on)
        lines.append(
            f"| {r.number or ''} | {r.customer or ''} | {r.status} | {from_minor(r.total_minor, r.currency)} "
            f"{r.currency} | {from_minor(r.outstanding_minor, r.currency)} | {r.due_date or ''} | {flags} |"
        )
    return "\n".join(lines)
