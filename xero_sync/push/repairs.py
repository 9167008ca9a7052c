"""The reconciliation diff's second look at Xero, before anything is repaired (issue 17).

The diff compares listings; a listing that does not show a write yet is never evidence that it
is gone. For every `payment_missing_in_xero` / `payout_not_recorded` row whose latest write is
`done`, Xero is asked directly (sync.repair_rules names the verdicts):

- the record the write created, fetched by its Xero id (GET /Payments/{id},
  /BankTransactions/{id}, /BankTransfers/{id}): DELETED or VOIDED -> gone; shown live -> present
  (the listing is behind); not shown -> in flight while the write is younger than the settle bound
  S + B + L (push/settle.py), else unconfirmed;
- a write whose ids were never learned: in flight before the settle bound; after it, looked up by
  reference: nothing live -> absent; found -> present.

A gone or absent write that was itself a repair is "deleted again": a person deleted it twice, and
it is not re-created without them (`xero-sync outbox requeue`). The deposit account's RECEIVEs
around the latest payouts are read too (one paged GET), for the possible-manual-booking warning.
No Dagster here: the reconciliation asset calls `second_look` under the tenant's lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa

from xero_sync.core.money import to_minor
from xero_sync.store.connections import Connection
from xero_sync.store.outbox import REPAIRABLE
from xero_sync.store.schema import outbox, payouts
from xero_sync.push.settle import Timing
from xero_sync.sync import repair_rules
from xero_sync.sync.repair_rules import Evidence, Payout, Receive
from xero_sync.xero.client import XeroClient
from xero_sync.store.states import OutboxStatus

GONE_STATUSES = ("DELETED", "VOIDED")
MAX_PAYOUTS_CHECKED = 200  # the latest payouts looked at for manual bookings


@dataclass
class SecondLook:
    """The diff after the second look, and the writes that may be re-queued (with their proof)."""

    diff: pd.DataFrame
    proofs: dict[str, Evidence] = field(default_factory=dict)
    evidence: dict[str, Evidence] = field(default_factory=dict)
    calls: int = 0


def second_look(engine: sa.Engine, client: XeroClient, connection: Connection,
                diff: pd.DataFrame, *, timing: Timing | None = None,
                now: dt.datetime | None = None) -> SecondLook:
    """Evidence for the diff's repair rows and the manual-booking warnings, applied to `diff`."""
    timing = timing or Timing(in_flight_seconds=client.longest_write_seconds())
    now = now or dt.datetime.fromtimestamp(client.clock(), tz=dt.timezone.utc)
    calls_before = client.stats()["calls"]
    evidence = gather_evidence(engine, client, connection.partner_id, diff, timing=timing, now=now)
    warnings = manual_booking_rows(engine, client, connection)
    manual = set(warnings["subject_id"].astype(str)) if len(warnings) else set()
    checked, proofs = repair_rules.apply(diff, evidence, manual)
    if len(warnings):
        checked = pd.concat([checked, warnings], ignore_index=True) if len(checked) else warnings
    return SecondLook(checked, proofs, evidence, client.stats()["calls"] - calls_before)


def _candidates(diff: pd.DataFrame) -> list[str]:
    if diff.empty:
        return []
    m = diff["kind"].isin(repair_rules.REPAIR_KINDS) & ~diff["explained"].astype(bool)
    return sorted(set(diff.loc[m, "subject_id"].astype(str)))


def _latest_writes(engine: sa.Engine, partner_id: str, subjects: Sequence[str]) -> Sequence[sa.Row]:
    o = outbox.c
    newest = (sa.select(sa.func.max(o.outbox_id).label("outbox_id"))
              .where(o.partner_id == partner_id, o.subject_id.in_(list(subjects)),
                     o.kind.in_(REPAIRABLE))
              .group_by(o.subject_id).subquery())
    with engine.connect() as conn:
        return conn.execute(
            sa.select(o.outbox_id, o.kind, o.subject_id, o.status, o.reference, o.payload,
                      o.xero_ids, o.sent_at, o.updated_at, o.repairs_outbox_id)
            .join(newest, newest.c.outbox_id == o.outbox_id)
        ).all()


def gather_evidence(engine: sa.Engine, client: XeroClient, partner_id: str, diff: pd.DataFrame,
                    *, timing: Timing, now: dt.datetime) -> dict[str, Evidence]:
    """subject id -> Evidence for each repair row of `diff` whose latest write is done."""
    subjects = _candidates(diff)
    if not subjects:
        return {}
    found: dict[str, Evidence] = {}
    for w in _latest_writes(engine, partner_id, subjects):
        if w.status != OutboxStatus.DONE:
            continue  # pending, in doubt, rejected: the diff's own rules say what it is
        verdict, seen = _verdict(client, w, timing, now)
        if verdict in repair_rules.PROOF and w.repairs_outbox_id is not None:
            verdict = repair_rules.DELETED_AGAIN
            seen += f"; this write (outbox {w.outbox_id}) already repaired outbox {w.repairs_outbox_id}"
        found[w.subject_id] = Evidence(w.subject_id, w.outbox_id, verdict, seen)
    return found


def _verdict(client: XeroClient, w: sa.Row, timing: Timing, now: dt.datetime) -> tuple[str, str]:
    """Every record the write created, fetched by id: all gone -> GONE, all live -> PRESENT; some
    not shown -> IN_FLIGHT before the settle bound, else UNCONFIRMED; some gone and some live
    (e.g. a payout's fees SPEND kept) -> UNCONFIRMED: re-creating the whole write would double
    what is left. No id at all: a look-up by reference, only after the settle bound."""
    sent = w.sent_at or w.updated_at
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=dt.timezone.utc)
    settled = now >= sent + dt.timedelta(seconds=timing.in_flight_seconds + timing.read_lag_seconds)
    fetchers = {"PaymentID": client.payment_by_id, "BankTransactionID": client.bank_transaction_by_id,
                "FeesBankTransactionID": client.bank_transaction_by_id,
                "BankTransferID": client.bank_transfer_by_id}
    ids = w.xero_ids or {}
    known = [(name, ids[name]) for name in fetchers if ids.get(name)]
    if known:
        seen: dict[str, list[str]] = {"gone": [], "live": [], "unseen": []}
        for name, xero_id in known:
            record = fetchers[name](xero_id)
            status = getattr(record, "status", None) if record is not None else None
            state = "unseen" if record is None else "gone" if status in GONE_STATUSES else "live"
            seen[state].append(f"{name} {xero_id}" + (f" {status}" if state == "gone" else ""))
        said = "; ".join(f"{state}: {', '.join(v)}" for state, v in seen.items() if v) + \
            " (fetched by id)"
        if seen["gone"] and not (seen["live"] or seen["unseen"]):
            return repair_rules.GONE, f"{' and '.join(seen['gone'])} in Xero (fetched by id)"
        if seen["live"] and not (seen["gone"] or seen["unseen"]):
            return repair_rules.PRESENT, f"{', '.join(seen['live'])} live in Xero (fetched by id)"
        if seen["unseen"] and not seen["gone"] and not settled:
            return repair_rules.IN_FLIGHT, (f"not shown yet, {said}; written at "
                                            f"{sent:%Y-%m-%d %H:%M:%S} UTC, within the settle bound")
        return repair_rules.UNCONFIRMED, said
    if not settled:
        return repair_rules.IN_FLIGHT, (f"written at {sent:%Y-%m-%d %H:%M:%S} UTC, within the "
                                        "settle bound; no id to fetch")
    if _found_by_reference(client, w):
        return repair_rules.PRESENT, f"found in Xero by reference {w.reference}"
    return repair_rules.ABSENT, (f"no id was ever learned and nothing live has reference "
                                 f"{w.reference} in Xero (looked up after the settle bound)")


def _found_by_reference(client: XeroClient, w: sa.Row) -> bool:
    if w.kind == "payment":
        return any(p.status not in GONE_STATUSES for p in client.find_payments(w.reference))
    reference = w.reference if w.kind == "payout" else \
        f"{(w.payload or {}).get('invoice_number')} {w.reference}"
    if any(t.status not in GONE_STATUSES for t in client.find_bank_transactions(reference)):
        return True
    return w.kind == "payout" and bool(client.find_bank_transfers(reference))


# --- possible manual bookings --------------------------------------------------------------------


def manual_booking_rows(engine: sa.Engine, client: XeroClient, connection: Connection) -> pd.DataFrame:
    """Warning rows for RECEIVEs into the deposit account that look like a payout booked by hand
    (sync.repair_rules.manual_bookings); empty without a deposit account or payouts."""
    empty = repair_rules.manual_bookings([], [], [], [])
    if not connection.deposit_account_id:
        return empty
    po = payouts.c
    with engine.connect() as conn:
        recent = conn.execute(
            sa.select(po.payout_id, po.net_minor, po.paid_out_on, po.currency)
            .where(po.partner_id == connection.partner_id, po.net_minor > 0)
            .order_by(po.paid_out_on.desc(), po.payout_id.desc()).limit(MAX_PAYOUTS_CHECKED)
        ).all()
    if not recent:
        return empty
    days = dt.timedelta(days=repair_rules.MANUAL_BOOKING_DAYS)
    since = min(r.paid_out_on for r in recent) - days
    until = max(r.paid_out_on for r in recent) + days
    currency = {r.payout_id: r.currency for r in recent}
    receives = [
        Receive(t.bank_transaction_id, t.reference or "", to_minor(t.total, recent[0].currency), t.date)
        for t in client.receives_into(connection.deposit_account_id, since, until)
    ]
    if not receives:
        return empty
    ours = _our_references(engine, connection.partner_id, receives)
    return repair_rules.manual_bookings(
        [Payout(r.payout_id, int(r.net_minor), r.paid_out_on, currency[r.payout_id]) for r in recent],
        receives, ours, [])


def _our_references(engine: sa.Engine, partner_id: str, receives: Sequence[Receive]) -> set[str]:
    """The receives' references that are ours: a payout's own reference, or a stand-alone
    deposit's "{invoice number} {payment id}" (the outbox row's reference is its last word)."""
    tokens = {word for r in receives for word in {r.reference.strip(), *r.reference.split()[-1:]}
              if word}
    if not tokens:
        return set()
    o = outbox.c
    with engine.connect() as conn:
        known = set(conn.execute(
            sa.select(o.reference).where(o.partner_id == partner_id, o.reference.in_(sorted(tokens)))
        ).scalars())
    return {r.reference.strip() for r in receives
            if r.reference.strip() in known or r.reference.split()[-1:] and r.reference.split()[-1] in known}
