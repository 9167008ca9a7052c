"""The reconciliation diff's inputs and outputs in the platform store (pandas, integer minor units).

`load_reconcile_input` reads one partner's platform rows and landed Xero rows into the frames
`sync.reconcile.diff` takes, together with what the reconciliation glue read from Xero (payout
amounts, the payments account's balance); `save_diff` replaces the partner's stored diff;
`latest_diff` reads it back; `enqueue_repairs` creates the outbox rows a push can repair with;
`payouts_to_check` lists the payouts worth looking up in Xero. No Xero I/O here: the reads are
made by xero_sync.reconciliation.xero_reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from xero_sync.reconciliation import frames
from xero_sync.store import outbox as outbox_repo
from xero_sync.reconciliation.money_position import MoneyPosition, money_position
from xero_sync.store.schema import (
    customers,
    invoices,
    outbox,
    payments,
    payouts,
    reconciliation_diffs,
    xero_invoices,
    xero_payments,
)
from xero_sync.store.states import OutboxStatus
from xero_sync.sync import id_codes, reconcile
from xero_sync.sync.reconcile import IN_FLIGHT_OUTBOX, ReconcileInput
from xero_sync.sync.repair_rules import Evidence

# The targeted pull looks at the partner's most recent payouts only, so a diff costs a bounded
# number of calls (2 references per payout, 25 per call: at most 17 calls for non-BANK).
MAX_PAYOUTS_PULLED = 200
# Outbox states in which something may already be in Xero for the payout. Pending/waiting rows
# were never sent and rejected/cancelled ones were not written: nothing to look for.
MAYBE_WRITTEN = (OutboxStatus.SENDING, OutboxStatus.UNKNOWN, OutboxStatus.HELD, OutboxStatus.DONE)


def _frame(conn: sa.Connection, query: sa.Select, columns: tuple[str, ...]) -> pd.DataFrame:
    rows = conn.execute(query).all()
    if not rows:
        return reconcile.empty_frame(columns)
    return pd.DataFrame([tuple(r) for r in rows], columns=list(columns))


def _latest_outbox(partner_id: str) -> sa.Subquery:
    """Per subject (payment or payout id): the status of its latest outbox row."""
    newest = (
        sa.select(sa.func.max(outbox.c.outbox_id).label("outbox_id"))
        .where(outbox.c.partner_id == partner_id)
        .group_by(outbox.c.subject_id)
        .subquery()
    )
    return (
        sa.select(outbox.c.subject_id, outbox.c.status)
        .join(newest, newest.c.outbox_id == outbox.c.outbox_id)
        .subquery()
    )


def payouts_to_check(conn: sa.Connection, partner_id: str,
                     limit: int = MAX_PAYOUTS_PULLED) -> dict[str, str]:
    """payout_id -> currency of the partner's payouts worth looking up in Xero: the latest
    `limit` by paid_out_on whose outbox row may have written something (MAYBE_WRITTEN)."""
    latest = _latest_outbox(partner_id)
    po = payouts.c
    rows = conn.execute(
        sa.select(po.payout_id, po.currency)
        .join(latest, latest.c.subject_id == po.payout_id)
        .where(po.partner_id == partner_id, latest.c.status.in_(MAYBE_WRITTEN))
        .order_by(po.paid_out_on.desc(), po.payout_id.desc())
        .limit(limit)
    ).all()
    return {r.payout_id: r.currency for r in rows}


# Column dtypes of the frames sync.reconcile.diff takes (frames.read_frames): text is `str`,
# money int64 minor units (Int64 where it may be missing), flags bool.
_PLATFORM_INVOICES: frames.Spec = {
    "invoice_id": "int64", "xero_invoice_id": "str", "source": "str", "status": "str",
    "outstanding_minor": "int64", "total_minor": "int64", "currency": "str",
    "deleted_in_xero": "bool", "archived": "bool", "conflict": "str",
    "xero_total_minor": "Int64", "edit_conflict": "str",
}
_XERO_INVOICES: frames.Spec = {
    "xero_invoice_id": "str", "status": "str", "amount_due_minor": "int64", "total_minor": "int64",
    "amount_paid_minor": "int64", "amount_credited_minor": "int64", "currency": "str", "type": "str",
}
_PLATFORM_PAYMENTS: frames.Spec = {
    "payment_id": "str", "invoice_id": "int64", "source": "str", "amount_minor": "int64",
    "status": "str", "payout_id": "str", "xero_payment_id": "str",
}
_XERO_PAYMENTS: frames.Spec = {
    "payment_id": "str", "invoice_id": "str", "amount_minor": "int64", "status": "str",
    "reference": "str",
}
_PAYOUTS: frames.Spec = {
    "payout_id": "str", "net_minor": "int64", "gross_minor": "int64", "fees_minor": "int64",
}
_OUTBOX: frames.Spec = {"subject_id": "str", "kind": "str", "status": "str"}
_CUSTOMERS: frames.Spec = {
    "customer_id": "int64", "xero_contact_id": "str", "deleted_in_xero": "bool", "archived": "bool",
}
_REJECTED: frames.Spec = {"outbox_id": "int64", "kind": "str", "subject_id": "str", "error": "str"}


def reconcile_queries(partner_id: str) -> dict[str, tuple[sa.Select, frames.Spec]]:
    """The statements behind ReconcileInput's frames, with their column dtypes. The payments'
    and payouts' `outbox_status` (their latest outbox row's) comes from "outbox", the
    partner's outbox rows in order, matched by load_reconcile_input."""
    p, i = payments.c, invoices.c
    x, xp, po, cu, o = xero_invoices.c, xero_payments.c, payouts.c, customers.c, outbox.c
    return {
        "platform_invoices": (sa.select(
            i.invoice_id, i.xero_invoice_id, i.source, i.status, i.outstanding_minor,
            i.total_minor, i.currency, i.deleted_in_xero, i.archived, i.conflict,
            i.xero_total_minor, i.edit_conflict,
        ).where(i.partner_id == partner_id), _PLATFORM_INVOICES),
        "xero_invoices": (sa.select(
            x.invoice_id, x.status, x.amount_due_minor, x.total_minor, x.amount_paid_minor,
            x.amount_credited_minor, x.currency, x.type,
        ).where(x.partner_id == partner_id), _XERO_INVOICES),
        "platform_payments": (sa.select(
            p.payment_id, p.invoice_id, p.source, p.amount_minor, p.status, p.payout_id,
            p.xero_payment_id,
        ).where(p.partner_id == partner_id), _PLATFORM_PAYMENTS),
        "xero_payments": (sa.select(
            xp.payment_id, xp.invoice_id, xp.amount_minor, xp.status, xp.reference,
        ).where(xp.partner_id == partner_id), _XERO_PAYMENTS),
        "payouts": (sa.select(
            po.payout_id, po.net_minor, po.gross_minor, po.fees_minor,
        ).where(po.partner_id == partner_id), _PAYOUTS),
        "outbox": (sa.select(o.subject_id, o.kind, o.status).where(o.partner_id == partner_id)
                   .order_by(o.outbox_id), _OUTBOX),
        "customers": (sa.select(
            cu.customer_id, cu.xero_contact_id, cu.deleted_in_xero, cu.archived,
        ).where(cu.partner_id == partner_id), _CUSTOMERS),
        "rejected": (sa.select(o.outbox_id, o.kind, o.subject_id, o.error).where(
            o.partner_id == partner_id, o.status == OutboxStatus.REJECTED), _REJECTED),
    }


def load_reconcile_input(conn: sa.Connection, partner_id: str,
                         xero_payout_minor: Mapping[str, int | None] | None = None, *,
                         payments_account_minor: int | None = None,
                         as_of: dt.date | None = None) -> ReconcileInput:
    """Both sides of one partner as ReconcileInput frames (money as int minor units).

    Everything is read column-wise through frames.reader (on PostgreSQL over ADBC, from one
    snapshot of committed rows, not through `conn`'s transaction; on SQLite through `conn`).
    Latest outbox statuses, pending payments and the money position's written payments are
    matched on arrays from those frames; the rarer sums are made by the database.

    `xero_payout_minor` is what the targeted pull found in Xero per payout (None = not there).
    Payouts it does not cover were not looked up: NA while nothing was sent, else (older than
    the pull's bound) the outbox's word, i.e. what the payout's writes move once its outbox row
    is done. `payments_account_minor` is the payments account's balance in Xero as at `as_of`
    (Reports/TrialBalance); None skips that check.
    """
    with frames.reader(conn) as read_frames:
        read = read_frames(reconcile_queries(partner_id))
        position = money_position(read_frames, partner_id, as_of, read)
    for name, key in (("platform_payments", "payment_id"), ("payouts", "payout_id")):
        read[name]["outbox_status"] = _latest_status(read["outbox"], read[name][key])
    _add_pending_payments(read["platform_invoices"], read["platform_payments"])
    payout_frame = read["payouts"]
    # What Xero shows for a payout: from the targeted pull when it looked; otherwise the outbox's
    # word (what its writes move once its row is done; NA while nothing was written).
    _add_payout_money(payout_frame, position)
    if xero_payout_minor:
        pulled = payout_frame["payout_id"].isin(list(xero_payout_minor)).to_numpy(dtype=bool)
        found = payout_frame["payout_id"].to_numpy(dtype=object)[pulled]
        amounts = payout_frame["xero_amount_minor"].copy()
        amounts[pulled] = pd.array([xero_payout_minor[pid] for pid in found], dtype="Int64")
        payout_frame["xero_amount_minor"] = amounts
    checked = payments_account_minor is not None and position.payments_account_id is not None
    unverified = position.unverifiable_because() if checked else None
    checked = checked and unverified is None
    return ReconcileInput(
        platform_invoices=read["platform_invoices"], xero_invoices=read["xero_invoices"],
        platform_payments=read["platform_payments"], xero_payments=read["xero_payments"],
        payouts=payout_frame, customers=read["customers"], rejected=read["rejected"],
        payments_account_balance_minor=payments_account_minor if checked else None,
        awaiting_payout_minor=position.awaiting_payout_minor if checked else None,
        currency=position.currency, in_doubt_minor=position.in_doubt_minor,
        as_of=None if as_of is None else as_of.isoformat(), balance_unverified=unverified,
    )


def _latest_status(rows: pd.DataFrame, subjects: pd.Series) -> pd.Series:
    """Per subject (payment or payout id): the status of its latest outbox row, NA when it has
    none. `rows` are the partner's outbox rows in outbox_id order; matched through integer
    codes (id_codes) rather than a join per frame in the database."""
    (subject_codes, row_codes), n = id_codes.codes(subjects, rows["subject_id"])
    last = np.full(n + 1, -1, dtype=np.int64)  # slot n answers code -1 (no row)
    np.maximum.at(last, row_codes, np.arange(len(row_codes), dtype=np.int64))
    status = id_codes.take(id_codes.labels(rows["status"]), last[subject_codes])
    return pd.Series(pd.array(status, dtype="str"), index=subjects.index)


def _add_pending_payments(invoices_frame: pd.DataFrame, payments_frame: pd.DataFrame) -> None:
    """pending_payments_minor per invoice: its succeeded Alternative payments whose latest
    outbox row is still in flight (summed from the payments frame, not by a second join)."""
    pp = payments_frame
    flying = (pp["source"].eq("alternative") & pp["status"].eq("succeeded")
              & pp["outbox_status"].isin(IN_FLIGHT_OUTBOX)).to_numpy(dtype=bool)
    pos = pd.Index(invoices_frame["invoice_id"]).get_indexer(pp["invoice_id"].to_numpy()[flying])
    pending = np.zeros(len(invoices_frame), dtype=np.int64)
    np.add.at(pending, pos[pos >= 0], pp["amount_minor"].to_numpy(dtype=np.int64)[flying][pos >= 0])
    invoices_frame.insert(invoices_frame.columns.get_loc("conflict") + 1,
                          "pending_payments_minor", pending)


def _add_payout_money(frame: pd.DataFrame, position: MoneyPosition) -> None:
    """The payout columns of sync.reconcile_money: what the payout's own writes should move in
    the deposit account, its listed stand-alone deposits there, and whether one is in flight.
    A done payout the targeted pull did not cover is taken at the outbox's word."""
    money = [position.payouts.get(pid) for pid in frame["payout_id"].tolist()]
    frame["expected_xero_minor"] = pd.array(
        [None if m is None else m.expected for m in money], dtype="Int64")
    frame["listed_deposits_minor"] = pd.array(
        [0 if m is None else m.listed for m in money], dtype="Int64")
    frame["listed_in_flight"] = np.array([m is not None and m.listed_in_flight for m in money],
                                         dtype=bool)
    done = frame["outbox_status"].eq(OutboxStatus.DONE.value).to_numpy(dtype=bool)
    word = frame["expected_xero_minor"].fillna(frame["net_minor"].astype("Int64"))
    frame["xero_amount_minor"] = word.where(done, pd.NA).astype("Int64")


def save_diff(conn: sa.Connection, partner_id: str, diff: pd.DataFrame,
              computed_at: dt.datetime | None = None) -> int:
    """Replace the partner's stored diff with `diff`; returns the number of rows stored."""
    at = computed_at or dt.datetime.now(dt.timezone.utc)
    conn.execute(sa.delete(reconciliation_diffs).where(reconciliation_diffs.c.partner_id == partner_id))
    rows = [
        {
            "partner_id": partner_id, "row_no": n, "computed_at": at,
            "kind": r.kind, "subject_type": r.subject_type, "subject_id": str(r.subject_id),
            "platform_minor": _int_or_none(r.platform_minor), "xero_minor": _int_or_none(r.xero_minor),
            "currency": None if pd.isna(r.currency) else str(r.currency),
            "explained": bool(r.explained), "action": str(r.action),
            "detail": None if pd.isna(r.detail) else str(r.detail),
        }
        for n, r in enumerate(diff.itertuples(index=False))
    ]
    if rows:
        conn.execute(sa.insert(reconciliation_diffs), rows)
    return len(rows)


def _int_or_none(value: Any) -> int | None:  # a pandas cell: None, NA or a number
    return None if value is None or pd.isna(value) else int(value)


def latest_diff(conn: sa.Connection, partner_id: str) -> pd.DataFrame:
    """The stored diff (DIFF_COLUMNS plus computed_at), in the order it was computed."""
    d = reconciliation_diffs.c
    columns = (*reconcile.DIFF_COLUMNS, "computed_at")
    frame = _frame(conn, sa.select(*(d[c] for c in columns))
                   .where(d.partner_id == partner_id).order_by(d.row_no), columns)
    for col in ("platform_minor", "xero_minor"):
        frame[col] = frame[col].astype("Int64")
    return frame


def enqueue_repairs(conn: sa.Connection, partner_id: str, diff: pd.DataFrame,
                    proofs: Mapping[str, Evidence] | None = None) -> list[str]:
    """Outbox rows that repair what the diff found a push can repair (action "push", not
    explained). A payment with no outbox row at all (e.g. recorded before the outbox existed)
    gets its first write. A done write is re-queued (outbox.requeue_repair: new row, new key,
    linked to the old one) only when `proofs` holds positive evidence for its subject that Xero
    no longer has it (push/repairs.py: fetched by id DELETED/VOIDED, or, ids never learned,
    absent from a look-up by reference after the settle bound); the evidence is kept as the new
    row's reason. Without evidence nothing done is re-queued: a listing that does not show a
    write yet proves nothing. A write already repaired is not queued again."""
    pushable = diff["action"].eq("push") & ~diff["explained"].astype(bool)
    missing = diff.loc[pushable & diff["kind"].eq("payment_missing_in_xero"), "subject_id"].astype(str)
    lost_payouts = diff.loc[pushable & diff["kind"].eq("payout_not_recorded"), "subject_id"].astype(str)
    if missing.empty and lost_payouts.empty:
        return []
    made = _first_writes(conn, partner_id, list(missing)) if not missing.empty else []
    proven = {s: p for s, p in (proofs or {}).items() if s in set(missing) | set(lost_payouts)}
    for subject, proof in sorted(proven.items()):
        outbox_id = int(proof.outbox_id)
        seen = getattr(proof, "seen", "")
        if outbox_repo.requeue_repair(conn, outbox_id, note=f"repair of outbox {outbox_id}: {seen}") \
                is not None:
            made.append(subject)
    return made


def _first_writes(conn: sa.Connection, partner_id: str, missing: list[str]) -> list[str]:
    """Outbox rows for missing payments that never had one."""
    p, i = payments.c, invoices.c
    has_row = sa.select(outbox.c.outbox_id).where(
        outbox.c.partner_id == p.partner_id, outbox.c.subject_id == p.payment_id,
        outbox.c.kind.in_(outbox_repo.WRITE_KINDS)).exists()
    orphans = conn.execute(
        sa.select(p.payment_id, p.invoice_id, p.amount_minor, p.fee_minor, p.currency, p.paid_on,
                  i.source, i.xero_invoice_id, i.number)
        .join(invoices, i.invoice_id == p.invoice_id)
        .where(p.partner_id == partner_id, p.payment_id.in_(missing), ~has_row)
    ).all()
    made = []
    for r in orphans:
        kind = "payment" if r.source == "xero" else "deposit"
        conn.execute(sa.insert(outbox).values(
            partner_id=partner_id, kind=kind, subject_id=r.payment_id,
            idempotency_key=outbox_repo.idempotency_key(partner_id, kind, r.payment_id),
            reference=r.payment_id, status=OutboxStatus.PENDING,
            payload={"payment_id": r.payment_id, "invoice_id": r.invoice_id,
                     "xero_invoice_id": r.xero_invoice_id, "invoice_number": r.number,
                     "amount_minor": int(r.amount_minor), "fee_minor": int(r.fee_minor),
                     "currency": r.currency, "date": r.paid_on.isoformat()},
        ))
        made.append(r.payment_id)
    return made
