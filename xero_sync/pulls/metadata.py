"""What a pull found, the same whoever ran it: the check outcomes and the markdown previews its
materialization metadata shows (plain values; glue/metadata.py makes the Dagster metadata).

The assets report per-month figures on each partition and the read's totals on every partition
they materialize; a cohort run reports both on one AssetMaterialization per partner and month.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from xero_sync.core.money import from_minor
from xero_sync.store import apply, schema
from xero_sync.pulls.months import MonthsApplied, MonthsPulled

# The tables behind each asset (row counts, column schemas).
XERO_TABLES = {"contacts": schema.xero_contacts, "invoices": schema.xero_invoices,
               "payments": schema.xero_payments, "credit_notes": schema.xero_credit_notes}
PLATFORM_TABLES = {"customers": schema.customers, "invoices": schema.invoices, "payments": schema.payments}


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    asset: str  # the asset the check is on
    passed: bool
    metadata: dict


def months_label(months: list[dt.date]) -> str:
    return f"{months[0]:%Y-%m}..{months[-1]:%Y-%m}"


def budget_line(budget: Mapping) -> str:
    """The rate budget's figures on one line (they describe the tenant, not the month)."""
    return ", ".join(f"{k}: {v}" for k, v in budget.items()) if budget else "none"


# --- xero_* -----------------------------------------------------------------------------------

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
