"""The push half of the headless demo: Alternative activity -> Xero writes -> an empty diff.

`record_demo_activity` records what a partner's customers do in Alternative (a full payment, a
partial payment, a payment on an invoice created in Alternative) and the payout of them;
`push_and_diff` sets up accounts if needed, pushes until nothing is left, re-reads what changed in
Xero and computes the reconciliation diff, returning a printable summary.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from xero_sync.platform import apply, connections, diffs, landing, outbox
from xero_sync.platform.schema import invoices, xero_invoices, xero_payments
from xero_sync.platform.schema import outbox as outbox_table
from xero_sync.push import PushReport, push_partner
from xero_sync.sync import account_roles, reconcile, rules
from xero_sync.xero.client import XeroClient

DEMO_ACCOUNT_CODES = {"payments": "615", "deposit": "090", "fees": "404", "income": "200"}
DEMO_FEE_MINOR = 150


def record_demo_activity(engine: sa.Engine, partner_id: str,
                         paid_on: dt.date | None = None) -> list[str]:
    """Record a full and a partial payment on open Xero invoices, one payment on a new
    Alternative invoice, and a payout of all three. Returns the payment and payout ids."""
    day = paid_on or dt.date.today()
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
        alt_invoice = conn.execute(
            sa.insert(invoices).values(
                partner_id=partner_id, source="alternative", number=f"ALT-DEMO-{day:%Y%m%d}",
                currency=currency, issue_date=day, total_minor=25_000, outstanding_minor=0,
                status="paid",
            ).returning(i.invoice_id)
        ).scalar_one()
        made = []
        for pid, invoice_id, amount in (
            ("demo_full", full.invoice_id, full.outstanding_minor),
            ("demo_partial", partial.invoice_id, partial.outstanding_minor // 2),
            ("demo_alt", alt_invoice, 25_000),
        ):
            outbox.record_payment(conn, payment_id=pid, partner_id=partner_id, invoice_id=invoice_id,
                                  amount_minor=amount, fee_minor=0, currency=currency, paid_on=day)
            made.append(pid)
        outbox.record_payout(conn, payout_id="demo_payout", partner_id=partner_id, currency=currency,
                             payment_ids=made, fees_minor=DEMO_FEE_MINOR, paid_out_on=day)
    return [*made, "demo_payout"]


def ensure_demo_accounts(engine: sa.Engine, client: XeroClient, partner_id: str) -> bool:
    """Choose the demo's accounts (Undeposited Funds, Business Checking, Merchant Fees, Sales)
    unless the partner already has; returns True if they were set now."""
    with engine.connect() as conn:
        connection = connections.get_connection(conn, partner_id)
    if connection is None or connection.accounts_set_up:
        return False
    chart = client.accounts().records
    by_code = {a.code: a.account_id for a in chart if a.code}
    choice = account_roles.validate_choice(
        chart, {role: by_code.get(code) for role, code in DEMO_ACCOUNT_CODES.items()})
    with engine.begin() as conn:
        connections.set_accounts(
            conn, partner_id, payments_account_id=choice.payments_account_id,
            payments_account_is_bank=choice.payments_account_is_bank,
            deposit_account_id=choice.deposit_account_id, fees_account_id=choice.fees_account_id,
            income_account_id=choice.income_account_id)
    return True


def push_and_diff(engine: sa.Engine, client: XeroClient, partner_id: str, max_runs: int = 10) -> str:
    """Push until quiet, re-read what changed in Xero, store the diff; a printable summary."""
    since = _landed_until(engine, partner_id)
    ensure_demo_accounts(engine, client, partner_id)
    reports: list[PushReport] = []
    for _ in range(max_runs):
        report = push_partner(engine, client, partner_id)
        reports.append(report)
        if report.claimed == 0:
            break
    _reread(engine, client, partner_id, since)
    with engine.begin() as conn:
        diff = reconcile.diff(diffs.load_reconcile_input(conn, partner_id))
        diffs.save_diff(conn, partner_id, diff)
        written = conn.execute(
            sa.select(outbox_table.c.kind, outbox_table.c.subject_id, outbox_table.c.status,
                      outbox_table.c.xero_ids, outbox_table.c.error)
            .where(outbox_table.c.partner_id == partner_id).order_by(outbox_table.c.outbox_id)
        ).all()
    lines = ["Written to Xero:"]
    for row in written:
        ids = ", ".join(f"{k} {v}" for k, v in (row.xero_ids or {}).items())
        lines.append(f"  {row.kind:<8} {row.subject_id:<14} {row.status:<9} {ids or row.error or ''}")
    calls = sum(r.calls for r in reports)
    lines.append(f"push runs {len(reports)}, api calls {calls}")
    open_rows = reconcile.unexplained(diff)
    lines.append(f"reconciliation diff: {len(diff)} differences, {len(open_rows)} unexplained"
                 + ("" if diff.empty else f" {reconcile.summary(diff)}"))
    return "\n".join(lines)


def _landed_until(engine: sa.Engine, partner_id: str) -> dt.datetime | None:
    """The newest UpdatedDateUTC landed (Xero's clock, not ours): re-read from there."""
    with engine.connect() as conn:
        return min(
            (t for t in (conn.execute(sa.select(sa.func.max(table.c.updated_at))
                                      .where(table.c.partner_id == partner_id)).scalar()
                         for table in (xero_invoices, xero_payments)) if t is not None),
            default=None,
        )


def _reread(engine: sa.Engine, client: XeroClient, partner_id: str, since: dt.datetime | None) -> None:
    """Invoices and payments changed since `since`, landed and applied (as the incremental job)."""
    pulled_at = dt.datetime.now(dt.timezone.utc)
    changed_invoices = client.invoices(modified_since=since).records
    changed_payments = client.payments(modified_since=since).records
    with engine.begin() as conn:
        landing.upsert_invoices(conn, partner_id, changed_invoices, pulled_at)
        landing.upsert_payments(conn, partner_id, changed_payments, pulled_at)
        apply.apply_invoices(conn, partner_id, [rules.invoice_from_record(r) for r in changed_invoices])
        apply.apply_payments(conn, partner_id, [rules.payment_from_record(r) for r in changed_payments])
