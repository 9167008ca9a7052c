"""Small samples of the platform's records for the Dagster UI's markdown previews."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa

from xero_sync.store.schema import customers, invoices


def recent_invoices(conn: sa.Connection, partner_id: str, start: dt.date, end: dt.date,
                    limit: int = 5) -> Sequence[sa.Row]:
    """The most recently changed platform invoices issued in [start, end), with their customer."""
    i, c = invoices.c, customers.c
    return conn.execute(
        sa.select(i.number, c.name.label("customer"), i.status, i.currency, i.total_minor,
                  i.outstanding_minor, i.due_date, i.deleted_in_xero, i.conflict)
        .select_from(invoices.outerjoin(customers, i.customer_id == c.customer_id))
        .where(i.partner_id == partner_id, i.issue_date >= start, i.issue_date < end)
        .order_by(i.updated_at.desc(), i.invoice_id.desc())
        .limit(limit)
    ).all()
