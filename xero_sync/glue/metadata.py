"""The materialization metadata of pulls and reconciliations, the same whoever ran them (the
assets, `incremental_sync_job`, the cohort runs).

A partition's metadata has the same keys whoever pulled it, the month's own first: its
`dagster/row_count` (the records of that month: the slice it holds, no table count), its figures
and its preview; then the run's totals (`run_*`); the rate budget last. Outside the assets' own
runs (cohorts, the incremental job) the same figures go on AssetMaterializations and the checks
on AssetCheckEvaluations.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from xero_sync.partitions import partition_key
from xero_sync.store import landing, partner_work
from xero_sync.reconciliation.run import Reconciled
from xero_sync.pulls.changes import ChangesPulled
from xero_sync.pulls.metadata import (
    CheckOutcome,
    apply_figures,
    budget_line,
    invoice_preview,
    months_label,
    platform_preview,
)
from xero_sync.pulls.months import MonthsApplied, MonthsPulled
from xero_sync.shards.layout import PLATFORM_ASSET_NAMES, XERO_ASSET_NAMES, Shard
from xero_sync.sync import reconcile

# What an incremental pull of an entity touches: its xero_* asset and its platform_* asset.
CHANGED_ASSETS = {
    "contacts": ("xero_contacts", "platform_customers"),
    "invoices": ("xero_invoices", "platform_invoices"),
    "payments": ("xero_payments", "platform_payments"),
    "credit_notes": ("xero_credit_notes",),
}
PREVIEW_ROWS = 20  # rows of a reconciliation diff shown
MAX_NAMED = 50  # partners named in the reconciliation check's description (all of them in `partners`)


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
        "run_months": months_label(pulled.months),
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
            "rate_budget": dg.MetadataValue.text(budget_line(pulled.stats.get("budget", {}))),
        }
    return metadata


# --- platform_* -------------------------------------------------------------------------------

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
    return {"run_months": months_label(applied.months), **{f"run_{k}": v for k, v in total.items()}}


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


# --- reconciliation_diff ------------------------------------------------------------------------

def diff_metadata(done: Reconciled) -> dict:
    diff, pulled = done.diff, done.pulled
    return {
        "dagster/row_count": done.stored,
        "unexplained": len(done.unexplained),
        "counts_by_kind": dg.MetadataValue.json(reconcile.summary(diff)),
        "repairs_enqueued": len(done.repaired),
        "payouts_checked_in_xero": len(pulled.payout_amounts),
        "payments_account_checked": pulled.payments_account_minor is not None,
        "xero_calls": pulled.calls,
        "second_look_calls": done.second_look_calls,  # evidence before repairs, manual bookings
        "warnings": int(diff["action"].astype(str).str.startswith("warning").sum()) if len(diff) else 0,
        "computed_at": done.computed_at.isoformat(timespec="seconds"),
        "preview": dg.MetadataValue.md(diff_preview(diff)),
    }


def shard_check(engine: sa.Engine, shard: Shard, done: list[Reconciled]) -> dict:
    """The `no_unexplained_differences` verdict over the shard: every partner whose latest stored
    reconciliation has unexplained differences (read after this run stored its own results)."""
    with engine.begin() as conn:
        failing = partner_work.failing_reconciliations(conn, shard.index)
    names = ", ".join(f"{p} ({n})" for p, n in sorted(failing.items())[:MAX_NAMED])
    more = f" and {len(failing) - MAX_NAMED} more" if len(failing) > MAX_NAMED else ""
    this_run = pd.concat([d.unexplained for d in done]) if done else reconcile.empty_frame(
        reconcile.DIFF_COLUMNS)
    return {
        "passed": not failing,
        "description": (f"{len(failing)} partner(s) with unexplained differences: {names}{more}"
                        if failing else "no partner of the shard has unexplained differences"),
        "metadata": {
            "partners": dg.MetadataValue.json(sorted(failing)),
            "failing": len(failing),
            "reconciled_in_this_run": dg.MetadataValue.json(
                {d.partner_id: len(d.unexplained) for d in done}),
            "preview": dg.MetadataValue.md(diff_preview(this_run)),
        },
    }


def diff_preview(diff) -> str:
    if diff.empty:
        return "No differences."
    shown = diff.head(PREVIEW_ROWS).astype(object).where(diff.head(PREVIEW_ROWS).notna(), "")
    more = f"\n\n… and {len(diff) - PREVIEW_ROWS} more" if len(diff) > PREVIEW_ROWS else ""
    return shown.to_markdown(index=False) + more
