"""A partner's months, pulled from Xero and applied: the bodies of the `xero_records` and
`platform_records` assets, shared with the daily re-read's cohort runs.

`pull_months` reads each entity with ONE `where` over the months' window (pageSize 1000), under the
tenant's lock, and lands the records month by month (upserts keyed by Xero id never replace a
newer `UpdatedDateUTC`, so a re-read changes nothing). `apply_months` puts the landed records of
those months through SPEC section 2's rules into the dashboard tables, month by month, and
records the months landed (the onboarding sensor's progress) in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from xero_sync.connect.refusals import PartnerParked, xero_calls
from xero_sync.store import apply, connections, landing, onboarding_progress, previews, quality
from xero_sync.store.connections import Connection
from xero_sync.sync.month_slices import HISTORY_START, add_months, month_start, slice_into_months, utc_today
from xero_sync.sync.onboarding import plan_size
from xero_sync.xero.client import ReadResult, XeroClient
from xero_sync.xero.windows import DateWindow

ENTITIES = ("contacts", "invoices", "payments", "credit_notes")
PLATFORM_ENTITIES = ("customers", "invoices", "payments")

# Open start for the oldest partition: older history lands there instead of being left out.
_BEGINNING = dt.date(1900, 1, 1)
_END = dt.date(2100, 1, 1)

# Each entity's records go to its own upsert and applier (the records' type varies by entity).
_UPSERTS: dict[str, Callable[[sa.Connection, str, Sequence[Any], dt.datetime], landing.UpsertCounts]] = {
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
_APPLIERS: dict[str, Callable[[sa.Connection, str, Sequence[Any]], apply.ApplyCounts]] = {
    "customers": apply.apply_contacts, "invoices": apply.apply_invoices, "payments": apply.apply_payments}


def window_for(month_list: list[dt.date], first_month: dt.date | None,
               today: dt.date | None = None) -> DateWindow:
    """The months' window, so that every record belongs to exactly one partition: the
    organisation's first month (or the oldest partition) is open at the start (it also holds
    e.g. contacts last edited before the first invoice) and the current month is open at the end
    (it also holds future-dated invoices, which have no partition of their own yet)."""
    oldest = max(first_month or HISTORY_START, HISTORY_START)
    start = _BEGINNING if month_list[0] <= oldest else month_list[0]
    current = month_start(today or utc_today())
    end = _END if month_list[-1] >= current else add_months(month_list[-1], 1)
    return DateWindow(start, end)


def _month_bounds(month: dt.date, month_list: list[dt.date], window: DateWindow) -> tuple[dt.date, dt.date]:
    """[start, end) of one month's partition: the window's open ends belong to its first and last."""
    start = window.start if month == month_list[0] else month
    end = window.end if month == month_list[-1] else add_months(month, 1)
    return start, end


@dataclass(frozen=True)
class MonthsPulled:
    """What one read of a partner's months brought: per entity the read, and per month the
    records and what landing them did."""

    partner_id: str
    months: list[dt.date]
    reads: dict[str, ReadResult]
    slices: dict[str, dict[dt.date, list]]
    counts: dict[str, dict[dt.date, landing.UpsertCounts]]
    bad_totals: list[str]  # invoices whose Total != AmountDue + AmountPaid + AmountCredited
    stats: dict  # the client's calls and rate budget after the read

    @property
    def drift(self) -> list:
        return [n for r in self.reads.values() for n in r.drift]


def pull_months(engine: sa.Engine, client: XeroClient, connection: Connection,
                month_list: list[dt.date], *, lock_wait: float | None = None,
                read_organisation: bool = False) -> MonthsPulled:
    """Read `month_list` (ascending) of the partner from Xero and land it. Raises PartnerParked,
    TenantBusy (its tenant is busy) or XeroRefused (connect/refusals.py).

    The organisation's base currency (GET /Organisation, one call) is read and stored when it is
    not known yet (the first onboarding run, right after connect) and when `read_organisation`
    (the daily re-read): the reconciliation compares balances in it."""
    partner_id = connection.partner_id
    if connection.parked_until is not None and connection.is_parked(dt.datetime.now(dt.timezone.utc)):
        raise PartnerParked(
            f"partner {partner_id} is parked until {connection.parked_until.isoformat()} "
            "(Xero daily limit); the onboarding sensor resumes it then", partner_id)
    pulled_at = dt.datetime.now(dt.timezone.utc)
    # One run calls Xero per tenant at a time, however it was launched (tenant_lock.py).
    with xero_calls(engine, connection, f"pull of {partner_id} {month_list[0]:%Y-%m}.."
                    f"{month_list[-1]:%Y-%m}", wait_seconds=lock_wait):
        first_month = connection.first_month
        if first_month is None:  # the first onboarding run: one call to learn the plan's extent
            first_month = month_start(client.first_invoice_date() or utc_today())
        base_currency = None
        if read_organisation or connection.base_currency is None:
            base_currency = next((o.base_currency for o in client.organisation().records), None)
        window = window_for(month_list, first_month)
        reads = {
            "contacts": client.contacts(window=window),
            "invoices": client.invoices(window=window),
            "payments": client.payments(window=window),
            "credit_notes": client.credit_notes(window=window),
        }

    slices = {e: slice_into_months(reads[e].records, _DATE_OF[e], month_list) for e in reads}
    with engine.begin() as conn:
        # Landed month by month so each partition reports its own inserted/updated/unchanged.
        counts = {
            e: {m: _UPSERTS[e](conn, partner_id, records, pulled_at) for m, records in slices[e].items()}
            for e in reads
        }
        if base_currency:
            connections.set_base_currency(conn, partner_id, base_currency)
        if connection.first_month is None:
            total = plan_size(utc_today(), first_month, HISTORY_START)
            connections.set_plan(conn, partner_id, first_month, total)
        bad_totals = quality.invoices_with_bad_totals(conn, partner_id, month_list)
        connections.touch_last_sync(conn, partner_id)
    return MonthsPulled(partner_id, list(month_list), reads, slices, counts, bad_totals, client.stats())


@dataclass(frozen=True)
class MonthsApplied:
    """What applying a partner's landed months changed in the dashboard, per entity and month."""

    partner_id: str
    months: list[dt.date]
    counts: dict[str, dict[dt.date, apply.ApplyCounts]]
    preview: dict[dt.date, Sequence[sa.Row]]  # per month: its most recently changed platform invoices
    orphans: list[str]
    duplicates: list[str]


def apply_months(engine: sa.Engine, partner_id: str, month_list: list[dt.date]) -> MonthsApplied:
    """Apply the partner's landed records of `month_list` (ascending) to the dashboard tables."""
    with engine.begin() as conn:
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
        # Applied month by month (customers, then invoices, then payments) so each partition
        # reports its own figures; payments dated after the months count in the last month, like
        # everything the open-ended windows hold.
        slices: dict[str, dict[dt.date, list[Any]]] = {
            "customers": slice_into_months(contacts, lambda c: c.updated_at.date(), month_list),
            "invoices": slice_into_months(invoices, lambda i: i.issue_date, month_list),
            "payments": slice_into_months(payments, lambda p: p.date, month_list),
        }
        counts = {
            e: {m: _APPLIERS[e](conn, partner_id, records) for m, records in slices[e].items()}
            for e in slices
        }
        # In the same transaction: the onboarding sensor counts a month done once it is here.
        onboarding_progress.record_landed(conn, partner_id, month_list)
        # Each month's own most recently changed invoices (its page must not show another's).
        preview = {m: previews.recent_invoices(conn, partner_id, *_month_bounds(m, month_list, window))
                   for m in month_list}
        orphans = quality.orphan_invoices(conn, partner_id)
        duplicates = quality.duplicate_invoices(conn, partner_id)
    return MonthsApplied(partner_id, list(month_list), counts, preview, orphans, duplicates)
