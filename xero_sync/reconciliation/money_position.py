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

from xero_sync.reconciliation import frames
from xero_sync.store.schema import (
    outbox,
    payments,
    payouts,
    xero_connections,
    xero_invoices,
    xero_payments,
)
from xero_sync.store.states import OutboxStatus
from xero_sync.sync import ledger
from xero_sync.sync.currency import to_base_minor
from xero_sync.sync.diff_rows import IN_FLIGHT_OUTBOX

IN_DOUBT = (OutboxStatus.SENDING, OutboxStatus.UNKNOWN)


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
    # Why the payments account's balance cannot be compared in the base currency (a foreign
    # amount whose rate is not known): said plainly in the diff instead of a wrong comparison.
    unverifiable: list[str] = field(default_factory=list)

    def unverifiable_because(self) -> str | None:
        if not self.unverifiable:
            return None
        return ("the payments account's balance cannot be verified in the base currency "
                f"({self.currency or 'unknown'}): " + "; ".join(self.unverifiable) + "; check it in Xero")


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
                == OutboxStatus.DONE}


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
    writes = LatestWrites(loaded["outbox"])
    ours = _ours(loaded, set(got["later"]["payment_id"].tolist()), is_bank)
    written = _ours_written(loaded, ours, writes.undone(), counts_landed=bool(account))
    foreign_landed = (read({"foreign": _foreign_into(partner_id, account, day, currency)})["foreign"]
                      if account else None)
    # Without a stored base currency (connected before it was read): the currency every payment
    # into the account is in, when there is exactly one.
    found = _currencies_found(loaded, ours, foreign_landed)
    base = currency or (next(iter(found)) if len(found) == 1 else None)
    position = MoneyPosition(account, base)
    if base is None and len(found) > 1:
        position.unverifiable.append(f"payments in {', '.join(sorted(found))} and the organisation's "
                                     "base currency not read from Xero yet")
    if account:
        landed = read({"landed": _landed_into(partner_id, account, day, base)})["landed"]
        position.awaiting_payout_minor += int(landed.iloc[0, 0])
        position.awaiting_payout_minor += _converted(foreign_landed, base, position.unverifiable)
    position.awaiting_payout_minor += _in_base(loaded, written, base, position.unverifiable,
                                               "written to Xero and not landed yet (rate unknown)")
    doubted = _ours_in_doubt(loaded, ours, writes)
    position.in_doubt_minor += _in_base(loaded, doubted, base, position.unverifiable,
                                        "of unknown outcome (rate unknown)")
    _add_payouts(read, partner_id, position, is_bank, day, loaded, writes)
    return position


def _landed_into(partner_id: str, account: str, day: dt.date,
                 base: str | None) -> tuple[sa.Select, frames.Spec]:
    """Live landed Xero payments in the base currency (or with none: Xero omits it on some) into
    the payments account up to `day` (ACCREC +, ACCPAY -).

    Bills (ACCPAY) are few: their ids are hashed once, rather than joining every landed payment
    to its invoice for the type."""
    xp, xi = xero_payments.c, xero_invoices.c
    bills = sa.select(xi.invoice_id).where(xi.partner_id == partner_id, xi.type == "ACCPAY")
    signed = sa.case((xp.invoice_id.in_(bills), -xp.amount_minor), else_=xp.amount_minor)
    total = sa.cast(sa.func.coalesce(sa.func.sum(signed), 0), sa.BigInteger)  # numeric on PG
    query = sa.select(total).where(xp.partner_id == partner_id, xp.account_id == account,
                                   xp.status != "DELETED", xp.date <= day)
    if base is not None:
        query = query.where(sa.or_(xp.currency.is_(None), xp.currency == base))
    return query, {"sum": "int64"}


def _foreign_into(partner_id: str, account: str, day: dt.date,
                  base: str | None) -> tuple[sa.Select, frames.Spec]:
    """Live landed payments into the payments account up to `day` in another currency than the
    base (all with a currency when the base is not stored: _converted skips those found to be in
    it), with the rate Xero booked them at."""
    xp, xi = xero_payments.c, xero_invoices.c
    bills = sa.select(xi.invoice_id).where(xi.partner_id == partner_id, xi.type == "ACCPAY")
    query = sa.select(xp.amount_minor, xp.currency, xp.currency_rate,
                      xp.invoice_id.in_(bills)).where(
        xp.partner_id == partner_id, xp.account_id == account, xp.status != "DELETED",
        xp.date <= day, xp.currency.is_not(None))
    if base is not None:
        query = query.where(xp.currency != base)
    return query, {"amount_minor": "int64", "currency": "str", "rate": "str", "bill": "bool"}


def _currencies_found(loaded: Mapping[str, pd.DataFrame], ours: np.ndarray,
                      landed: pd.DataFrame | None) -> set[str]:
    found = {str(c) for c in _currencies(loaded, ours).tolist() if isinstance(c, str) and c}
    if landed is not None:
        found |= {str(c) for c in landed["currency"].tolist() if isinstance(c, str) and c}
    return found


def _currencies(loaded: Mapping[str, pd.DataFrame], mask: np.ndarray) -> np.ndarray:
    """Per platform payment selected by `mask`: its invoice's currency."""
    pp, pi = loaded["platform_payments"], loaded["platform_invoices"]
    pos = pd.Index(pi["invoice_id"]).get_indexer(pp["invoice_id"].to_numpy()[mask])
    currencies = pi["currency"].to_numpy(dtype=object)
    return np.array([currencies[p] if p >= 0 else None for p in pos], dtype=object)


def _converted(foreign: pd.DataFrame | None, base: str | None, unverifiable: list[str]) -> int:
    """The landed foreign payments in base minor units, each at the rate Xero booked it at."""
    if foreign is None or foreign.empty:
        return 0
    total, missing = 0, set()
    for amount, cur, rate, bill in zip(foreign["amount_minor"].tolist(), foreign["currency"].tolist(),
                                       foreign["rate"].tolist(), foreign["bill"].tolist()):
        if base is None or cur == base:
            continue  # not known (said above) / summed by the database with the base currency
        value = to_base_minor(int(amount), str(cur), None if pd.isna(rate) else str(rate), base)
        if value is None:
            missing.add(str(cur))
            continue
        total += -value if bill else value
    if missing:
        unverifiable.append(f"payments in {', '.join(sorted(missing))} landed without a rate "
                            "Xero booked them at")
    return total


def _in_base(loaded: Mapping[str, pd.DataFrame], mask: np.ndarray, base: str | None,
             unverifiable: list[str], what: str) -> int:
    """Our payments selected by `mask`, in base minor units: those in the base currency are
    summed; others (no rate known for them yet) make the balance unverifiable."""
    if not mask.any():
        return 0
    amounts = loaded["platform_payments"]["amount_minor"].to_numpy(dtype=np.int64)[mask]
    currencies = _currencies(loaded, mask)
    in_base = np.array([c == base or base is None for c in currencies], dtype=bool)
    others = sorted({str(c) for c in currencies[~in_base]})
    if others:
        unverifiable.append(f"our payments in {', '.join(others)} {what}")
    return int(amounts[in_base].sum())


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
                  counts_landed: bool) -> np.ndarray:
    """Per platform payment: ours, written to Xero and not undone, less those on Xero invoices
    already landed when `counts_landed` (the landed sums have them): matched on arrays, not
    joined by the database."""
    pp, xp = loaded["platform_payments"], loaded["xero_payments"]
    stored = pp["xero_payment_id"]
    count = (ours & stored.notna().to_numpy(dtype=bool)
             & stored.ne("").fillna(False).to_numpy(dtype=bool)
             & ~pp["payment_id"].isin(undone).to_numpy(dtype=bool))
    if counts_landed:
        landed = pc.is_in(_arrow(stored), value_set=_arrow(xp["payment_id"]))
        count &= ~(_invoice_of(loaded)[1] & landed.fill_null(False).to_numpy(zero_copy_only=False))
    return count


def _ours_in_doubt(loaded: Mapping[str, pd.DataFrame], ours: np.ndarray,
                   writes: LatestWrites) -> np.ndarray:
    """Per platform payment: ours whose latest write (payment on a Xero invoice, else deposit)
    is of unknown outcome."""
    pp = loaded["platform_payments"]
    doubted = writes.of_kinds(("payment", "deposit"), IN_DOUBT)
    mask = np.zeros(len(pp), dtype=bool)
    if not doubted:
        return mask
    rows = ours & pp["payment_id"].isin([pid for pid, _ in doubted]).to_numpy(dtype=bool)
    on_xero = _invoice_of(loaded)[1]
    ids = pp["payment_id"].to_numpy(dtype=object)
    for i in np.flatnonzero(rows):
        mask[i] = (ids[i], "payment" if on_xero[i] else "deposit") in doubted
    return mask


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
                  write.c.payload, po.currency)
        .outerjoin(write, write.c.subject_id == po.payout_id).where(po.partner_id == partner_id),
        {"payout_id": "str", "net_minor": "int64", "paid_out": "bool", "status": "str",
         "payload": "str", "currency": "str"})})["payouts"]
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
    currency_of = dict(zip(ids, rows["currency"].tolist()))
    foreign_payouts: set[str] = set()
    for payout_id, net, out, status, composition in zip(ids, nets, paid_out, statuses, compositions):
        if composition is None:
            position.payouts[payout_id] = PayoutMoney(net, 0, False)
            continue
        moved = composition.moved(payments_account_is_bank=is_bank)
        if moved and currency_of[payout_id] != position.currency and (
                (out and status == OutboxStatus.DONE) or status in IN_DOUBT):
            foreign_payouts.add(currency_of[payout_id])
        if out and status == OutboxStatus.DONE:
            position.awaiting_payout_minor -= moved
        elif status in IN_DOUBT:
            position.in_doubt_minor -= moved
        listed, in_flight = 0, False
        if not is_bank:
            for pid, amount in composition.deposits:
                kind = "deposit" if amount > 0 else "delete_deposit"
                deposit = deposit_status.get((pid, kind))
                in_flight |= deposit in IN_FLIGHT_OUTBOX
                if (pid in written if amount > 0 else deposit == OutboxStatus.DONE):
                    listed += amount
        position.payouts[payout_id] = PayoutMoney(
            composition.deposit_account_movement(payments_account_is_bank=is_bank), listed, in_flight)
    if foreign_payouts and position.currency is not None:
        # Xero converts a payout's writes at the rate of the day; we do not read it back.
        position.unverifiable.append(f"payouts in {', '.join(sorted(foreign_payouts))} moved money "
                                     "out of it at a rate not read from Xero")


def _composition(payload: str | None) -> ledger.PayoutComposition | None:
    """The payout write's composition; None without a write or with a payload that is not one."""
    if payload is None:
        return None
    try:
        return ledger.payout_composition(json.loads(payload))
    except ValueError:
        return None
