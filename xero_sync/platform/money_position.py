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
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
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


def _latest_writes(partner_id: str, kinds: tuple[str, ...],
                   subjects: sa.Select | None = None) -> sa.Subquery:
    """(subject_id, kind) -> status of the latest outbox row of that kind for the subject, for
    the given kinds (and only the subjects `subjects` selects, when given)."""
    o = outbox.c
    where = [o.partner_id == partner_id, o.kind.in_(kinds)]
    if subjects is not None:
        where.append(o.subject_id.in_(subjects))
    newest = (sa.select(sa.func.max(o.outbox_id).label("outbox_id")).where(*where)
              .group_by(o.subject_id, o.kind).subquery())
    return (sa.select(o.subject_id, o.kind, o.status)
            .join(newest, newest.c.outbox_id == o.outbox_id).subquery("latest_writes"))


def _sum(expr: sa.ColumnElement) -> sa.ColumnElement:
    """SUM as an exact integer on both backends (PostgreSQL sums bigint into numeric)."""
    return sa.cast(sa.func.coalesce(sa.func.sum(expr), 0), sa.BigInteger)


def money_position(read: frames.Read, partner_id: str, as_of: dt.date | None,
                   loaded: Mapping[str, pd.DataFrame]) -> MoneyPosition:
    """The partner's position, read through `read` (frames.reader) and from the frames already
    `loaded` from the same snapshot (platform_payments, platform_invoices, xero_payments, as
    diffs.reconcile_queries reads them): landed payments and writes in doubt are summed by the
    database, our written payments from the frames, payouts come back row by row with their
    latest payout write."""
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
    queries = {"in_doubt": _ours_in_doubt(partner_id, is_bank, day),
               "excluded": _not_counted(partner_id, day)}
    if account:
        queries["landed"] = _landed_into(partner_id, account, day)
    got = read(queries)
    position.awaiting_payout_minor += int(got["landed"].iloc[0, 0]) if account else 0
    position.awaiting_payout_minor += _ours_written(loaded, got["excluded"]["payment_id"],
                                                    is_bank, counts_landed=bool(account))
    position.in_doubt_minor += int(got["in_doubt"].iloc[0, 0])
    _add_payouts(read, partner_id, position, is_bank, day)
    return position


def _landed_into(partner_id: str, account: str, day: dt.date):
    """Live landed Xero payments into the payments account up to `day` (ACCREC +, ACCPAY -).

    Bills (ACCPAY) are few: their ids are hashed once, rather than joining every landed payment
    to its invoice for the type."""
    xp, xi = xero_payments.c, xero_invoices.c
    bills = sa.select(xi.invoice_id).where(xi.partner_id == partner_id, xi.type == "ACCPAY")
    signed = sa.case((xp.invoice_id.in_(bills), -xp.amount_minor), else_=xp.amount_minor)
    return (sa.select(_sum(signed))
            .where(xp.partner_id == partner_id, xp.account_id == account,
                   xp.status != "DELETED", xp.date <= day),
            {"sum": "int64"})


def _ours(partner_id: str, is_bank: bool, day: dt.date) -> list[sa.ColumnElement]:
    """Alternative payments into the payments account, paid up to `day`."""
    p, i = payments.c, invoices.c
    into_payments = [] if is_bank else [i.source == "xero"]
    return [p.partner_id == partner_id, p.source == "alternative", p.paid_on <= day, *into_payments]


def _not_counted(partner_id: str, day: dt.date):
    """Ours that never count as written: paid after `day`, or undone (the latest delete row
    is done: a delete_payment row decides when there is one, else a delete_deposit row). Both
    are rare: deletes are looked at for the few payments that have one."""
    p = payments.c
    deletes = _latest_writes(partner_id, ("delete_payment", "delete_deposit"))

    def status_of(kind: str) -> sa.ColumnElement:
        return sa.func.max(sa.case((deletes.c.kind == kind, deletes.c.status)))

    undone = (sa.select(deletes.c.subject_id.label("payment_id"))
              .group_by(deletes.c.subject_id)
              .having(sa.func.coalesce(status_of("delete_payment"), status_of("delete_deposit"))
                      == "done"))
    later = sa.select(p.payment_id).where(p.partner_id == partner_id, p.source == "alternative",
                                          p.paid_on > day)
    return sa.union(undone, later), {"payment_id": "str"}


def _ours_written(loaded: Mapping[str, pd.DataFrame], excluded: pd.Series, is_bank: bool, *,
                  counts_landed: bool) -> int:
    """Ours into the payments account written to Xero (not excluded), less those on Xero
    invoices already landed when `counts_landed` (the landed sum has them), from the frames:
    the joins to invoices and landed payments are made on arrays, not again by the database."""
    pp, pi, xp = loaded["platform_payments"], loaded["platform_invoices"], loaded["xero_payments"]
    pos = pd.Index(pi["invoice_id"]).get_indexer(pp["invoice_id"].to_numpy())
    on_xero = (pos >= 0) & (pi["source"].eq("xero").to_numpy(dtype=bool)[pos] if len(pi)
                            else np.zeros(len(pp), dtype=bool))
    stored = pp["xero_payment_id"]
    count = ((pos >= 0) & (on_xero | is_bank) & pp["source"].eq("alternative").to_numpy(dtype=bool)
             & stored.notna().to_numpy(dtype=bool) & stored.ne("").fillna(False).to_numpy(dtype=bool)
             & ~pp["payment_id"].isin(excluded).to_numpy(dtype=bool))
    if counts_landed:
        landed = pc.is_in(_arrow(stored), value_set=_arrow(xp["payment_id"]))
        count &= ~(on_xero & landed.fill_null(False).to_numpy(zero_copy_only=False))
    return int(pp["amount_minor"].to_numpy(dtype=np.int64)[count].sum())


def _arrow(column: pd.Series) -> pa.Array:
    values = pa.array(column.array) if len(column) else pa.array([], pa.large_string())
    return values.cast(pa.large_string())


def _ours_in_doubt(partner_id: str, is_bank: bool, day: dt.date):
    """Ours whose latest write (payment on a Xero invoice, else deposit) is of unknown outcome;
    only the few payments with a write in doubt are looked at."""
    p, i, o = payments.c, invoices.c, outbox.c
    doubted = sa.select(o.subject_id).where(o.partner_id == partner_id, o.status.in_(IN_DOUBT))
    writes = _latest_writes(partner_id, ("payment", "deposit"), subjects=doubted)
    kind = sa.case((i.source == "xero", "payment"), else_="deposit")
    return (sa.select(_sum(p.amount_minor))
            .select_from(payments.join(invoices, i.invoice_id == p.invoice_id)
                         .join(writes, sa.and_(writes.c.subject_id == p.payment_id,
                                               writes.c.kind == kind)))
            .where(*_ours(partner_id, is_bank, day), writes.c.status.in_(IN_DOUBT)),
            {"sum": "int64"})


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
    listed_ids = sorted({pid for comp in compositions if comp is not None
                         for pid, _ in comp.deposits}) if not is_bank else []
    written, deposit_status = _deposit_writes(read, partner_id, listed_ids) if listed_ids \
        else (set(), {})
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


def _deposit_writes(read: frames.Read, partner_id: str,
                    listed: list[str]) -> tuple[set[str], dict[tuple[str, str], str]]:
    """Of the payments payouts list as stand-alone deposits: those written to Xero, and the
    latest deposit / delete_deposit status per payment. Read column-wise and matched in Arrow
    (a partner may have many written payments; only the listed ones become Python strings)."""
    p = payments.c
    latest = _latest_writes(partner_id, ("deposit", "delete_deposit"))
    got = read({
        "written": (sa.select(p.payment_id).where(
            p.partner_id == partner_id, p.source == "alternative", p.xero_payment_id.is_not(None)),
            {"payment_id": "str"}),
        "status": (sa.select(latest.c.subject_id, latest.c.kind, latest.c.status),
                   {"subject_id": "str", "kind": "str", "status": "str"}),
    })
    wanted = pa.array(listed, type=pa.large_string())
    found = pc.is_in(wanted, value_set=pa.array(got["written"]["payment_id"].array)
                     .cast(pa.large_string())).to_pylist()
    st = got["status"]
    return ({pid for pid, yes in zip(listed, found) if yes},
            dict(zip(zip(st["subject_id"].tolist(), st["kind"].tolist()), st["status"].tolist())))
