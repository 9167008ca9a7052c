"""What the onboarding sensor reads each tick, in a few bounded queries over pending partners only.

`record_landed` is called by the platform_records asset in the transaction that applies a run's
months, so "landed" here means the months are in the platform store (whatever launched the run:
the onboarding sensor, a UI backfill or a re-run). The sensor then reads one slice of pending
connections (round-robin by partner id after a cursor) and their landed months and recent record
counts with one query each (connections.pending_slice reads the slice): its cost follows the pending partners, not every partner ever synced.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import sqlalchemy as sa

from xero_sync.store import bulk
from xero_sync.store.schema import (
    partner_months,
    xero_credit_notes,
    xero_invoices,
    xero_payments,
)
from xero_sync.sync.month_slices import recent_months


def record_landed(conn: sa.Connection, partner_id: str, months: Iterable[dt.date],
                  at: dt.datetime | None = None) -> None:
    """Mark `months` of `partner_id` as landed (re-landing only moves `landed_at`)."""
    at = at or dt.datetime.now(dt.timezone.utc)
    rows = [{"partner_id": partner_id, "month": m.replace(day=1), "landed_at": at} for m in sorted(set(months))]
    for chunk in bulk.chunks(rows, columns=3):
        stmt = bulk.dialect_insert(conn, partner_months).values(list(chunk))
        conn.execute(stmt.on_conflict_do_update(
            index_elements=["partner_id", "month"], set_={"landed_at": stmt.excluded.landed_at}))


def landed_months(conn: sa.Connection, partner_ids: Sequence[str]) -> dict[str, frozenset[dt.date]]:
    """Landed months per partner, for these partners only (one query)."""
    found: dict[str, set[dt.date]] = {p: set() for p in partner_ids}
    if partner_ids:
        t = partner_months.c
        for partner_id, month in conn.execute(
            sa.select(t.partner_id, t.month).where(bulk.in_values(conn, t.partner_id, partner_ids))
        ):
            found[partner_id].add(month)
    return {p: frozenset(ms) for p, ms in found.items()}


def recent_record_counts(conn: sa.Connection, partner_ids: Sequence[str], today: dt.date) -> dict[str, int]:
    """The busiest entity's landed records in the last 12 months per partner (sizes history
    chunks, see sync.onboarding.history_chunk_months), one grouped query per entity."""
    counts = {p: 0 for p in partner_ids}
    if not partner_ids:
        return counts
    since = min(recent_months(today, 12))
    for t in (xero_invoices, xero_payments, xero_credit_notes):
        query = (sa.select(t.c.partner_id, sa.func.count())
                 .where(bulk.in_values(conn, t.c.partner_id, partner_ids), t.c.month >= since)
                 .group_by(t.c.partner_id))
        for partner_id, n in conn.execute(query):
            counts[partner_id] = max(counts[partner_id], n)
    return counts
