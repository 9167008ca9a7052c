"""One push for one partner: hold the tenant's lock, claim outbox rows, write them to Xero, record
each outcome on its row. The exactly-once machinery lives beside this file:

- tenant_lock.py: one writer per tenant, liveness proven by heartbeat and pid, never guessed;
- claim.py: claiming under the lock; rows a dead pusher left `sending` become `unknown`;
- send.py: the requests, each stored with its key before it is sent, re-sent byte for byte;
- settle.py: what an `unknown` row may do now (re-send with its key, wait, or look up), and which
  refusals are ambiguous;
- landing.py: what Xero answers for a successful write is landed at once (write-through);
- accounts.py: the account setup and the clearing contact; report.py: what a push did.

Failures stay with their row: a row that cannot be written (bad reference, a refusal, a malformed
answer) is marked with its reason and the rest of the partner's outbox goes on; only a failure of
Xero itself (unavailable, daily limit, disconnected) stops the push, and its rows resume later.

No Dagster here: the push job, the benchmark and tests call `push_partner`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TypeVar

import sqlalchemy as sa

from xero_sync.store import connections, outbox
from xero_sync.store.connections import Connection
from xero_sync.store.outbox import OutboxRow
from xero_sync.store.schema import outbox as outbox_table
from xero_sync.store.schema import payments as payments_table
from xero_sync.store.states import OutboxStatus
from xero_sync.push import claim as claiming
from xero_sync.push import landing as write_through
from xero_sync.push import send
from xero_sync.push.accounts import CLEARING_CONTACT_NAME, account_setup  # noqa: F401 - kept importable
from xero_sync.push.report import PushReport
from xero_sync.push.settle import Timing, is_ambiguous
from xero_sync.store.tenant_lock import TenantLock, tenant_lock
from xero_sync.sync import ledger
from xero_sync.sync.ledger import (
    AccountSetup,
    BankTransactionWrite,
    BankTransferWrite,
    DeleteBankTransactionWrite,
    DeletePaymentWrite,
    Invalid,
    OutboxItem,
    PaymentWrite,
    PlannedWrite,
    Waiting,
)
from xero_sync.xero.client import XeroClient
from xero_sync.core.errors import (
    DailyLimitReached,
    NeedsReauth,
    OutcomeUnknown,
    TenantDisconnected,
    XeroError,
    XeroUnavailable,
    XeroValidationError,
)

PAYMENT_BATCH = 50
ACCOUNT_KINDS = ("payment", "deposit", "payout")
NEEDS_CHART = ("deposit", "payout")  # kinds whose writes need account codes and the contact
GONE_STATUSES = ("DELETED", "VOIDED")
LOOKUP_CHUNK = 25  # references per look-up call (keeps the where clause and URL short)
# Xero itself is failing or the connection is gone: stop this push; its rows resume later.
STOPS_THE_PUSH = (XeroUnavailable, DailyLimitReached, NeedsReauth, TenantDisconnected)
batch_key = send.batch_key  # kept importable from here


def push_partner(
    engine: sa.Engine,
    client: XeroClient,
    partner_id: str,
    *,
    limit: int = 200,
    lock_wait_seconds: float = 0.0,
    timing: Timing | None = None,
) -> PushReport:
    """Push up to `limit` outbox rows of one partner to Xero; see the module doc. Raises
    TenantBusy (nothing done) when another live run holds the tenant's lock."""
    report = PushReport(partner_id)
    calls_before = client.stats()["calls"]
    with engine.connect() as conn:
        connection = connections.get_connection(conn, partner_id)
    if connection is None or connection.tenant_id is None:
        raise connections.UnknownPartner(f"partner {partner_id!r} has no Xero connection")
    timing = timing or Timing(in_flight_seconds=client.longest_write_seconds())
    try:
        with tenant_lock(engine, connection.tenant_id, f"push of partner {partner_id}",
                         wait_seconds=lock_wait_seconds) as lock:
            report.recovered = claiming.recover_orphans(engine, partner_id, lock.owner)
            rows, report.held = claiming.claim(engine, partner_id, lock.owner, limit)
            report.claimed = len(rows)
            ids = [r.outbox_id for r in rows]
            try:
                _Push(engine, client, connection, report, timing, lock).run(rows)
            except Exception as exc:
                report.unknown += claiming.release_unsettled(engine, ids, f"push stopped: {exc}")
                raise
            claiming.release_unsettled(engine, ids, "not settled by this push")
    finally:
        report.calls = client.stats()["calls"] - calls_before
    return report


_T = TypeVar("_T")


def _payment(write: PlannedWrite) -> PaymentWrite:
    """A payment row's planned write (only payment rows are looked up by reference)."""
    if not isinstance(write, PaymentWrite):
        raise TypeError(f"expected a payment write, got {type(write).__name__}")
    return write


class _Push:
    """The state of one push: the partner's account setup (read lazily) and the report."""

    def __init__(self, engine: sa.Engine, client: XeroClient, connection: Connection,
                 report: PushReport, timing: Timing, lock: TenantLock) -> None:
        self.engine = engine
        self.client = client
        self.connection = connection
        self.report = report
        self.timing = timing
        self.lock = lock
        self.landing = write_through.WriteThrough(engine, client, connection.partner_id)
        self._payments_by_ref: dict[str, list] = {}

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.client.clock(), tz=dt.timezone.utc)

    # --- the batch ------------------------------------------------------------------------------

    def run(self, rows: list[OutboxRow]) -> None:
        if not self.connection.accounts_set_up:
            waiting = [r for r in rows if r.kind in ACCOUNT_KINDS]
            self._record(lambda conn: [
                outbox.mark_waiting_accounts(conn, r.outbox_id, "accounts not set up in Xero sync")
                for r in waiting
            ])
            self.report.waiting += len(waiting)
            rows = [r for r in rows if r.kind not in ACCOUNT_KINDS]
        accounts = account_setup(self.engine, self.client, self.connection,
                                 needs_chart=any(r.kind in NEEDS_CHART for r in rows))

        planned: dict[int, list[PlannedWrite]] = {}
        for row in rows:
            writes = self._isolated(row, partial(self._planned, row, accounts))
            if writes:
                planned[row.outbox_id] = writes
        by_id = {r.outbox_id: r for r in rows if r.outbox_id in planned}

        fresh = [r for r in by_id.values() if r.request_key is None and not r.ever_unknown]
        in_doubt = [r for r in by_id.values() if r not in fresh]
        now = self.now()
        decisions = {r.outbox_id: self.timing.decide(r, now) for r in in_doubt}
        for r in in_doubt:
            if decisions[r.outbox_id] == "wait":
                self._wait(r, now)

        # Inside the key window: look up first; re-send (same request, same key) only what the
        # look-up did not find (settle.py).
        check = [r for r in in_doubt if decisions[r.outbox_id] == "check"]
        self._check_payments([r for r in check if r.kind == "payment"], planned, now)
        # The settle bound has passed: look up; send what is missing.
        look = [r for r in in_doubt if decisions[r.outbox_id] == "look_up"]
        self._settle_payments([r for r in look if r.kind == "payment"], planned, by_id)
        for r in check + look:
            if r.kind != "payment":  # each write has its own key: look up, send the missing
                self._isolated(r, partial(self._settle_row, r, planned[r.outbox_id]))

        new_payments = [w for r in fresh if r.kind == "payment" for w in planned[r.outbox_id]]
        self._send_new_payments(new_payments, by_id)
        for r in fresh:
            if r.kind != "payment":
                self._isolated(r, partial(self._send_row, r, planned[r.outbox_id], {}))
        self.report.landed += self.landing.flush()

    def _isolated(self, row: OutboxRow, step: Callable[[], _T]) -> _T | None:
        """Run one row's step; a failure that is the row's own is recorded on it, and the push
        goes on with the other rows."""
        try:
            return step()
        except STOPS_THE_PUSH:
            raise
        except (XeroError, ValueError, TypeError, KeyError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
            with self.engine.connect() as conn:
                current = outbox.get(conn, row.outbox_id)
            if current is None or current.status != OutboxStatus.SENDING:
                return None  # already settled by the step before it failed
            if current.sent_at is not None or current.ever_unknown:
                self._unknown(row.outbox_id, f"could not settle: {reason}")
            else:
                self._rejected(row.outbox_id, f"not sent: {reason}")
            return None

    # --- outbox rows -> ledger items ------------------------------------------------------------

    def _planned(self, row: OutboxRow, accounts: AccountSetup) -> list[PlannedWrite] | None:
        item = self._item(row)
        if item is None:
            return None
        writes = self._plan(item, accounts)
        if writes is None:
            return None
        problem = next(filter(None, (send.check_reference(w) for w in writes)), None)
        if problem:
            self._rejected(row.outbox_id, problem)
            return None
        return writes

    def _item(self, row: OutboxRow) -> OutboxItem | None:
        """The ledger's view of a row; payload field names are normalised here (the outbox
        records `date`/`payment_ids`, the ledger reads `paid_on`/`paid_out_on`)."""
        p = dict(row.payload)
        if row.kind in ("payment", "deposit"):
            p.setdefault("invoice_xero_id", p.get("xero_invoice_id"))
            p.setdefault("paid_on", p.get("date"))
        elif row.kind == "payout":
            p.setdefault("paid_out_on", p.get("date"))
            p.setdefault("deposit_payment_ids", [])
        elif row.kind in ("delete_payment", "delete_deposit"):
            target = self._original_xero_id(row)
            if target is None:
                return None
            field_name = "xero_payment_id" if row.kind == "delete_payment" else "bank_transaction_id"
            p.setdefault(field_name, target)
        return OutboxItem(row.outbox_id, row.kind, row.subject_id, row.idempotency_key,
                          row.reference, p)

    def _original_xero_id(self, row: OutboxRow) -> str | None:
        """The Xero id a delete row removes; None (row handled here) when it is not known yet."""
        with self.engine.connect() as conn:
            original = conn.execute(
                sa.select(outbox_table.c.status, outbox_table.c.xero_ids, outbox_table.c.kind,
                          outbox_table.c.ever_unknown, outbox_table.c.payload,
                          outbox_table.c.reference)
                .where(outbox_table.c.partner_id == row.partner_id,
                       outbox_table.c.subject_id == row.subject_id,
                       outbox_table.c.kind.in_(outbox.WRITE_KINDS))
                .order_by(outbox_table.c.outbox_id.desc())  # a repair's write is the live one
            ).first()
            stored = conn.execute(
                sa.select(payments_table.c.xero_payment_id)
                .where(payments_table.c.partner_id == row.partner_id,
                       payments_table.c.payment_id == row.subject_id)
            ).scalar()
        ids = (original.xero_ids if original is not None else None) or {}
        xero_id = ids.get("PaymentID") or ids.get("BankTransactionID") or stored
        if xero_id:
            return xero_id
        waiting_for = (OutboxStatus.UNKNOWN, OutboxStatus.SENDING, OutboxStatus.PENDING, OutboxStatus.HELD)
        if original is not None and original.status in waiting_for:
            self._record(lambda conn: outbox.release(
                conn, row.outbox_id, f"original write is {original.status}; the delete waits for it"))
            self.report.waiting += 1
            return None
        if original is not None and original.ever_unknown:
            # Refused after its outcome was once unknown: it may exist all the same. Look.
            found = self._find_original(original)
            if found:
                return found
        # Nothing was ever written to Xero: there is nothing to delete.
        self._done(row.outbox_id, {}, found=True)
        return None

    def _find_original(self, original: sa.Row) -> str | None:
        if original.kind == "payment":
            return next((p.payment_id for p in self.client.find_payments(original.reference)
                         if p.status not in GONE_STATUSES), None)
        reference = f"{original.payload.get('invoice_number')} {original.reference}"
        return next((t.bank_transaction_id for t in self.client.find_bank_transactions(reference)
                     if t.status not in GONE_STATUSES), None)

    def _plan(self, item: OutboxItem, accounts: AccountSetup) -> list[PlannedWrite] | None:
        results = ledger.plan(item, accounts)
        if not results and item.kind == "payout":
            # Stand-alone deposits only, no fees: their money is already in the deposit account.
            self._done(item.outbox_id, {}, found=False)
            return None
        first = results[0] if results else Invalid(item.outbox_id, "nothing to write")
        if isinstance(first, Waiting):
            self._record(lambda conn: outbox.mark_waiting_accounts(conn, item.outbox_id, first.reason))
            self.report.waiting += 1
            return None
        if isinstance(first, Invalid):
            self._rejected(item.outbox_id, f"not sent: {first.reason}")
            return None
        return [w for w in results if not isinstance(w, Waiting | Invalid)]

    # --- payments -------------------------------------------------------------------------------

    def _send_new_payments(self, writes: list[PlannedWrite], by_id: Mapping[int, OutboxRow],
                           generation: int = 0) -> None:
        for batch in ledger.batch_payments(writes, size=PAYMENT_BATCH):
            key = send.batch_key(self.connection.partner_id,
                                 [by_id[w.outbox_id].idempotency_key for w in batch], generation)
            request = send.payments_request(key, batch)
            ids = [w.outbox_id for w in batch]
            replace = outbox.replace_request if generation else outbox.record_request
            self._record(lambda conn: replace(conn, ids, key=key, request=request, sent_at=self.now()))
            self._send_payment_request(request, in_doubt=bool(generation))

    def _look_up_payments(self, rows: Sequence[OutboxRow],
                          planned: Mapping[int, list[PlannedWrite]]) -> dict[int, object]:
        """outbox id -> the live Xero payment found for its write (LOOKUP_CHUNK references per
        GET; a batch of 50 takes two). Rows not found are left out."""
        refs = [_payment(w).reference for r in rows for w in planned[r.outbox_id]]
        for start in range(0, len(refs), LOOKUP_CHUNK):
            for p in self.client.find_payments_by_references(refs[start : start + LOOKUP_CHUNK]):
                if p.status not in GONE_STATUSES and p.reference:
                    known = self._payments_by_ref.setdefault(p.reference, [])
                    if all(k.payment_id != p.payment_id for k in known):
                        known.append(p)
        hits = {}
        for r in rows:
            w = _payment(planned[r.outbox_id][0])
            hit = next((p for p in self._payments_by_ref.get(w.reference, [])
                        if p.invoice_id == w.invoice_id), None)
            if hit is not None:
                hits[r.outbox_id] = hit
        return hits

    def _found(self, outbox_id: int, hit) -> None:
        self._done(outbox_id, {"PaymentID": hit.payment_id}, found=True)
        self.landing.add_payment_record(hit)

    def _check_payments(self, rows: list[OutboxRow], planned: Mapping[int, list[PlannedWrite]],
                        now: dt.datetime) -> None:
        """Unknown payments inside their key window: found ones are done; a request none of
        whose payments Xero shows is re-sent as first sent, with its key; the rest of a request
        Xero shows in part waits for the settle bound (its key could be forgotten)."""
        if not rows:
            return
        hits = self._look_up_payments(rows, planned)
        for oid, hit in hits.items():
            self._found(oid, hit)
        by_request: dict[str, list[OutboxRow]] = {}
        for r in rows:
            if r.outbox_id not in hits:
                by_request.setdefault(r.request_key or "", []).append(r)
        for group in by_request.values():
            request = group[0].request
            stored = {oid for oid, _ in send.stored_payments(request)} if request else set()
            if request is not None and stored == {r.outbox_id for r in group}:
                self._resend(group, request)
            else:
                for r in group:
                    self._wait(r, now, part=True)

    def _send_payment_request(self, request: dict, *, in_doubt: bool) -> None:
        stored = send.stored_payments(request)
        ours = self._held_by_us([oid for oid, _ in stored])
        self.lock.check()
        self.report.payment_calls += 1
        try:
            results = self.client.create_payments([p for _, p in stored], request["key"])
        except OutcomeUnknown as exc:  # lost answer, timeout, or 409 "still being processed"
            for oid in ours:
                self._unknown(oid, str(exc))
            return
        except XeroValidationError as exc:
            message = exc.xero_message or str(exc)
            for oid in ours:
                self._refused(oid, message, in_doubt=in_doubt)
            return
        except STOPS_THE_PUSH:
            raise
        except XeroError as exc:  # e.g. a malformed answer: the write may exist
            for oid in ours:
                self._unknown(oid, f"{type(exc).__name__}: {exc}")
            return
        self.report.payments_sent += len(stored)
        done: list[tuple[int, str]] = []
        for (oid, _), result in zip(stored, results):
            if oid not in ours:
                continue
            if result.ok and result.payment_id:
                done.append((oid, result.payment_id))
                self.landing.add_payment(result)
            else:
                self._refused(oid, "; ".join(result.messages) or "Xero refused the payment",
                              in_doubt=in_doubt)
        self._record(lambda conn: [outbox.mark_done(conn, oid, {"PaymentID": pid}) for oid, pid in done])
        if in_doubt:
            self.report.replayed += len(done)
        else:
            self.report.written += len(done)

    def _settle_payments(self, rows: list[OutboxRow], planned: Mapping[int, list[PlannedWrite]],
                         by_id: Mapping[int, OutboxRow]) -> None:
        """Payments whose originals have settled: found by reference (25 per call), or sent
        again — the stored request if all of it is missing, else the missing ones anew."""
        hits = self._look_up_payments(rows, planned)
        missing: dict[str, list[OutboxRow]] = {}
        for r in rows:
            if r.outbox_id in hits:
                self._found(r.outbox_id, hits[r.outbox_id])
            else:
                missing.setdefault(r.request_key or "", []).append(r)
        anew: list[PlannedWrite] = []
        for key, group in missing.items():
            request = group[0].request
            if request is not None and {oid for oid, _ in send.stored_payments(request)} == \
                    {r.outbox_id for r in group}:
                self._resend(group, request)
            else:
                anew += [planned[r.outbox_id][0] for r in group]
        if anew:
            generation = 1 + max(by_id[w.outbox_id].attempts for w in anew)
            self._send_new_payments(anew, by_id, generation=generation)

    def _held_by_us(self, outbox_ids: Sequence[int]) -> set[int]:
        with self.engine.connect() as conn:
            return set(conn.execute(
                sa.select(outbox_table.c.outbox_id).where(
                    outbox_table.c.outbox_id.in_(list(outbox_ids)),
                    outbox_table.c.status == OutboxStatus.SENDING, outbox_table.c.claimed_by == self.lock.owner)
            ).scalars())

    # --- other writes ---------------------------------------------------------------------------

    def _settle_row(self, row: OutboxRow, writes: list[PlannedWrite]) -> None:
        ids: dict[str, str] = {}
        missing: list[PlannedWrite] = []
        for write in writes:
            hit = self._find(write)
            if hit is None:
                missing.append(write)
            else:
                ids[send.id_key(write)] = hit
        if not missing:
            self._done(row.outbox_id, ids, found=True)
            return
        self._send_row(row, missing, ids)

    def _find(self, write: PlannedWrite) -> str | None:
        c = self.client
        if isinstance(write, BankTransactionWrite):
            return next((t.bank_transaction_id for t in c.find_bank_transactions(write.reference)
                         if t.status not in GONE_STATUSES and t.type == write.type), None)
        if isinstance(write, BankTransferWrite):
            return next((t.bank_transfer_id for t in c.find_bank_transfers(write.reference)
                         if t.amount == write.amount), None)
        # Deletes are re-sent: Xero answers "already deleted", which counts as done.
        return None

    def _send_row(self, row: OutboxRow, writes: list[PlannedWrite], ids: dict[str, str]) -> None:
        """The writes of one non-payment row, in order; done when all exist in Xero."""
        in_doubt = row.request_key is not None or row.ever_unknown
        request = row.request or send.row_request(row.idempotency_key, writes)
        self._record(lambda conn: outbox.record_request(
            conn, [row.outbox_id], key=row.idempotency_key, request=request, sent_at=self.now()))
        ids = dict(ids)
        for write in writes:
            self.lock.check()
            try:
                xero_id = send.send_one(self.client, write)
            except OutcomeUnknown as exc:
                self._unknown(row.outbox_id, str(exc))
                return
            except XeroValidationError as exc:
                message = exc.xero_message or str(exc)
                if isinstance(write, DeletePaymentWrite | DeleteBankTransactionWrite) and \
                        "already been deleted" in message:
                    continue
                if ids:
                    message += f" (already written: {ids})"
                self._refused(row.outbox_id, message, in_doubt=in_doubt)
                return
            if xero_id:
                ids[send.id_key(write)] = xero_id
            if isinstance(write, DeletePaymentWrite):
                self.landing.add_deleted_payment(write.xero_payment_id)
        self._done(row.outbox_id, ids, found=False)

    # --- recording outcomes ---------------------------------------------------------------------

    def _resend(self, group: list[OutboxRow], request: dict) -> None:
        """Send a stored payments request again as first sent (same payments, same key)."""
        self._record(lambda conn: outbox.record_request(
            conn, [r.outbox_id for r in group], key=request["key"], request=request, sent_at=self.now()))
        self._send_payment_request(request, in_doubt=True)

    def _record(self, step: Callable[[sa.Connection], object]) -> None:
        with self.engine.begin() as conn:
            step(conn)

    def _wait(self, row: OutboxRow, now: dt.datetime, *, part: bool = False) -> None:
        until = self.timing.next_step_at(row, now)
        if part:
            why = ("part of its request is in Xero and the key may be forgotten: the rest is sent "
                   "only once the original has settled")
        elif now < self.timing.visible_from(row):
            why = ("a look-up now could miss what the last send made (Xero's read lag); nothing "
                   "is re-sent before a look-up that can see it")
        else:
            why = "the original request may still be in flight and Xero may no longer remember its key"
        self._record(lambda conn: outbox.release(
            conn, row.outbox_id, f"waiting until {until:%Y-%m-%d %H:%M:%S} UTC to look it up: {why}"))
        self.report.waiting += 1

    def _refused(self, outbox_id: int, message: str, *, in_doubt: bool) -> None:
        """A refusal is a verdict only if it cannot mean "your earlier write already applied"."""
        if in_doubt and is_ambiguous(message):
            self._unknown(outbox_id, f"Xero refused a re-send ({message}); that may mean the "
                          "earlier write applied, so it is looked up again, never rejected")
        else:
            self._rejected(outbox_id, message)

    def _done(self, outbox_id: int, ids: Mapping[str, str], *, found: bool) -> None:
        self._record(lambda conn: outbox.mark_done(conn, outbox_id, dict(ids)))
        if found:
            self.report.found += 1
        else:
            self.report.written += 1

    def _rejected(self, outbox_id: int, message: str) -> None:
        self._record(lambda conn: outbox.mark_rejected(conn, outbox_id, message))
        self.report.rejected += 1
        self.report.messages.append(f"outbox {outbox_id}: {message}")

    def _unknown(self, outbox_id: int, message: str) -> None:
        self._record(lambda conn: outbox.mark_unknown(conn, outbox_id, message))
        self.report.unknown += 1
