"""Data-quality queries behind the asset checks (bounded to one partner, cheap aggregates)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa

from xero_sync.store.schema import invoices, xero_invoices


def invoices_with_bad_totals(conn: sa.Connection, partner_id: str, months: Sequence[dt.date]) -> list[str]:
    """Landed invoices where Total != AmountDue + AmountPaid + AmountCredited."""
    t = xero_invoices
    total = t.c.amount_due_minor + t.c.amount_paid_minor + t.c.amount_credited_minor
    query = sa.select(t.c.invoice_number, t.c.invoice_id).where(
        t.c.partner_id == partner_id, t.c.month.in_(list(months)), t.c.total_minor != total
    )
    return [number or invoice_id for number, invoice_id in conn.execute(query)]


def orphan_invoices(conn: sa.Connection, partner_id: str) -> list[str]:
    """Platform invoices without a customer."""
    t = invoices
    query = sa.select(t.c.number, t.c.invoice_id).where(t.c.partner_id == partner_id, t.c.customer_id.is_(None))
    return [number or str(invoice_id) for number, invoice_id in conn.execute(query)]


def duplicate_invoices(conn: sa.Connection, partner_id: str) -> list[str]:
    """Xero invoices present more than once for the partner (by id, or by ACCREC number)."""
    t = invoices
    by_id = (
        sa.select(t.c.xero_invoice_id)
        .where(t.c.partner_id == partner_id, t.c.xero_invoice_id.is_not(None))
        .group_by(t.c.xero_invoice_id)
        .having(sa.func.count() > 1)
    )
    by_number = (
        sa.select(t.c.number)
        .where(t.c.partner_id == partner_id, t.c.source == "xero", t.c.number.is_not(None))
        .group_by(t.c.number)
        .having(sa.func.count() > 1)
    )
    return [r[0] for r in conn.execute(by_id)] + [r[0] for r in conn.execute(by_number)]
