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
    # Currencies of the payments reaching the payments account (landed from Xero, and ours):
    # its balance is comparable only when they are all the account's (the base) currency.
    payment_currencies: set[str] = field(default_factory=set)

    def unverifiable_because(self) -> str | None:
        """Why the payments account's balance cannot be compared, in words (None: it can)."""
        base = self.currency or (next(iter(self.payment_currencies))
                                 if len(self.payment_currencies) == 1 else None)
        foreign = sorted(self.payment_currencies - {base}) if base else sorted(self.payment_currencies)
        if not foreign:
            return None
        return (f"payments in {', '.join(sorted(self.payment_currencies))} reach the payments "
                f"account (organisation base currency {base or 'unknown'}): its balance cannot be "
                "verified in one currency; check it in Xero")


class LatestWrites:
    """The latest outbox row per (subject, kind), from the partner's outbox rows in outbox_id
    order (diffs.reconcile_queries' "outbox" frame: subject_id, kind, status)."""

    def __init__(self, outbox_rows: pd.DataFrame) -> None:
        self.rows = outbox_rows.drop_duplicates(["subject_id", "kind"], keep="last")

    def of_kinds(self, kinds: tuple[str, ...], statuses: tuple[str, ...] | None = None
                 ) -> dict[tuple[str, str], str]:
        """(subject_id, kind) -> status for the given kinds (and only those statuses)."""
        r = self.rows
        keep = r["kind"].isin(kinds) & (r["status"].isin(statuses) if statuses else True)
        r = r.loc[keep.to_numpy(dtype=bool)]
        return dict(zip(zip(r["subject_id"].tolist(), r["kind"].tolist()), r["status"].tolist()))

    def undone(self) -> set[str]:
        """Payments whose delete is done: a delete_payment row decides when there is one, else
        a delete_deposit row."""
        deletes = self.of_kinds(("delete_payment", "delete_deposit"))
        return {pid for pid, _ in deletes
                if (deletes.get((pid, "delete_payment")) or deletes.get((pid, "delete_deposit")))
                == "done"}


def money_position(read: frames.Read, partner_id: str, as_of: dt.date | None,
                   loaded: Mapping[str, pd.DataFrame]) -> MoneyPosition:
    """The partner's position, from the frames `loaded` from one snapshot (platform_payments,
    platform_invoices, xero_payments and the ordered outbox rows, as diffs.reconcile_queries
    reads them) and a few reads through `read` (frames.reader, same snapshot): the connection,
    the payments paid after `as_of`, the landed payments into the payments account (summed by
    the database) and the payouts with their latest payout write's payload."""
    c, p = xero_connections.c, payments.c
    day = as_of or dt.date.max
    queries: frames.Queries = {
        "connection": (
            sa.select(c.payments_account_id, sa.func.coalesce(c.payments_account_is_bank, False),
                      c.base_currency).where(c.partner_id == partner_id),
            {"account": "str", "is_bank": "bool", "currency": "str"}),
        "later": (sa.select(p.payment_id).where(p.partner_id == partner_id,
                                                p.source == "alternative", p.paid_on > day),
                  {"payment_id": "str"}),
    }
    got = read(queries)
    found = got["connection"]
    row = found.iloc[0] if len(found) else None
    account = None if row is None or pd.isna(row["account"]) else str(row["account"])
    is_bank = bool(row is not None and row["is_bank"])
    currency = None if row is None or pd.isna(row["currency"]) else str(row["currency"])
    position = MoneyPosition(account, currency)
    if account:
        landed = read({"landed": _landed_into(partner_id, account, day),
                       "currencies": _currencies_into(partner_id, account, day)})
        position.awaiting_payout_minor += int(landed["landed"].iloc[0, 0])
        position.payment_currencies |= {str(c) for c in landed["currencies"]["currency"].tolist()
                                        if isinstance(c, str) and c}
    writes = LatestWrites(loaded["outbox"])
    ours = _ours(loaded, set(got["later"]["payment_id"].tolist()), is_bank)
    position.payment_currencies |= _currencies_of(loaded, ours)
    position.awaiting_payout_minor += _ours_written(loaded, ours, writes.undone(),
                                                    counts_landed=bool(account))
    position.in_doubt_minor += _ours_in_doubt(loaded, ours, writes)
    _add_payouts(read, partner_id, position, is_bank, day, loaded, writes)
    return position


def _landed_into(partner_id: str, account: str, day: dt.date) -> tuple[sa.Select, frames.Spec]:
    """Live landed Xero payments into the payments account up to `day` (ACCREC +, ACCPAY -).

    Bills (ACCPAY) are few: their ids are hashed once, rather than joining every landed payment
    to its invoice for the type."""
    xp, xi = xero_payments.c, xero_invoices.c
    bills = sa.select(xi.invoice_id).where(xi.partner_id == partner_id, xi.type == "ACCPAY")
    signed = sa.case((xp.invoice_id.in_(bills), -xp.amount_minor), else_=xp.amount_minor)
    total = sa.cast(sa.func.coalesce(sa.func.sum(signed), 0), sa.BigInteger)  # numeric on PG
    return (sa.select(total).where(xp.partner_id == partner_id, xp.account_id == account,
                                   xp.status != "DELETED", xp.date <= day),
            {"sum": "int64"})


def _currencies_into(partner_id: str, account: str, day: dt.date) -> tuple[sa.Select, frames.Spec]:
    """The currencies of the live landed payments into the payments account up to `day`."""
    xp = xero_payments.c
    return (sa.select(xp.currency).distinct().where(
        xp.partner_id == partner_id, xp.account_id == account, xp.status != "DELETED", xp.date <= day),
        {"currency": "str"})


def _currencies_of(loaded: Mapping[str, pd.DataFrame], ours: np.ndarray) -> set[str]:
    """The currencies (their invoices') of our payments into the payments account."""
    pp, pi = loaded["platform_payments"], loaded["platform_invoices"]
    if not ours.any():
        return set()
    pos = pd.Index(pi["invoice_id"]).get_indexer(pp["invoice_id"].to_numpy()[ours])
    return {str(c) for c in pi["currency"].to_numpy(dtype=object)[pos[pos >= 0]] if isinstance(c, str) and c}


def _invoice_of(loaded: Mapping[str, pd.DataFrame]) -> tuple[np.ndarray, np.ndarray]:
    """Per platform payment: (its invoice is in the frame, that invoice is a Xero one)."""
    pp, pi = loaded["platform_payments"], loaded["platform_invoices"]
    pos = pd.Index(pi["invoice_id"]).get_indexer(pp["invoice_id"].to_numpy())
    found = pos >= 0
    on_xero = found & (pi["source"].eq("xero").to_numpy(dtype=bool)[pos] if len(pi) else found)
    return found, on_xero


def _ours(loaded: Mapping[str, pd.DataFrame], later: set[str], is_bank: bool) -> np.ndarray:
    """Per platform payment: ours (Alternative's) into the payments account (on a Xero invoice,
    or any with a BANK payments account), paid up to the position's date. A payment whose
    invoice is not in the frame does not count (the SQL this replaces joined it to it)."""
    pp = loaded["platform_payments"]
    found, on_xero = _invoice_of(loaded)
    return (found & (on_xero | is_bank) & pp["source"].eq("alternative").to_numpy(dtype=bool)
            & ~pp["payment_id"].isin(later).to_numpy(dtype=bool))


def _ours_written(loaded: Mapping[str, pd.DataFrame], ours: np.ndarray, undone: set[str], *,
                  counts_landed: bool) -> int:
    """Ours written to Xero and not undone, less those on Xero invoices already landed when
    `counts_landed` (the landed sum has them): matched on arrays, not joined by the database."""
    pp, xp = loaded["platform_payments"], loaded["xero_payments"]
    stored = pp["xero_payment_id"]
    count = (ours & stored.notna().to_numpy(dtype=bool)
             & stored.ne("").fillna(False).to_numpy(dtype=bool)
             & ~pp["payment_id"].isin(undone).to_numpy(dtype=bool))
    if counts_landed:
        landed = pc.is_in(_arrow(stored), value_set=_arrow(xp["payment_id"]))
        count &= ~(_invoice_of(loaded)[1] & landed.fill_null(False).to_numpy(zero_copy_only=False))
    return int(pp["amount_minor"].to_numpy(dtype=np.int64)[count].sum())


def _ours_in_doubt(loaded: Mapping[str, pd.DataFrame], ours: np.ndarray,
                   writes: LatestWrites) -> int:
    """Ours whose latest write (payment on a Xero invoice, else deposit) is of unknown outcome."""
    doubted = writes.of_kinds(("payment", "deposit"), IN_DOUBT)
    if not doubted:
        return 0
    pp = loaded["platform_payments"]
    rows = ours & pp["payment_id"].isin([pid for pid, _ in doubted]).to_numpy(dtype=bool)
    on_xero = _invoice_of(loaded)[1][rows]
    return sum(int(amount) for pid, amount, xero in zip(
        pp["payment_id"].to_numpy(dtype=object)[rows] if rows.any() else [],
        pp["amount_minor"].to_numpy(dtype=np.int64)[rows], on_xero)
        if (pid, "payment" if xero else "deposit") in doubted)


def _arrow(column: pd.Series) -> pa.Array:
    values = pa.array(column.array) if len(column) else pa.array([], pa.large_string())
    return values.cast(pa.large_string())


def _add_payouts(read: frames.Read, partner_id: str, position: MoneyPosition, is_bank: bool,
                 day: dt.date, loaded: Mapping[str, pd.DataFrame], writes: LatestWrites) -> None:
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
    written, deposit_status = set(), {}
    if listed_ids:
        pp = loaded["platform_payments"]
        mine = (pp["payment_id"].isin(listed_ids) & pp["source"].eq("alternative")
                & pp["xero_payment_id"].notna()).to_numpy(dtype=bool)
        written = set(pp["payment_id"].loc[mine].tolist())
        deposit_status = writes.of_kinds(("deposit", "delete_deposit"))
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
