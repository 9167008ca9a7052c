"""Raw Xero records per partner x month: xero_contacts, xero_invoices, xero_payments, xero_credit_notes.

Business window: the run's months (one month, or a range for onboarding and single-run
backfills). Each entity is read with ONE `where` over the whole window (pageSize 1000, stop on
pageCount), then landed by Xero id. Idempotent: landing upserts keyed by Xero id never replace a
newer `UpdatedDateUTC`, so re-running a partition changes nothing.
"""


import datetime as dt
import functools

import dagster as dg

from xero_sync.assets.connection_errors import held_tenant, xero_failures
from xero_sync.assets.table_metadata import OWNERS, row_counts, table_metadata
from xero_sync.partitions import HISTORY_START, partition_key, partner_and_months
from xero_sync.platform import connections, landing, quality, schema
from xero_sync.resources.platform import PlatformResource
from xero_sync.resources.xero import XeroResource
from xero_sync.shards.layout import Shard, shard as shard_at
from xero_sync.sync.month_slices import add_months, month_start, slice_into_months
from xero_sync.sync.onboarding import plan_size
from xero_sync.xero.windows import DateWindow

GROUP = "xero"
# Open start for the oldest partition: older history lands there instead of being left out.
_BEGINNING = dt.date(1900, 1, 1)
_END = dt.date(2100, 1, 1)

_WINDOW = ("Business window: partner x month; the organisation's first month also holds everything "
           "dated earlier, and the current month is open-ended (it also holds records dated ahead).")
_LANDING = {"contacts": schema.xero_contacts, "invoices": schema.xero_invoices,
            "payments": schema.xero_payments, "credit_notes": schema.xero_credit_notes}


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


_UPSERTS = {
    "contacts": landing.upsert_contacts,
    "invoices": landing.upsert_invoices,
    "payments": landing.upsert_payments,
    "credit_notes": landing.upsert_credit_notes,
}
# The date that puts a record in a month partition (the same field its `where` filters on).
_DATE_OF = {
    "contacts": lambda r: r.updated_at.date(),
    "invoices": lambda r: r.date,
    "payments": lambda r: r.date,
    "credit_notes": lambda r: r.date,
}


def window_for(month_list: list[dt.date], first_month: dt.date | None,
               today: dt.date | None = None) -> DateWindow:
    """The run's window, so that every record belongs to exactly one partition: the
    organisation's first month (or the oldest partition) is open at the start (it also holds
    e.g. contacts last edited before the first invoice) and the current month is open at the end
    (it also holds future-dated invoices, which have no partition of their own yet)."""
    oldest = max(first_month or HISTORY_START, HISTORY_START)
    start = _BEGINNING if month_list[0] <= oldest else month_list[0]
    current = month_start(today or dt.date.today())
    end = _END if month_list[-1] >= current else add_months(month_list[-1], 1)
    return DateWindow(start, end)


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
    )
    def xero_records(context: dg.AssetExecutionContext, xero: XeroResource, platform: PlatformResource):
        partner_id, month_list = partner_and_months(context)
        with platform.begin() as conn:
            connection = connections.get_connection(conn, partner_id)
        if connection is None:
            raise dg.Failure(f"partner {partner_id} has no Xero connection record")
        if connection.is_parked(dt.datetime.now(dt.timezone.utc)):
            raise dg.Failure(
                f"partner {partner_id} is parked until {connection.parked_until.isoformat()} "
                "(Xero daily limit); the onboarding sensor resumes it then"
            )
        client = xero.client_for(connection)
        pulled_at = dt.datetime.now(dt.timezone.utc)
        # One run calls Xero per tenant at a time, however it was launched (tenant_lock.py).
        with held_tenant(platform, connection, f"pull of {partner_id} {month_list[0]:%Y-%m}.."
                         f"{month_list[-1]:%Y-%m}"), xero_failures(platform, connection):
            first_month = connection.first_month
            if first_month is None:  # the first onboarding run: one call to learn the plan's extent
                first_month = month_start(client.first_invoice_date() or dt.date.today())
            window = window_for(month_list, first_month)
            reads = {
                "contacts": client.contacts(window=window),
                "invoices": client.invoices(window=window),
                "payments": client.payments(window=window),
                "credit_notes": client.credit_notes(window=window),
            }

        slices = {e: slice_into_months(reads[e].records, _DATE_OF[e], month_list) for e in reads}
        with platform.begin() as conn:
            # Landed month by month so each partition reports its own inserted/updated/unchanged.
            counts = {
                e: {m: _UPSERTS[e](conn, partner_id, records, pulled_at) for m, records in slices[e].items()}
                for e in reads
            }
            if connection.first_month is None:
                total = plan_size(dt.date.today(), first_month, HISTORY_START)
                connections.set_plan(conn, partner_id, first_month, total)
            bad_totals = quality.invoices_with_bad_totals(conn, partner_id, month_list)
            connections.touch_last_sync(conn, partner_id)

        stats = client.stats()
        drift = [n for r in reads.values() for n in r.drift]
        if drift:
            context.log.warning(f"{len(drift)} unexpected values in Xero payloads (tolerated): {drift[:5]}")
        table_rows = row_counts(platform, _LANDING)
        for entity, spec in specs.items():
            for month, c in counts[entity].items():
                context.add_asset_metadata(
                    {"month": f"{month:%Y-%m}", "records_pulled": len(slices[entity][month]),
                     "inserted": c.inserted, "updated": c.updated, "unchanged": c.unchanged},
                    asset_key=spec.key, partition_key=str(partition_key(partner_id, month)),
                )
            # The run's figures, on every partition it materialized: one read spans the whole window.
            run_total = sum(counts[entity].values(), landing.UpsertCounts())
            metadata = {
                "run_months": f"{month_list[0]:%Y-%m}..{month_list[-1]:%Y-%m}",
                "run_records_pulled": len(reads[entity].records),
                "run_inserted": run_total.inserted,
                "run_updated": run_total.updated,
                "run_unchanged": run_total.unchanged,
                "run_api_calls": reads[entity].calls,
                "run_drift_notes": len(reads[entity].drift),
                **table_rows[entity],
            }
            if entity == "invoices":
                metadata |= {
                    "run_api_calls_all_entities": stats.get("calls", 0),
                    "rate_budget": dg.MetadataValue.json(stats.get("budget", {})),
                    "preview": dg.MetadataValue.md(_invoice_preview(reads[entity].records)),
                }
            yield dg.MaterializeResult(asset_key=spec.key, metadata=metadata)
        yield dg.AssetCheckResult(
            check_name="totals_add_up",
            asset_key=specs["invoices"].key,
            passed=not bad_totals,
            metadata={"invoices_not_adding_up": len(bad_totals), "examples": ", ".join(bad_totals[:10])},
        )

    return xero_records


xero_records = xero_records_for(shard_at(0))


def _invoice_preview(records, limit: int = 5) -> str:
    rows = sorted(records, key=lambda r: r.updated_at, reverse=True)[:limit]
    if not rows:
        return "_no invoices in this window_"
    lines = ["| number | status | date | total | due | currency |", "|---|---|---|---:|---:|---|"]
    lines += [
        f"| {r.invoice_number or ''} | {r.status} | {r.date} | {r.total} | {r.amount_due} | {r.currency_code} |"
        for r in rows
    ]
    return "\n".join(lines)
