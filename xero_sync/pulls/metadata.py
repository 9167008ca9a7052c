"""The materialization metadata and check outcomes of a pull, the same whoever ran it.

The assets report per-month figures on each partition (`add_asset_metadata`) and the read's
totals (`run_*`) on every partition they materialize; a cohort run reports both on one
AssetMaterialization per partner and month. Either way a partition's metadata has the same keys,
the month's own first: its `dagster/row_count` (the records of that month: the slice it holds, no
table count), its figures and its preview; then the run's totals; the rate budget last.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import dagster as dg

from xero_sync.core.money import from_minor
from xero_sync.partitions import partition_key
from xero_sync.store import apply, landing, schema
from xero_sync.pulls.changes import ChangesPulled
from xero_sync.pulls.months import MonthsApplied, MonthsPulled
from xero_sync.shards.layout import Shard

# The tables behind each asset (row counts, column schemas).
XERO_TABLES = {"contacts": schema.xero_contacts, "invoices": schema.xero_invoices,
               "payments": schema.xero_payments, "credit_notes": schema.xero_credit_notes}
PLATFORM_TABLES = {"customers": schema.customers, "invoices": schema.invoices, "payments": schema.payments}
XERO_ASSET_NAMES = {"contacts": "xero_contacts", "invoices": "xero_invoices",
                    "payments": "xero_payments", "credit_notes": "xero_credit_notes"}
PLATFORM_ASSET_NAMES = {"customers": "platform_customers", "invoices": "platform_invoices",
                        "payments": "platform_payments"}
# What an incremental pull of an entity touches: its xero_* asset and its platform_* asset.
CHANGED_ASSETS = {
    "contacts": ("xero_contacts", "platform_customers"),
    "invoices": ("xero_invoices", "platform_invoices"),
    "payments": ("xero_payments", "platform_payments"),
    "credit_notes": ("xero_credit_notes",),
}


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    asset: str  # the asset the check is on
    passed: bool
    metadata: dict


def _months(months: list[dt.date]) -> str:
    return f"{months[0]:%Y-%m}..{months[-1]:%Y-%m}"


# --- xero_* -----------------------------------------------------------------------------------

def xero_month_metadata(pulled: MonthsPulled, entity: str, month: dt.date) -> dict:
    """One month's own figures: its records (the landed slice), what landing them did, and for
    invoices the month's most recently changed."""
    records = pulled.slices[entity][month]
    c = pulled.counts[entity][month]
    metadata = {"month": f"{month:%Y-%m}", "dagster/row_count": len(records), "records_pulled": len(records),
                "inserted": c.inserted, "updated": c.updated, "unchanged": c.unchanged}
    if entity == "invoices":
        metadata["preview"] = dg.MetadataValue.md(invoice_preview(records))
    return metadata


def xero_run_metadata(pulled: MonthsPulled, entity: str) -> dict:
    """The read's figures, on every partition it materialized: one read spans the whole window."""
    read = pulled.reads[entity]
    total = sum(pulled.counts[entity].values(), landing.UpsertCounts())
    metadata = {
        "run_months": _months(pulled.months),
        "run_records_pulled": len(read.records),
        "run_inserted": total.inserted,
        "run_updated": total.updated,
        "run_unchanged": total.unchanged,
        "run_api_calls": read.calls,
        "run_drift_notes": len(read.drift),
    }
    if entity == "invoices":
        metadata |= {
            "run_api_calls_all_entities": pulled.stats.get("calls", 0),
            "rate_budget": dg.MetadataValue.text(_budget_line(pulled.stats.get("budget", {}))),
        }
    return metadata


def _budget_line(budget: Mapping) -> str:
    """The rate budget's figures on one line (they describe the tenant, not the month)."""
    return ", ".join(f"{k}: {v}" for k, v in budget.items()) if budget else "none"


def xero_checks(pulled: MonthsPulled) -> list[CheckOutcome]:
    bad = pulled.bad_totals
    return [CheckOutcome("totals_add_up", "xero_invoices", not bad,
                         {"invoices_not_adding_up": len(bad), "examples": ", ".join(bad[:10])})]


def invoice_preview(records, limit: int = 5) -> str:
    rows = sorted(records, key=lambda r: r.updated_at, reverse=True)[:limit]
    if not rows:
        return "_no invoices in this month_"
    lines = ["| number | status | date | total | due | currency |", "|---|---|---|---:|---:|---|"]
    lines += [
        f"| {r.invoice_number or ''} | {r.status} | {r.date} | {r.total} | {r.amount_due} | {r.currency_code} |"
        for r in rows
    ]
    return "\n".join(lines)


# --- platform_* -------------------------------------------------------------------------------

def apply_figures(*counts: apply.ApplyCounts) -> dict[str, int]:
    return {name: sum(getattr(c, name) for c in counts)
            for name in ("inserted", "updated", "unchanged", "skipped", "conflicts")}


def platform_month_metadata(applied: MonthsApplied, entity: str, month: dt.date) -> dict:
    """One month's own figures: its rows (what was applied: inserted, updated or unchanged), what
    applying did, and for invoices the month's most recently changed."""
    figures = apply_figures(applied.counts[entity][month])
    rows = figures["inserted"] + figures["updated"] + figures["unchanged"]
    metadata = {"month": f"{month:%Y-%m}", "dagster/row_count": rows, **figures}
    if entity == "invoices":
        metadata["preview"] = dg.MetadataValue.md(platform_preview(applied.preview.get(month, [])))
    return metadata


def platform_run_metadata(applied: MonthsApplied, entity: str) -> dict:
    total = apply_figures(*applied.counts[entity].values())
    return {"run_months": _months(applied.months), **{f"run_{k}": v for k, v in total.items()}}


def platform_checks(applied: MonthsApplied) -> list[CheckOutcome]:
    orphans, duplicates = applied.orphans, applied.duplicates
    return [
        CheckOutcome("no_orphan_invoices", "platform_invoices", not orphans,
                     {"orphans": len(orphans), "examples": ", ".join(map(str, orphans[:10]))}),
        CheckOutcome("no_duplicate_invoices", "platform_invoices", not duplicates,
                     {"duplicates": len(duplicates), "examples": ", ".join(map(str, duplicates[:10]))}),
    ]


def platform_preview(rows) -> str:
    if not rows:
        return "_no invoices issued in this month_"
    lines = ["| number | customer | status | total | outstanding | due | flags |",
             "|---|---|---|---:|---:|---|---|"]
    for r in rows:
        flags = ", ".join(f for f, on in (("deleted in Xero", r.deleted_in_xero), ("conflict", r.conflict)) if on)
        lines.append(
            f"| {r.number or ''} | {r.customer or ''} | {r.status} | {from_minor(r.total_minor, r.currency)} "
            f"{r.currency} | {from_minor(r.outstanding_minor, r.currency)} | {r.due_date or ''} | {flags} |"
        )
    return "\n".join(lines)


# --- one partner's events, for runs that are not the assets' own -------------------------------

def months_materializations(shard: Shard, pulled: MonthsPulled, applied: MonthsApplied
                            ) -> list[dg.AssetMaterialization]:
    """One materialization per asset and month of a partner's re-read, each with the month's
    figures and the read's totals (what the assets' range runs record on each partition)."""
    events = []
    for entity, name in XERO_ASSET_NAMES.items():
        run = xero_run_metadata(pulled, entity)
        for month in pulled.counts[entity]:
            events.append(dg.AssetMaterialization(
                asset_key=shard.key(name), partition=str(partition_key(pulled.partner_id, month)),
                metadata={**xero_month_metadata(pulled, entity, month), **run}))
    for entity, name in PLATFORM_ASSET_NAMES.items():
        run = platform_run_metadata(applied, entity)
        for month in applied.counts[entity]:
            events.append(dg.AssetMaterialization(
                asset_key=shard.key(name), partition=str(partition_key(applied.partner_id, month)),
                metadata={**platform_month_metadata(applied, entity, month), **run}))
    return events


def check_evaluations(shard: Shard, partner_id: str, outcomes: list[CheckOutcome]) -> list[dg.AssetCheckEvaluation]:
    """The assets' checks evaluated for one partner, outside the assets' own runs."""
    return [dg.AssetCheckEvaluation(asset_key=shard.key(o.asset), check_name=o.name, passed=o.passed,
                                    metadata={**o.metadata, "partner": partner_id})
            for o in outcomes]


def changes_materializations(shard: Shard, changes: ChangesPulled) -> list[dg.AssetMaterialization]:
    """The months an incremental pull touched, as materializations of its assets, so the UI
    shows fresh partitions."""
    return [
        dg.AssetMaterialization(asset_key=shard.key(asset),
                                partition=str(partition_key(changes.partner_id, month)),
                                metadata={"source": "incremental", "records": records})
        for entity, months in changes.touched.items()
        for month, records in months.items()
        for asset in CHANGED_ASSETS[entity]
    ]
