"""The push half of the headless demo: Alternative activity -> Xero writes -> an empty diff.

`record_demo_activity` reports through the events API (platform.events) what a partner's
customers do in Alternative (a full payment, a partial payment, an invoice created in Alternative
and its payment) and the payout of them;
`ensure_demo_accounts` does Set Up Accounts with the seeded chart; `written_summary` lists what
the push runs wrote. The demo drives the real sensor, push job, incremental job and
reconciliation asset around these (xero_sync.demo.drive_push_headless).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from xero_sync.commands.accounts import choose_accounts
from xero_sync.core.money import from_minor
from xero_sync.store import connections
from xero_sync.events import api as events
from xero_sync.store.schema import invoices
from xero_sync.store.schema import outbox as outbox_table
from xero_sync.xero.client import XeroClient
from xero_sync.sync.month_slices import utc_today

DEMO_ACCOUNT_CODES = {"payments": "615", "deposit": "090", "fees": "404", "income": "200"}
DEMO_FEE_MINOR = 150


def record_demo_activity(engine: sa.Engine, partner_id: str,
                         paid_on: dt.date | None = None) -> list[str]:
    """Record a full and a partial payment on open Xero invoices, one payment on a new
    Alternative invoice, and a payout of all three. Returns the payment and payout ids."""
    day = paid_on or utc_today()
    i = invoices.c
    with engine.begin() as conn:
        open_invoices = conn.execute(
            sa.select(i.invoice_id, i.outstanding_minor, i.currency)
            .where(i.partner_id == partner_id, i.source == "xero", i.outstanding_minor > 200,
                   i.xero_status == "AUTHORISED", i.conflict.is_(None))
            .order_by(i.invoice_id.desc()).limit(2)
        ).all()
        if len(open_invoices) < 2:
            raise ValueError(f"partner {partner_id} has fewer than two open Xero invoices to pay")
        full, partial = open_invoices
        currency = full.currency

        def money(minor: int) -> Decimal:
            return from_minor(minor, currency)

        # Reported through the events API, as Alternative's services would.
        alt_invoice = events.invoice_created(
            conn, partner_id=partner_id, number=f"ALT-DEMO-{day:%Y%m%d}", currency=currency,
            amount=money(25_000), issue_date=day)
        made = []
        for pid, invoice_id, amount in (
            ("demo_full", full.invoice_id, full.outstanding_minor),
            ("demo_partial", partial.invoice_id, partial.outstanding_minor // 2),
            ("demo_alt", alt_invoice, 25_000),
        ):
            events.payment_taken(conn, partner_id=partner_id, payment_id=pid, invoice_id=invoice_id,
                                 amount=money(amount), currency=currency, paid_on=day)
            made.append(pid)
        events.payout_sent(conn, partner_id=partner_id, payout_id="demo_payout", currency=currency,
                           payment_ids=made, fees=money(DEMO_FEE_MINOR), paid_out_on=day)
    return [*made, "demo_payout"]


def ensure_demo_accounts(engine: sa.Engine, client: XeroClient, partner_id: str) -> bool:
    """Choose the demo's accounts (Undeposited Funds, Business Checking, Merchant Fees, Sales)
    unless the partner already has; returns True if they were set now."""
    with engine.connect() as conn:
        connection = connections.get_connection(conn, partner_id)
    if connection is None or connection.accounts_set_up:
        return False
    choose_accounts(engine, client, partner_id, DEMO_ACCOUNT_CODES)  # the `xero-sync accounts` path
    return True


def written_summary(engine: sa.Engine, partner_id: str) -> list[str]:
    """One line per outbox row: what was (or was not) written to Xero, with Xero's ids."""
    with engine.connect() as conn:
        written = conn.execute(
            sa.select(outbox_table.c.kind, outbox_table.c.subject_id, outbox_table.c.status,
                      outbox_table.c.xero_ids, outbox_table.c.error)
            .where(outbox_table.c.partner_id == partner_id).order_by(outbox_table.c.outbox_id)
        ).all()
    lines = []
    for row in written:
        ids = ", ".join(f"{k} {v}" for k, v in (row.xero_ids or {}).items())
        lines.append(f"  {row.kind:<8} {row.subject_id:<14} {row.status:<9} {ids or row.error or ''}")
    return lines
