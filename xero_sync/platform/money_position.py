"""Where a partner's money should be in Xero, by the platform's word and the landed Xero payments
(SPEC section 5's money checks). Reads only; the comparison is sync.reconcile_money's.

- Payments account, as at a date: every live payment landed from Xero into it (ACCREC +,
  ACCPAY -), plus Alternative payments written to Xero but not landed yet, plus (BANK payments
  account) the stand-alone deposits written into it, less what done payouts moved out of it
  (sync.ledger.PayoutComposition.moved). Writes whose outcome is in doubt (sending / unknown)
  are summed apart: a gap of exactly that size is explained.
- Per payout: what its own writes should move into the deposit account, and its stand-alone
  deposits that are in the deposit account (a deposit counts once written; a refund taken back
  counts once its delete is done), so that own writes + listed deposits = the net (bank line).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa

from xero_sync.platform.schema import (
    invoices,
    outbox,
    payments,
    payouts,
    xero_connections,
    xero_invoices,
    xero_payments,
)
from xero_sync.sync import ledger
from xero_sync.sync.diff_rows import IN_FLIGHT_OUTBOX

IN_DOUBT = ("sending", "unknown")


@dataclass(frozen=True)
class PayoutMoney:
    expected: int  # what the payout's own writes move into the deposit account
    listed: int  # its stand-alone deposits (less refunds taken back) in the deposit account
    listed_in_flight: bool


@dataclass
class MoneyPosition:
    payments_account_id: str | None
    currency: str | None
    awaiting_payout_minor: int = 0
    in_doubt_minor: int = 0
    payouts: dict[str, PayoutMoney] = field(default_factory=dict)


def _latest_rows(conn: sa.Connection, partner_id: str) -> dict[tuple[str, str], sa.Row]:
    """(subject_id, kind) -> the latest outbox row of that kind for the subject."""
    o = outbox.c
    rows = conn.execute(
        sa.select(o.outbox_id, o.subject_id, o.kind, o.status, o.payload)
        .where(o.partner_id == partner_id).order_by(o.outbox_id)
    ).all()
    return {(r.subject_id, r.kind): r for r in rows}


def money_position(conn: sa.Connection, partner_id: str, as_of: dt.date | None) -> MoneyPosition:
    c = xero_connections.c
    connection = conn.execute(
        sa.select(c.payments_account_id, c.payments_account_is_bank, c.base_currency)
        .where(c.partner_id == partner_id)
    ).first()
    is_bank = bool(connection and connection.payments_account_is_bank)
    account = connection.payments_account_id if connection else None
    position = MoneyPosition(account, connection.base_currency if connection else None)
    latest = _latest_rows(conn, partner_id)
    day = as_of or dt.date.max

    p, i = payments.c, invoices.c
    ours = conn.execute(
        sa.select(p.payment_id, p.amount_minor, p.status, p.paid_on, p.xero_payment_id,
                  i.source.label("invoice_source"))
        .join(invoices, i.invoice_id == p.invoice_id)
        .where(p.partner_id == partner_id, p.source == "alternative")
    ).all()
    by_id = {r.payment_id: r for r in ours}

    def written(pid: str) -> bool:
        r = by_id.get(pid)
        return r is not None and r.xero_payment_id is not None

    def undone(pid: str) -> bool:
        delete = latest.get((pid, "delete_payment")) or latest.get((pid, "delete_deposit"))
        return delete is not None and delete.status == "done"

    # Payments account: landed Xero payments into it, then ours not landed yet.
    xp, xi = xero_payments.c, xero_invoices.c
    landed_ids: set[str] = set()
    if account:
        landed = conn.execute(
            sa.select(xp.payment_id, xp.amount_minor, xp.status, xp.date, xp.account_id, xi.type)
            .outerjoin(xero_invoices, sa.and_(xi.partner_id == xp.partner_id,
                                              xi.invoice_id == xp.invoice_id))
            .where(xp.partner_id == partner_id)
        ).all()
        landed_ids = {r.payment_id for r in landed}
        position.awaiting_payout_minor += sum(
            (-1 if r.type == "ACCPAY" else 1) * r.amount_minor for r in landed
            if r.account_id == account and r.status != "DELETED" and r.date <= day)
    for r in ours:
        into_payments = r.invoice_source == "xero" or is_bank
        if not into_payments or r.paid_on > day:
            continue
        kind = "payment" if r.invoice_source == "xero" else "deposit"
        write = latest.get((r.payment_id, kind))
        if write is not None and write.status in IN_DOUBT:
            position.in_doubt_minor += r.amount_minor
        if not r.xero_payment_id or undone(r.payment_id):
            continue
        if r.invoice_source == "xero" and r.xero_payment_id in landed_ids:
            continue  # counted with the landed payments
        position.awaiting_payout_minor += r.amount_minor

    po = payouts.c
    for row in conn.execute(sa.select(po.payout_id, po.net_minor, po.paid_out_on)
                            .where(po.partner_id == partner_id)).all():
        write = latest.get((row.payout_id, "payout"))
        try:
            composition = ledger.payout_composition(write.payload) if write is not None else None
        except ValueError:
            composition = None
        if composition is None:
            position.payouts[row.payout_id] = PayoutMoney(row.net_minor, 0, False)
            continue
        moved = composition.moved(payments_account_is_bank=is_bank)
        if row.paid_out_on <= day and write.status == "done":
            position.awaiting_payout_minor -= moved
        elif write.status in IN_DOUBT:
            position.in_doubt_minor -= moved
        listed, in_flight = 0, False
        if not is_bank:
            for pid, amount in composition.deposits:
                kind = "deposit" if amount > 0 else "delete_deposit"
                deposit_write = latest.get((pid, kind))
                status = deposit_write.status if deposit_write is not None else None
                in_flight |= status in IN_FLIGHT_OUTBOX
                if (written(pid) if amount > 0 else status == "done"):
                    listed += amount
        position.payouts[row.payout_id] = PayoutMoney(
            composition.deposit_account_movement(payments_account_is_bank=is_bank), listed, in_flight)
    return position
