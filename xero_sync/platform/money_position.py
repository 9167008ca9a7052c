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
import json
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa

from xero_sync.platform import frames
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


def _latest_writes(partner_id: str, kinds: tuple[str, ...] | None = None) -> sa.CTE:
    """(subject_id, kind) -> status of the latest outbox row of that kind for the subject."""
    o = outbox.c
    where = [o.partner_id == partner_id] + ([o.kind.in_(kinds)] if kinds else [])
    newest = (sa.select(sa.func.max(o.outbox_id).label("outbox_id")).where(*where)
              .group_by(o.subject_id, o.kind).subquery())
    return (sa.select(o.subject_id, o.kind, o.status)
            .join(newest, newest.c.outbox_id == o.outbox_id).cte("latest_writes"))


def _sum(expr: sa.ColumnElement) -> sa.ColumnElement:
    """SUM as an exact integer on both backends (PostgreSQL sums bigint into numeric)."""
    return sa.cast(sa.func.coalesce(sa.func.sum(expr), 0), sa.BigInteger)


def money_position(read: frames.Read, partner_id: str, as_of: dt.date | None) -> MoneyPosition:
    """The partner's position, read through `read` (frames.reader): the sums over payments are
    made by the database; only payouts come back row by row, with their latest payout write."""
    c = xero_connections.c
    found = read({"connection": (
        sa.select(c.payments_account_id, sa.func.coalesce(c.payments_account_is_bank, False),
                  c.base_currency).where(c.partner_id == partner_id),
        {"account": "str", "is_bank": "bool", "currency": "str"})})["connection"]
    row = found.iloc[0] if len(found) else None
    account = None if row is None or pd.isna(row["account"]) else str(row["account"])
    is_bank = bool(row is not None and row["is_bank"])
    currency = None if row is None or pd.isna(row["currency"]) else str(row["currency"])
    position = MoneyPosition(account, currency)
    day = as_of or dt.date.max
    queries = {"ours": _ours_written(partner_id, is_bank, day, counts_landed=bool(account))}
    if account:
        queries["landed"] = _landed_into(partner_id, account, day)
    sums = read(queries)
    if account:
        position.awaiting_payout_minor += int(sums["landed"]["sum"].iloc[0])
    position.awaiting_payout_minor += int(sums["ours"]["written"].iloc[0])
    position.in_doubt_minor += int(sums["ours"]["in_doubt"].iloc[0])
    _add_payouts(read, partner_id, position, is_bank, day)
    return position


def _landed_into(partner_id: str, account: str, day: dt.date):
    """Live landed Xero payments into the payments account up to `day` (ACCREC +, ACCPAY -)."""
    xp, xi = xero_payments.c, xero_invoices.c
    signed = sa.case((xi.type == "ACCPAY", -xp.amount_minor), else_=xp.amount_minor)
    return (sa.select(_sum(signed))
            .select_from(xero_payments.outerjoin(xero_invoices, sa.and_(
                xi.partner_id == xp.partner_id, xi.invoice_id == xp.invoice_id)))
            .where(xp.partner_id == partner_id, xp.account_id == account,
                   xp.status != "DELETED", xp.date <= day),
            {"sum": "int64"})


def _ours_written(partner_id: str, is_bank: bool, day: dt.date, *, counts_landed: bool):
    """Alternative payments into the payments account up to `day`: (written to Xero and not
    undone by a done delete, less those on Xero invoices already landed when `counts_landed`
    (the landed sum has them); whose write is in doubt)."""
    p, i, xp = payments.c, invoices.c, xero_payments.c
    latest = _latest_writes(partner_id)
    write, del_pay, del_dep = latest.alias("write"), latest.alias("del_pay"), latest.alias("del_dep")
    kind = sa.case((i.source == "xero", "payment"), else_="deposit")
    # A delete_payment row decides when there is one, else a delete_deposit row.
    undone = sa.func.coalesce(del_pay.c.status, del_dep.c.status) == "done"
    landed = sa.and_(i.source == "xero", sa.exists().where(
        xp.partner_id == partner_id, xp.payment_id == p.xero_payment_id)) if counts_landed \
        else sa.false()
    written = sa.and_(p.xero_payment_id.is_not(None), p.xero_payment_id != "",
                      sa.not_(sa.func.coalesce(undone, False)), sa.not_(landed))
    into_payments = [] if is_bank else [i.source == "xero"]
    return (sa.select(_sum(sa.case((written, p.amount_minor), else_=0)),
                      _sum(sa.case((write.c.status.in_(IN_DOUBT), p.amount_minor), else_=0)))
            .select_from(
                payments.join(invoices, i.invoice_id == p.invoice_id)
                .outerjoin(write, sa.and_(write.c.subject_id == p.payment_id, write.c.kind == kind))
                .outerjoin(del_pay, sa.and_(del_pay.c.subject_id == p.payment_id,
                                            del_pay.c.kind == "delete_payment"))
                .outerjoin(del_dep, sa.and_(del_dep.c.subject_id == p.payment_id,
                                            del_dep.c.kind == "delete_deposit")))
            .where(p.partner_id == partner_id, p.source == "alternative", p.paid_on <= day,
                   *into_payments),
            {"written": "int64", "in_doubt": "int64"})


def _add_payouts(read: frames.Read, partner_id: str, position: MoneyPosition, is_bank: bool,
                 day: dt.date) -> None:
    """Per payout: what its writes move (its latest payout write's payload) and its listed
    stand-alone deposits in the deposit account; done payouts leave the payments account."""
    o, po = outbox.c, payouts.c
    newest = (sa.select(sa.func.max(o.outbox_id).label("outbox_id"))
              .where(o.partner_id == partner_id, o.kind == "payout").group_by(o.subject_id)
              .subquery())
    write = (sa.select(o.subject_id, o.status, sa.cast(o.payload, sa.Text).label("payload"))
             .join(newest, newest.c.outbox_id == o.outbox_id).subquery())
    rows = read({"payouts": (
        sa.select(po.payout_id, po.net_minor, po.paid_out_on <= day, write.c.status,
                  write.c.payload)
        .outerjoin(write, write.c.subject_id == po.payout_id).where(po.partner_id == partner_id),
        {"payout_id": "str", "net_minor": "int64", "paid_out": "bool", "status": "str",
         "payload": "str"})})["payouts"]
    ids, nets, paid_out = rows["payout_id"].tolist(), rows["net_minor"].tolist(), rows["paid_out"].tolist()
    statuses = [None if pd.isna(v) else v for v in rows["status"].tolist()]
    compositions = [_composition(None if status is None else payload)
                    for status, payload in zip(statuses, rows["payload"].tolist())]
    listed_ids = {pid for comp in compositions if comp is not None
                  for pid, _ in comp.deposits} if not is_bank else set()
    written, deposit_status = _deposit_writes(read, partner_id) if listed_ids else (set(), {})
    for payout_id, net, out, status, composition in zip(ids, nets, paid_out, statuses, compositions):
        if composition is None:
            position.payouts[payout_id] = PayoutMoney(net, 0, False)
            continue
        moved = composition.moved(payments_account_is_bank=is_bank)
        if out and status == "done":
            position.awaiting_payout_minor -= moved
        elif status in IN_DOUBT:
            position.in_doubt_minor -= moved
        listed, in_flight = 0, False
        if not is_bank:
            for pid, amount in composition.deposits:
                kind = "deposit" if amount > 0 else "delete_deposit"
                deposit = deposit_status.get((pid, kind))
                in_flight |= deposit in IN_FLIGHT_OUTBOX
                if (pid in written if amount > 0 else deposit == "done"):
                    listed += amount
        position.payouts[payout_id] = PayoutMoney(
            composition.deposit_account_movement(payments_account_is_bank=is_bank), listed, in_flight)


def _composition(payload: str | None) -> ledger.PayoutComposition | None:
    """The payout write's composition; None without a write or with a payload that is not one."""
    if payload is None:
        return None
    try:
        return ledger.payout_composition(json.loads(payload))
    except ValueError:
        return None


def _deposit_writes(read: frames.Read,
                    partner_id: str) -> tuple[set[str], dict[tuple[str, str], str]]:
    """Alternative payments written to Xero, and the latest deposit / delete_deposit status per
    payment (read column-wise: a partner may have many stand-alone deposits)."""
    p = payments.c
    latest = _latest_writes(partner_id, ("deposit", "delete_deposit"))
    got = read({
        "written": (sa.select(p.payment_id).where(
            p.partner_id == partner_id, p.source == "alternative", p.xero_payment_id.is_not(None)),
            {"payment_id": "str"}),
        "status": (sa.select(latest.c.subject_id, latest.c.kind, latest.c.status),
                   {"subject_id": "str", "kind": "str", "status": "str"}),
    })
    st = got["status"]
    return (set(got["written"]["payment_id"].tolist()),
            dict(zip(zip(st["subject_id"].tolist(), st["kind"].tolist()), st["status"].tolist())))
