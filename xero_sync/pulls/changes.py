"""What changed in Xero since the watermark, for one partner: the body of the incremental sync,
shared by `incremental_sync_job` (one partner: webhooks, by hand) and the incremental cohort runs.

One `If-Modified-Since` call per entity when nothing changed (and no writes). Changed records are
landed and applied exactly like the month partitions; the result says which months each entity
touched, so the callers report them as materializations. The watermark is the newest
`UpdatedDateUTC` seen (Xero's clock, not ours) and never moves back.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa

from xero_sync.connect.refusals import xero_calls
from xero_sync.store import apply, connections, landing, watermarks
from xero_sync.store.connections import Connection
from xero_sync.pulls.months import ENTITIES
from xero_sync.sync import rules
from xero_sync.sync.month_slices import HISTORY_START, month_start, utc_today
from xero_sync.xero.client import ReadResult, XeroClient

# Covers clock skew between us and Xero when starting from the connection time.
_FIRST_WATERMARK_MARGIN = dt.timedelta(minutes=5)


def _since(conn, connection: Connection, entity: str) -> dt.datetime:
    """The watermark; before the first incremental run, the earlier of when the partner
    connected (our clock) and the newest record onboarding landed (Xero's clock)."""
    mark = watermarks.get_watermark(conn, connection.partner_id, entity)
    if mark is not None and mark.modified_since is not None:
        return mark.modified_since
    candidates = [connection.created_at, watermarks.newest_landed(conn, connection.partner_id, entity)]
    return min(c for c in candidates if c is not None) - _FIRST_WATERMARK_MARGIN


def month_of(entity: str, record, today: dt.date | None = None) -> dt.date:
    """The partition a record belongs to (clamped like the open-ended month windows)."""
    when = record.updated_at.date() if entity == "contacts" else record.date
    return min(max(month_start(when), HISTORY_START), month_start(today or utc_today()))


@dataclass(frozen=True)
class ChangesPulled:
    partner_id: str
    reads: dict[str, ReadResult]
    touched: dict[str, dict[dt.date, int]]  # entity -> month -> records of that month

    @property
    def records(self) -> dict[str, int]:
        return {e: len(r.records) for e, r in self.reads.items()}

    @property
    def calls(self) -> int:
        return sum(r.calls for r in self.reads.values())


def pull_changes(engine: sa.Engine, client: XeroClient, connection: Connection, *,
                 lock_wait: float | None = None) -> ChangesPulled:
    """Pull the partner's changes since its watermarks (under the tenant's lock), land and apply
    them, advance the watermarks. Raises TenantBusy or XeroRefused (connect/refusals.py)."""
    partner_id = connection.partner_id
    with engine.begin() as conn:
        since = {e: _since(conn, connection, e) for e in ENTITIES}
    pulled_at = dt.datetime.now(dt.timezone.utc)
    reads: dict[str, ReadResult] = {}
    with xero_calls(engine, connection, f"incremental pull of {partner_id}", wait_seconds=lock_wait):
        for entity in ENTITIES:
            reads[entity] = getattr(client, entity)(modified_since=since[entity])

    touched: dict[str, dict[dt.date, int]] = {e: {} for e in ENTITIES}
    with engine.begin() as conn:
        for entity, result in reads.items():
            if not result.records:
                continue
            getattr(landing, f"upsert_{entity}")(conn, partner_id, result.records, pulled_at)
            watermarks.advance_watermark(conn, partner_id, entity, max(r.updated_at for r in result.records))
            touched[entity] = dict(sorted(Counter(month_of(entity, r) for r in result.records).items()))
        if reads["contacts"].records:
            apply.apply_contacts(conn, partner_id, [rules.contact_from_record(r) for r in reads["contacts"].records])
        if reads["invoices"].records:
            apply.apply_invoices(conn, partner_id, [rules.invoice_from_record(r) for r in reads["invoices"].records])
        if reads["payments"].records:
            apply.apply_payments(conn, partner_id, [rules.payment_from_record(r) for r in reads["payments"].records])
        connections.touch_last_sync(conn, partner_id)
    return ChangesPulled(partner_id, reads, touched)
