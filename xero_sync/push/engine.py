"""One push batch for one partner: claim outbox rows, write them to Xero, record the outcome.

Exactly once (SPEC section 4, issue 4):
- a row is claimed (pending/unknown -> sending) in its own committed transaction, so two pushers
  never send the same row;
- every write carries a deterministic Idempotency-Key (ledger.write_key for single writes, a hash
  of the batch's outbox keys for a PUT /Payments batch), so a replay within Xero's window is free;
- the outcome is recorded right after each call (its own transaction), with Xero's ids;
- a lost answer (OutcomeUnknown, or Xero unavailable after a write was sent) marks the row
  `unknown`; the next push looks every write of that row up by reference first and re-posts only
  what is not there. A push that died between a call and its record leaves rows in `sending`;
  those become `unknown` once older than `stale_after` and are settled the same way.
Xero's validation refusals are kept on the row (`rejected`) and never retried.

No Dagster here: the push job and the benchmark call `push_partner`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from xero_sync.platform import connections, outbox
from xero_sync.platform.connections import Connection
from xero_sync.platform.outbox import OutboxRow
from xero_sync.platform.schema import outbox as outbox_table
from xero_sync.platform.schema import payments as payments_table
from xero_sync.platform.schema import xero_connections
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
from xero_sync.xero.errors import OutcomeUnknown, XeroUnavailable, XeroValidationError
from xero_sync.xero.writes import NewBankTransaction, NewBankTransfer, NewLine, NewPayment

CLEARING_CONTACT_NAME = "Alternative payments (clearing)"
PAYMENT_BATCH = 50
# Xero remembers Idempotency-Keys for minutes; a `sending` row older than this was left by a
# push that stopped, and re-posting it is covered by the look-up by reference.
STALE_SENDING = dt.timedelta(minutes=2)
ACCOUNT_KINDS = ("payment", "deposit", "payout")
NEEDS_CHART = ("deposit", "payout")  # kinds whose writes need account codes and the contact
GONE_STATUSES = ("DELETED", "VOIDED")
LOOKUP_CHUNK = 25  # references per look-up call (keeps the where clause and URL short)

# A test-only seam: called with the call name after Xero answered and before the outcome is
# recorded, so a test can "crash" the push at the worst moment.
AfterSend = Callable[[str], None]


@dataclass
class PushReport:
    """What one push did, for logs and run metadata."""

    partner_id: str
    claimed: int = 0
    written: int = 0  # rows done by writes sent in this push
    found: int = 0  # rows done because the write was found in Xero by reference
    rejected: int = 0
    unknown: int = 0
    waiting: int = 0
    recovered: int = 0  # stale `sending` rows turned `unknown`
    calls: int = 0
    payments_sent: int = 0
    payment_calls: int = 0
    messages: list[str] = field(default_factory=list)

    @property
    def done(self) -> int:
        return self.written + self.found

    def as_metadata(self) -> dict[str, int]:
        return {
            "claimed": self.claimed, "written": self.written, "found_by_reference": self.found,
            "rejected": self.rejected, "unknown": self.unknown, "waiting": self.waiting,
            "recovered": self.recovered, "calls": self.calls,
            "payments_sent": self.payments_sent, "payment_calls": self.payment_calls,
        }


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def recover_stale_sending(engine: sa.Engine, partner_id: str, stale_after: dt.timedelta) -> int:
    """Rows left in `sending` by a push that stopped become `unknown` (looked up before re-post)."""
    cutoff = _now() - stale_after
    with engine.begin() as conn:
        ids = conn.execute(
            sa.select(outbox_table.c.outbox_id).where(
                outbox_table.c.partner_id == partner_id,
                outbox_table.c.status == "sending",
                outbox_table.c.updated_at <= cutoff,
            )
        ).scalars().all()
        for outbox_id in ids:
            outbox.mark_unknown(conn, outbox_id, "a push stopped before recording the outcome")
    return len(ids)


def release_unsettled(engine: sa.Engine, outbox_ids: Sequence[int], exc: Exception) -> int:
    """Rows of a stopped push still in `sending` -> `unknown` (looked up before any re-post)."""
    with engine.begin() as conn:
        stuck = conn.execute(
            sa.select(outbox_table.c.outbox_id).where(
                outbox_table.c.outbox_id.in_(list(outbox_ids)), outbox_table.c.status == "sending")
        ).scalars().all()
        for outbox_id in stuck:
            outbox.mark_unknown(conn, outbox_id, f"push stopped before recording the outcome: {exc}")
    return len(stuck)


def push_partner(
    engine: sa.Engine,
    client: XeroClient,
    partner_id: str,
    *,
    limit: int = 200,
    stale_after: dt.timedelta = STALE_SENDING,
    after_send: AfterSend | None = None,
) -> PushReport:
    """Push up to `limit` claimable outbox rows of one partner to Xero; see the module doc."""
    report = PushReport(partner_id)
    calls_before = client.stats()["calls"]
    try:
        report.recovered = recover_stale_sending(engine, partner_id, stale_after)
        with engine.begin() as conn:
            connection = connections.get_connection(conn, partner_id)
            if connection is None:
                raise connections.UnknownPartner(f"partner {partner_id!r} has no Xero connection")
            candidates = outbox.pending(conn, partner_id=partner_id, limit=limit)
            was_unknown = {r.outbox_id for r in candidates if r.status == "unknown"}
            rows = outbox.claim(conn, [r.outbox_id for r in candidates])
        report.claimed = len(rows)
        if rows:
            try:
                _Push(engine, client, connection, report, after_send).run(rows, was_unknown)
            except Exception as exc:
                # This push stops here (daily limit, Xero down, ...): rows it claimed but did not
                # settle become unknown now rather than after `stale_after`, so a retry resumes.
                report.unknown += release_unsettled(engine, [r.outbox_id for r in rows], exc)
                raise
    finally:
        report.calls = client.stats()["calls"] - calls_before
    return report


class _Push:
    """The state of one push: the partner's account setup (read lazily) and the report."""

    def __init__(self, engine: sa.Engine, client: XeroClient, connection: Connection,
                 report: PushReport, after_send: AfterSend | None) -> None:
        self.engine = engine
        self.client = client
        self.connection = connection
        self.report = report
        self.after_send = after_send or (lambda call: None)
        self._payments_by_ref: dict[str, list] = {}
        self._prefetched: set[str] = set()

    # --- the batch ------------------------------------------------------------------------------

    def run(self, rows: list[OutboxRow], was_unknown: set[int]) -> None:
        if not self.connection.accounts_set_up:
            waiting = [r for r in rows if r.kind in ACCOUNT_KINDS]
            self._record(lambda conn: [
                outbox.mark_waiting_accounts(conn, r.outbox_id, "accounts not set up in Xero sync")
                for r in waiting
            ])
            self.report.waiting += len(waiting)
            rows = [r for r in rows if r.kind not in ACCOUNT_KINDS]
        accounts = self._account_setup(needs_chart=any(r.kind in NEEDS_CHART for r in rows))

        planned: dict[int, list[PlannedWrite]] = {}
        for row in rows:
            item = self._item(row)
            if item is None:
                continue
            writes = self._plan(item, accounts)
            if writes is not None:
                planned[row.outbox_id] = writes
        by_id = {r.outbox_id: r for r in rows}

        # After an unknown outcome, what already exists in Xero is found by reference first.
        found: dict[int, dict[str, str]] = {}
        to_send: dict[int, list[PlannedWrite]] = {}
        self._prefetch_payments([w for oid, ws in planned.items() if oid in was_unknown for w in ws])
        for outbox_id, writes in planned.items():
            if outbox_id in was_unknown:
                ids, missing = self._look_up(writes)
                if not missing:
                    self._done(outbox_id, ids, found=True)
                    continue
                found[outbox_id] = ids
                to_send[outbox_id] = missing
            else:
                to_send[outbox_id] = writes

        self._send_payments(to_send, found, by_id)
        for outbox_id, writes in to_send.items():
            if not isinstance(writes[0], PaymentWrite):
                self._send_row(outbox_id, writes, found.get(outbox_id, {}))

    # --- outbox rows -> ledger items ------------------------------------------------------------

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
                sa.select(outbox_table.c.status, outbox_table.c.xero_ids)
                .where(outbox_table.c.subject_id == row.subject_id,
                       outbox_table.c.kind.in_(outbox.WRITE_KINDS))
                .order_by(outbox_table.c.outbox_id.desc())  # a repair's write is the live one
            ).first()
            stored = conn.execute(
                sa.select(payments_table.c.xero_payment_id)
                .where(payments_table.c.payment_id == row.subject_id)
            ).scalar()
        ids = (original.xero_ids if original is not None else None) or {}
        xero_id = ids.get("PaymentID") or ids.get("BankTransactionID") or stored
        if xero_id:
            return xero_id
        if original is None or original.status in ("rejected", "cancelled"):
            # Nothing was ever written to Xero: there is nothing to delete.
            self._done(row.outbox_id, {}, found=True)
        else:
            self._unknown(row.outbox_id, f"original write is {original.status}; delete waits for it")
        return None

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

    # --- account setup and the clearing contact -------------------------------------------------

    def _account_setup(self, *, needs_chart: bool) -> AccountSetup:
        c = self.connection
        codes: dict[str, str | None] = {}
        contact_id = c.clearing_contact_id
        if needs_chart and c.accounts_set_up:
            chart = self.client.accounts().records
            codes = {a.account_id: a.code for a in chart}
            contact_id = contact_id or self._clearing_contact()
        return AccountSetup(
            payments_account_id=c.payments_account_id,
            payments_account_code=codes.get(c.payments_account_id or ""),
            payments_account_is_bank=c.payments_account_is_bank,
            deposit_account_id=c.deposit_account_id,
            fees_account_id=c.fees_account_id,
            fees_account_code=codes.get(c.fees_account_id or ""),
            income_account_id=c.income_account_id,
            income_account_code=codes.get(c.income_account_id or ""),
            clearing_contact_id=contact_id,
            fees_as_separate_spend=c.fees_as_spend,
        )

    def _clearing_contact(self) -> str:
        """The one contact stand-alone deposits and payouts are booked against: found by name or
        created once (deterministic key), then stored on the connection."""
        partner = self.connection.partner_id
        existing = [c for c in self.client.find_contacts(CLEARING_CONTACT_NAME)
                    if c.status != "ARCHIVED"]
        contact_id = existing[0].contact_id if existing else self.client.create_contact(
            CLEARING_CONTACT_NAME, ledger.write_key(f"xs-{partner}-clearing-contact"))
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(xero_connections)
                .where(xero_connections.c.partner_id == partner)
                .values(clearing_contact_id=contact_id, updated_at=_now())
            )
        return contact_id

    # --- look-ups after an unknown outcome ------------------------------------------------------

    def _look_up(self, writes: list[PlannedWrite]) -> tuple[dict[str, str], list[PlannedWrite]]:
        """Xero ids of the writes already in Xero, and the writes that are not."""
        ids: dict[str, str] = {}
        missing: list[PlannedWrite] = []
        for write in writes:
            hit = self._find(write)
            if hit is None:
                missing.append(write)
            else:
                ids[_id_key(write)] = hit
        return ids, missing

    def _prefetch_payments(self, writes: list[PlannedWrite]) -> None:
        """One look-up call per LOOKUP_CHUNK payments of unknown rows, instead of one per row."""
        refs = [w.reference for w in writes if isinstance(w, PaymentWrite)]
        for start in range(0, len(refs), LOOKUP_CHUNK):
            for p in self.client.find_payments_by_references(refs[start : start + LOOKUP_CHUNK]):
                if p.status not in GONE_STATUSES and p.reference:
                    self._payments_by_ref.setdefault(p.reference, []).append(p)
        self._prefetched.update(refs)

    def _find(self, write: PlannedWrite) -> str | None:
        c = self.client
        if isinstance(write, PaymentWrite):
            candidates = (self._payments_by_ref.get(write.reference, [])
                          if write.reference in self._prefetched else c.find_payments(write.reference))
            return next((p.payment_id for p in candidates
                         if p.status not in GONE_STATUSES and p.invoice_id == write.invoice_id), None)
        if isinstance(write, BankTransactionWrite):
            return next((t.bank_transaction_id for t in c.find_bank_transactions(write.reference)
                         if t.status not in GONE_STATUSES and t.type == write.type), None)
        if isinstance(write, BankTransferWrite):
            return next((t.bank_transfer_id for t in c.find_bank_transfers(write.reference)
                         if t.amount == write.amount), None)
        # Deletes are re-sent: Xero answers "already deleted", which counts as done.
        return None

    # --- sending --------------------------------------------------------------------------------

    def _send_payments(self, to_send: dict[int, list[PlannedWrite]],
                       found: dict[int, dict[str, str]], by_id: Mapping[int, OutboxRow]) -> None:
        writes = [w for ws in to_send.values() for w in ws]
        for batch in ledger.batch_payments(writes, size=PAYMENT_BATCH):
            key = batch_key(self.connection.partner_id, [by_id[w.outbox_id].idempotency_key for w in batch])
            new = [NewPayment(w.invoice_id, w.account_id, w.date, w.amount, w.reference) for w in batch]
            self.report.payment_calls += 1
            try:
                results = self.client.create_payments(new, key)
            except (OutcomeUnknown, XeroUnavailable) as exc:
                self.after_send("PUT /Payments")
                for w in batch:
                    self._unknown(w.outbox_id, str(exc))
                continue
            except XeroValidationError as exc:
                self.after_send("PUT /Payments")
                for w in batch:
                    self._rejected(w.outbox_id, exc.xero_message or str(exc))
                continue
            self.after_send("PUT /Payments")
            self.report.payments_sent += len(batch)
            self._record_payment_results(batch, results)

    def _record_payment_results(self, batch: Sequence[PaymentWrite], results: Sequence) -> None:
        def record(conn: sa.Connection) -> None:
            for w, result in zip(batch, results):
                if result.ok and result.payment_id:
                    outbox.mark_done(conn, w.outbox_id, {"PaymentID": result.payment_id})
                    self.report.written += 1
                else:
                    message = "; ".join(result.messages) or "Xero refused the payment"
                    outbox.mark_rejected(conn, w.outbox_id, message)
                    self.report.rejected += 1
                    self.report.messages.append(f"outbox {w.outbox_id}: {message}")

        self._record(record)

    def _send_row(self, outbox_id: int, writes: list[PlannedWrite], ids: dict[str, str]) -> None:
        """The writes of one non-payment row, in order; done when all exist in Xero."""
        ids = dict(ids)
        for write in writes:
            try:
                xero_id = self._send_one(write)
            except (OutcomeUnknown, XeroUnavailable) as exc:
                self.after_send(type(write).__name__)
                self._unknown(outbox_id, str(exc))
                return
            except XeroValidationError as exc:
                self.after_send(type(write).__name__)
                message = exc.xero_message or str(exc)
                if isinstance(write, DeletePaymentWrite | DeleteBankTransactionWrite) and \
                        "already been deleted" in message:
                    continue
                if ids:
                    message += f" (already written: {ids})"
                self._rejected(outbox_id, message)
                return
            self.after_send(type(write).__name__)
            if xero_id:
                ids[_id_key(write)] = xero_id
        self._done(outbox_id, ids, found=False)

    def _send_one(self, write: PlannedWrite) -> str | None:
        c = self.client
        if isinstance(write, BankTransactionWrite):
            lines = [NewLine(line.description, line.amount, account_code=line.account_code)
                     for line in write.lines]
            tx = NewBankTransaction(write.type, write.bank_account_id, write.contact_id,
                                    write.date, write.reference, lines)
            return c.create_bank_transaction(tx, write.idempotency_key)
        if isinstance(write, BankTransferWrite):
            transfer = NewBankTransfer(write.from_account_id, write.to_account_id, write.amount,
                                       write.date, write.reference)
            return c.create_bank_transfer(transfer, write.idempotency_key)
        if isinstance(write, DeletePaymentWrite):
            c.delete_payment(write.xero_payment_id, write.idempotency_key)
            return None
        if isinstance(write, DeleteBankTransactionWrite):
            c.delete_bank_transaction(write.bank_transaction_id, write.idempotency_key)
            return None
        raise TypeError(f"outbox {write.outbox_id}: cannot send {type(write).__name__} alone")

    # --- recording outcomes ---------------------------------------------------------------------

    def _record(self, step: Callable[[sa.Connection], object]) -> None:
        with self.engine.begin() as conn:
            step(conn)

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


def _id_key(write: PlannedWrite) -> str:
    """The name under which a write's Xero id is stored in `outbox.xero_ids`."""
    if isinstance(write, PaymentWrite):
        return "PaymentID"
    if isinstance(write, BankTransferWrite):
        return "BankTransferID"
    if isinstance(write, BankTransactionWrite):
        # A payout's fees SPEND sits beside its deposit or transfer.
        return "FeesBankTransactionID" if write.reference.endswith(" fees") else "BankTransactionID"
    return "Deleted"


def batch_key(partner_id: str, outbox_keys: Sequence[str]) -> str:
    """One Idempotency-Key for a PUT /Payments batch: a function of its rows' outbox keys only
    (the same batch re-sent gets the same key), at most 128 characters."""
    digest = hashlib.sha256("\n".join(outbox_keys).encode()).hexdigest()[:40]
    return ledger.write_key(f"xs-{partner_id}-payments-{len(outbox_keys)}-{digest}")
