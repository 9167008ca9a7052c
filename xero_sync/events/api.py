"""The platform's events API (SPEC section 8): how Alternative reports what happens on its side.

One function per event. Each checks its inputs at the edge (`event_checks`), then what needs the
store (the partner exists; the invoice or customer belongs to it; the currency is the invoice's;
a payment fits the balance), and only then writes: the event's rows and its outbox rows
(`platform.outbox`) in one transaction. A refusal raises `EventRefused` (field + reason) before
anything is written.

`bind` is an Engine (each call is its own transaction) or a Connection whose transaction the
caller owns (several events committed together; each event runs in a savepoint, so a refusal
still writes nothing).

Concurrency (issue 18): the invariants live in the database, not in a read before a write. An
invoice's row is locked while a payment is checked against its balance (FOR UPDATE on
PostgreSQL; on SQLite every write transaction begins IMMEDIATE, `platform.db`), and an
Alternative invoice's balance moves by compare-and-set; a payment joins a payout by a guarded
UPDATE (`outbox.record_payout`); one Alternative invoice per (partner, number), one payment or
payout per (partner, id) and one answer per idempotency key are unique keys. An event that loses
a race to a concurrent one with the same id fails on those keys, rolls back, and is run again
once more: it then answers as a replay (the same id as the first) or is refused.

Replays: every event may carry an idempotency key (`Idempotency-Key` over HTTP, see
`platform.event_requests`); the same request under the same key returns the first answer.
Events that carry their own ids are replay-safe without one: the same payment, payout or
Alternative invoice number reported again with the same details returns the same id; with other
details it is refused (EventConflict). Ids are the partner's own: another partner's ids are
neither seen nor revealed.

The CLI (`xero-sync event ...`) and the JSON endpoints (`web/events_api.py`) call these.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar, cast

import sqlalchemy as sa

from xero_sync.events import checks as check
from xero_sync.events import idempotency as event_requests
from xero_sync.store import outbox
from xero_sync.events.checks import EventConflict, EventRefused, UnknownPartner
from xero_sync.store.outbox import WRITE_KINDS, AlreadyClaimed, OutboxError
from xero_sync.store.schema import customers, invoices, partners, payments, payouts, xero_invoices
from xero_sync.store.schema import outbox as outbox_table
from xero_sync.store.states import OutboxStatus
from xero_sync.sync.rules import platform_status

__all__ = [
    "EventRefused", "EventConflict", "UnknownPartner", "customer_created", "invoice_created", "invoice_edited",
    "archived", "payment_taken", "payment_failed", "payout_sent", "EVENTS", "EventKind",
]

Bind = sa.Engine | sa.Connection
# Alternative payments whose write is not yet in Xero: Xero's AmountDue does not include them.
_NOT_IN_XERO = (OutboxStatus.PENDING, OutboxStatus.WAITING_ACCOUNTS, OutboxStatus.SENDING, OutboxStatus.UNKNOWN)


# A first attempt and one re-run after losing a race on a unique key (then a replay or a refusal);
# a third only if yet another event with the same id committed in between.
ATTEMPTS = 3
RACE_LOST = "conflicts with an event recorded at the same moment; nothing was written, report it again"


@contextmanager
def _transaction(bind: Bind) -> Iterator[sa.Connection]:
    """The event's own transaction, or a savepoint in the caller's (a refusal after a guarded
    write that found nothing to claim still leaves nothing behind)."""
    if isinstance(bind, sa.Engine):
        with bind.begin() as conn:
            yield conn
    else:
        with bind.begin_nested():
            yield bind


_Answer = TypeVar("_Answer")


def _record(bind: Bind, event: str, partner_id: object, idempotency_key: object,
            fields: Mapping[str, object], body: Callable[[sa.Connection, str], _Answer]) -> _Answer:
    """Run `body(conn, partner_id)` in a transaction: the partner checked first, an idempotency
    key honoured, a race lost on a unique key run again (see the module doc)."""
    key = None if idempotency_key is None else check.idempotency_key("idempotency_key", idempotency_key)
    digest = event_requests.fingerprint(event, fields) if key is not None else ""
    for attempt in range(ATTEMPTS):
        try:
            with _transaction(bind) as conn:
                pid = _partner(conn, partner_id)
                if key is not None:
                    seen, answer = event_requests.replay(conn, pid, key, event, digest)
                    if seen:
                        # What `body` answered the first time this key recorded this request.
                        return cast(_Answer, answer)
                result = body(conn, pid)
                if key is not None:
                    event_requests.remember(conn, pid, key, event, digest, result)
                return result
        except sa.exc.DBAPIError as exc:
            # Only a concurrent event with the same id, number or key gets here (every other case
            # is checked first), or PostgreSQL breaking a deadlock between two events. Our own
            # transaction can run again and see what won; the caller's cannot.
            if not isinstance(exc, sa.exc.IntegrityError) and _sqlstate(exc) not in _RETRYABLE:
                raise
            if isinstance(bind, sa.Connection) or attempt == ATTEMPTS - 1:
                raise EventConflict("event", RACE_LOST) from None
    raise AssertionError("unreachable")  # pragma: no cover


_RETRYABLE = ("40P01", "40001")  # PostgreSQL: deadlock detected, serialization failure


def _sqlstate(exc: sa.exc.DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _partner(conn: sa.Connection, partner_id: object) -> str:
    pid = check.text_id("partner_id", partner_id)
    if conn.execute(sa.select(partners.c.partner_id).where(partners.c.partner_id == pid)).first() is None:
        raise UnknownPartner(pid)
    return pid


def _invoice(conn: sa.Connection, partner_id: str, invoice_id: object) -> sa.Row:
    """The partner's invoice, locked for this transaction (PostgreSQL; SQLite has one writer):
    two payments on one invoice are checked against the balance one after the other."""
    iid = check.row_id("invoice_id", invoice_id)
    i = invoices.c
    row = conn.execute(
        sa.select(i.invoice_id, i.partner_id, i.source, i.xero_invoice_id, i.currency, i.total_minor,
                  i.outstanding_minor, i.status, i.due_date, i.archived, i.deleted_in_xero)
        .where(i.invoice_id == iid, i.partner_id == partner_id).with_for_update()
    ).first()
    # Another partner's invoice is refused exactly like a missing one: ids are not probed.
    if row is None:
        raise EventRefused("invoice_id", f"no invoice {iid} for partner {partner_id!r}")
    return row


def _customer(conn: sa.Connection, partner_id: str, customer_id: object) -> sa.Row:
    cid = check.row_id("customer_id", customer_id)
    row = conn.execute(
        sa.select(customers.c.customer_id, customers.c.partner_id, customers.c.archived)
        .where(customers.c.customer_id == cid, customers.c.partner_id == partner_id)
    ).first()
    if row is None:
        raise EventRefused("customer_id", f"no customer {cid} for partner {partner_id!r}")
    return row


def _pending_in_xero(conn: sa.Connection, invoice_id: int) -> int:
    """Alternative payments on the invoice whose write has not reached Xero yet."""
    p, o = payments.c, outbox_table.c
    return int(conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(p.amount_minor), 0))
        .select_from(payments.join(outbox_table, sa.and_(
            o.partner_id == p.partner_id, o.subject_id == p.payment_id, o.kind.in_(WRITE_KINDS))))
        .where(p.invoice_id == invoice_id, p.source == "alternative", p.status == "succeeded",
               o.status.in_(_NOT_IN_XERO))
    ).scalar_one())


def _payable(conn: sa.Connection, invoice: sa.Row) -> int:
    """What may still be paid on the invoice, in minor units.

    Alternative invoices: their outstanding balance (kept by these events). Xero invoices: Xero's
    AmountDue as last landed, less Alternative payments not yet written to Xero.
    """
    if invoice.source != "xero":
        return int(invoice.outstanding_minor)
    x = xero_invoices.c
    due = conn.execute(
        sa.select(x.amount_due_minor)
        .where(x.partner_id == invoice.partner_id, x.invoice_id == invoice.xero_invoice_id)
    ).scalar()
    base = int(invoice.outstanding_minor) if due is None else int(due)
    return base - _pending_in_xero(conn, invoice.invoice_id)


def _set_balance(conn: sa.Connection, invoice: sa.Row, outstanding: int) -> None:
    """Compare-and-set: the balance moves only from the value this event read (the invoice's row
    is locked, so it is; a lost update would otherwise pay an invoice more than its total)."""
    i = invoices.c
    moved = conn.execute(
        sa.update(invoices)
        .where(i.invoice_id == invoice.invoice_id, i.outstanding_minor == invoice.outstanding_minor,
               i.total_minor == invoice.total_minor)
        .values(outstanding_minor=outstanding, updated_at=_now(),
                status=platform_status(outstanding, int(invoice.total_minor)))
    ).rowcount
    if moved != 1 or not 0 <= outstanding <= int(invoice.total_minor):
        raise EventConflict("invoice_id", f"invoice {invoice.invoice_id}'s balance changed meanwhile; "
                                          "nothing was written, report it again")


def _refuse_outbox(exc: OutboxError, field: str) -> EventRefused:
    return (EventConflict if isinstance(exc, AlreadyClaimed) else EventRefused)(field, str(exc))


# --- customers and invoices ------------------------------------------------------------------


def customer_created(bind: Bind, *, partner_id: str, name: str, email: str | None = None,
                     idempotency_key: str | None = None) -> int:
    """A customer created in Alternative (never created in Xero). Returns its customer_id.

    A customer carries no id of Alternative's own: only an idempotency key makes a retry safe
    (the JSON endpoint requires one)."""
    def body(conn: sa.Connection, pid: str) -> int:
        values = {"name": check.name("name", name), "email": check.email("email", email)}
        return conn.execute(
            sa.insert(customers).values(partner_id=pid, source="alternative", **values)
            .returning(customers.c.customer_id)
        ).scalar_one()

    return _record(bind, "customer-created", partner_id, idempotency_key,
                   {"name": name, "email": email}, body)


def invoice_created(bind: Bind, *, partner_id: str, number: str, currency: str, amount: object,
                    issue_date: object, due_date: object = None, customer_id: object = None,
                    idempotency_key: str | None = None) -> int:
    """An invoice created in Alternative (never created in Xero), unpaid. Returns its invoice_id.

    `number` is Alternative's invoice number, unique among the partner's Alternative invoices (a
    unique index): reported again with the same details it returns the same invoice_id; with
    other details it is refused (EventConflict).
    """
    def body(conn: sa.Connection, pid: str) -> int:
        num = check.text_id("number", number)
        cur = check.currency("currency", currency)
        total = check.amount_minor("amount", amount, cur)
        issued = check.day("issue_date", issue_date)
        due = None if due_date is None else check.day("due_date", due_date)
        if due is not None and due < issued:
            raise EventRefused("due_date", f"{due} is before the issue date {issued}")
        customer = None
        i = invoices.c
        taken = conn.execute(
            sa.select(i.invoice_id, i.currency, i.total_minor, i.issue_date, i.due_date, i.customer_id)
            .where(i.partner_id == pid, i.source == "alternative", i.number == num)
        ).first()
        if customer_id is not None:
            cid = check.row_id("customer_id", customer_id)
            if taken is not None and taken.customer_id == cid:
                customer = cid  # a replay: the customer may have been archived since
            else:
                row = _customer(conn, pid, cid)
                if row.archived:
                    raise EventRefused("customer_id", f"customer {row.customer_id} is archived")
                customer = row.customer_id
        if taken is not None:
            if (taken.currency, taken.total_minor, taken.issue_date, taken.due_date,
                    taken.customer_id) != (cur, total, issued, due, customer):
                raise EventConflict("number", f"partner {pid!r} already has an Alternative invoice "
                                              f"{num} with other details (invoice {taken.invoice_id})")
            return taken.invoice_id
        return conn.execute(
            sa.insert(invoices).values(
                partner_id=pid, source="alternative", number=num, customer_id=customer,
                currency=cur, issue_date=issued, due_date=due, total_minor=total,
                outstanding_minor=total, status="unpaid",
            ).returning(i.invoice_id)
        ).scalar_one()

    fields = {"number": number, "currency": currency, "amount": amount, "issue_date": issue_date,
              "due_date": due_date, "customer_id": customer_id}
    return _record(bind, "invoice-created", partner_id, idempotency_key, fields, body)


def invoice_edited(bind: Bind, *, partner_id: str, invoice_id: object, amount: object = None,
                   due_date: object = None, idempotency_key: str | None = None) -> int:
    """The amount and/or due date of an unpaid invoice edited in Alternative.

    Never written to Xero (SPEC section 2). On a Xero invoice the edit stays until Xero itself
    changes that value (the three-way rule, `sync.rules.three_way`); an edit also clears a listed
    edit conflict (the partner has reviewed it). Returns the invoice_id.
    """
    def body(conn: sa.Connection, pid: str) -> int:
        inv = _invoice(conn, pid, invoice_id)
        if amount is None and due_date is None:
            raise EventRefused("amount", "an edit needs an amount or a due date (or both)")
        values: dict[str, object] = {}
        if amount is not None:
            values["total_minor"] = values["outstanding_minor"] = check.amount_minor("amount", amount, inv.currency)
        if due_date is not None:
            values["due_date"] = check.day("due_date", due_date)
        if inv.archived:
            raise EventRefused("invoice_id", f"invoice {inv.invoice_id} is archived")
        if inv.status != "unpaid" or inv.outstanding_minor != inv.total_minor:
            raise EventRefused("invoice_id", f"invoice {inv.invoice_id} is {inv.status}; only unpaid "
                                             "invoices can be edited")
        if _pending_in_xero(conn, inv.invoice_id) or _has_live_payment(conn, inv.invoice_id):
            raise EventRefused("invoice_id", f"invoice {inv.invoice_id} has a payment; only unpaid "
                                             "invoices can be edited")
        i = invoices.c
        moved = conn.execute(
            sa.update(invoices)
            .where(i.invoice_id == inv.invoice_id, i.outstanding_minor == inv.outstanding_minor,
                   i.total_minor == inv.total_minor)
            .values(**values, edit_conflict=None, updated_at=_now())
        ).rowcount
        if moved != 1:
            raise EventConflict("invoice_id", f"invoice {inv.invoice_id} changed meanwhile; "
                                              "nothing was written, report it again")
        return inv.invoice_id

    return _record(bind, "invoice-edited", partner_id, idempotency_key,
                   {"invoice_id": invoice_id, "amount": amount, "due_date": due_date}, body)


def _has_live_payment(conn: sa.Connection, invoice_id: int) -> bool:
    return conn.execute(
        sa.select(payments.c.payment_id)
        .where(payments.c.invoice_id == invoice_id, payments.c.status == "succeeded").limit(1)
    ).first() is not None


def archived(bind: Bind, *, partner_id: str, subject: str, subject_id: object,
             idempotency_key: str | None = None) -> int:
    """A customer or invoice archived by hand in Alternative (e.g. one flagged deleted_in_xero,
    which the diff lists until this). Archiving again changes nothing. Returns the id."""
    def body(conn: sa.Connection, pid: str) -> int:
        if subject == "invoice":
            table, row = invoices, _invoice(conn, pid, subject_id)
            key = row.invoice_id
        elif subject == "customer":
            table, row = customers, _customer(conn, pid, subject_id)
            key = row.customer_id
        else:
            raise EventRefused("subject", f"{check.shown(subject)} must be invoice or customer")
        pk = table.c.invoice_id if subject == "invoice" else table.c.customer_id
        conn.execute(sa.update(table).where(pk == key, table.c.archived.is_(sa.false()))
                     .values(archived=True, updated_at=_now()))
        return key

    return _record(bind, "archived", partner_id, idempotency_key,
                   {"subject": subject, "subject_id": subject_id}, body)


# --- payments and payouts --------------------------------------------------------------------


def payment_taken(bind: Bind, *, partner_id: str, payment_id: str, invoice_id: object,
                  amount: object, currency: str, paid_on: object, fee: object = 0,
                  idempotency_key: str | None = None) -> int:
    """A payment Alternative collected on an invoice, and its write to Xero (a payment on a Xero
    invoice, a stand-alone deposit on an Alternative one). Returns the outbox id.

    Reporting the same payment again returns the same outbox id; the same id with other details
    is refused. The amount may not exceed what is still payable on the invoice (checked with the
    invoice's row locked; an Alternative invoice's balance moves by compare-and-set).
    """
    def body(conn: sa.Connection, pid: str) -> int:
        pay_id = check.text_id("payment_id", payment_id)
        inv = _invoice(conn, pid, invoice_id)
        cur = check.currency("currency", currency)
        if cur != inv.currency:
            raise EventRefused("currency", f"{cur} differs from invoice {inv.invoice_id}'s {inv.currency}")
        minor = check.amount_minor("amount", amount, cur)
        fee_minor = check.amount_minor("fee", fee, cur, allow_zero=True)
        if fee_minor > minor:
            raise EventRefused("fee", f"fee {fee} exceeds the payment {amount}")
        day = check.day("paid_on", paid_on)
        record = dict(payment_id=pay_id, partner_id=pid, invoice_id=inv.invoice_id,
                      amount_minor=minor, fee_minor=fee_minor, currency=cur, paid_on=day)
        existing = conn.execute(
            sa.select(payments.c.payment_id)
            .where(payments.c.partner_id == pid, payments.c.payment_id == pay_id)
        ).first()
        if existing is not None:
            try:  # same details: the same outbox row; other details: refused
                return outbox.record_payment(conn, **record)
            except OutboxError as exc:
                raise EventConflict("payment_id", str(exc)) from None
        if inv.archived or inv.status == "void":
            raise EventRefused("invoice_id", f"invoice {inv.invoice_id} is "
                                             f"{'archived' if inv.archived else 'void'}")
        payable = _payable(conn, inv)
        if minor > payable:
            raise EventRefused("amount", f"{amount} {cur} exceeds what is payable on invoice "
                                         f"{inv.invoice_id} ({max(payable, 0)} minor units)")
        try:
            outbox_id = outbox.record_payment(conn, **record)
        except OutboxError as exc:  # pragma: no cover - every case is checked above
            raise _refuse_outbox(exc, "payment_id") from None
        if inv.source != "xero":
            # Alternative keeps the balance of its own invoices; Xero invoices take theirs from
            # Xero's AmountDue on the next read (held down by pending payments meanwhile).
            _set_balance(conn, inv, int(inv.outstanding_minor) - minor)
        return outbox_id

    fields = {"payment_id": payment_id, "invoice_id": invoice_id, "amount": amount,
              "currency": currency, "paid_on": paid_on, "fee": fee}
    return _record(bind, "payment-taken", partner_id, idempotency_key, fields, body)


def payment_failed(bind: Bind, *, partner_id: str, payment_id: str, status: str = "failed",
                   idempotency_key: str | None = None) -> int | None:
    """A payment failed or was refunded after it was reported. A write not sent yet is cancelled;
    one that was (or may have been) made gets a delete row, whose outbox id is returned."""
    def body(conn: sa.Connection, pid: str) -> int | None:
        pay_id = check.text_id("payment_id", payment_id)
        word = check.failure_status("status", status)
        p = payments.c
        # Locked: a concurrent report of the same failure waits, then reads it (and restores
        # nothing twice).
        row = conn.execute(
            sa.select(p.source, p.status, p.invoice_id, p.amount_minor)
            .where(p.partner_id == pid, p.payment_id == pay_id).with_for_update()
        ).first()
        if row is None:
            raise EventRefused("payment_id", f"no payment {pay_id} for partner {pid!r}")
        if row.source != "alternative":
            raise EventRefused("payment_id", f"payment {pay_id} was not collected by Alternative")
        if row.status not in ("succeeded", word):
            raise EventConflict("status", f"payment {pay_id} is already {row.status}")
        inv = _invoice(conn, pid, row.invoice_id)  # locked before the payment's status moves
        was_live = row.status == "succeeded"
        try:
            outbox_id = outbox.record_payment_failure(conn, pay_id, word, partner_id=pid)
        except OutboxError as exc:  # pragma: no cover - checked above
            raise _refuse_outbox(exc, "payment_id") from None
        if was_live and inv.source != "xero":
            _set_balance(conn, inv, min(int(inv.total_minor), int(inv.outstanding_minor) + int(row.amount_minor)))
        return outbox_id

    return _record(bind, "payment-failed", partner_id, idempotency_key,
                   {"payment_id": payment_id, "status": status}, body)


def payout_sent(bind: Bind, *, partner_id: str, payout_id: str, currency: str,
                payment_ids: Sequence[str], fees: object, paid_out_on: object,
                refund_ids: Sequence[str] = (), idempotency_key: str | None = None) -> int:
    """A payout of collected payments (net of the fees the partner absorbs, less the refunds it
    takes back) sent to the partner's bank, and its write to Xero. Returns the outbox id; the
    same payout again returns it again.

    A payment joins one payout only: the payout claims its payments with a guarded UPDATE
    (`outbox.record_payout`), so of two payouts naming one payment the second is refused
    (EventConflict) and writes nothing. `refund_ids`: refunded payments of earlier payouts whose
    money this payout takes back (each once)."""
    def body(conn: sa.Connection, pid: str) -> int:
        po_id = check.text_id("payout_id", payout_id)
        cur = check.currency("currency", currency)
        ids = check.id_list("payment_ids", payment_ids)
        refunds = check.id_list("refund_ids", refund_ids, allow_empty=True)
        fees_minor = check.amount_minor("fees", fees, cur, allow_zero=True)
        day = check.day("paid_out_on", paid_out_on)
        def recorded() -> sa.Row | None:
            return conn.execute(
                sa.select(payouts.c.currency, payouts.c.fees_minor, payouts.c.paid_out_on)
                .where(payouts.c.partner_id == pid, payouts.c.payout_id == po_id)
            ).first()

        existing = recorded()
        if existing is not None:
            return _same_payout(conn, existing, pid, po_id, cur, ids, refunds, fees_minor, day)
        known = set(conn.execute(
            sa.select(payments.c.payment_id)
            .where(payments.c.partner_id == pid, payments.c.payment_id.in_([*ids, *refunds]))
        ).scalars())
        for field, listed in (("payment_ids", ids), ("refund_ids", refunds)):
            for n, payment in enumerate(listed):
                if payment not in known:
                    raise EventRefused(f"{field}[{n}]", f"no payment {payment} for partner {pid!r}")
        try:
            return outbox.record_payout(conn, payout_id=po_id, partner_id=pid, currency=cur,
                                        payment_ids=ids, fees_minor=fees_minor, paid_out_on=day,
                                        refund_ids=refunds)
        except OutboxError as exc:
            meanwhile = recorded()  # the same payout, committed by a concurrent replay
            if meanwhile is not None:
                return _same_payout(conn, meanwhile, pid, po_id, cur, ids, refunds, fees_minor, day)
            # record_payout's own checks (currency, status, source, already paid out, fees) run
            # before it writes; a payment claimed meanwhile undoes its writes. Its message names
            # the payment.
            text = str(exc)
            field = "fees" if ": fees " in text else "refund_ids" if "refund" in text else "payment_ids"
            raise _refuse_outbox(exc, field) from None

    fields = {"payout_id": payout_id, "currency": currency, "payment_ids": list(payment_ids)
              if isinstance(payment_ids, list | tuple) else payment_ids, "fees": fees,
              "paid_out_on": paid_out_on, "refund_ids": list(refund_ids)
              if isinstance(refund_ids, list | tuple) else refund_ids}
    return _record(bind, "payout-sent", partner_id, idempotency_key, fields, body)


def _same_payout(conn: sa.Connection, existing: sa.Row, partner_id: str, payout_id: str,
                 currency: str, ids: list[str], refunds: list[str], fees_minor: int,
                 day: dt.date) -> int:
    p = payments.c
    linked = set(conn.execute(sa.select(p.payment_id).where(
        p.partner_id == partner_id, p.payout_id == payout_id)).scalars())
    taken_back = set(conn.execute(sa.select(p.payment_id).where(
        p.partner_id == partner_id, p.refund_payout_id == payout_id)).scalars())
    if (existing.currency, existing.fees_minor, existing.paid_out_on, linked, taken_back) != \
            (currency, fees_minor, day, set(ids), set(refunds)):
        raise EventConflict("payout_id", f"payout {payout_id} is already recorded with other details")
    o = outbox_table.c
    return conn.execute(
        sa.select(o.outbox_id).where(o.partner_id == partner_id, o.subject_id == payout_id,
                                     o.kind == "payout").order_by(o.outbox_id).limit(1)
    ).scalar_one()  # recorded with its payout in one transaction, never deleted


# --- the events by name, for the CLI and the JSON endpoints ------------------------------------


@dataclass(frozen=True)
class EventKind:
    """One event as the CLI and the JSON endpoints expose it: its keyword arguments (besides
    partner_id), which are required, and the name of the id it returns."""

    name: str
    record: Callable[..., object]
    required: tuple[str, ...]
    optional: tuple[str, ...]
    result: str

    @property
    def fields(self) -> tuple[str, ...]:
        return self.required + self.optional

    def call(self, bind: Bind, partner_id: object, values: Mapping[str, object],
             idempotency_key: str | None = None) -> object:
        """Record from loosely typed `values` (a JSON body, CLI options): unknown or missing
        fields are refused like any other bad input. With `idempotency_key`, a replay of the same
        request returns the first answer (platform.event_requests)."""
        unknown = sorted(str(k) for k in set(values) - set(self.fields))
        if unknown:
            name = unknown[0]
            field = name if re.fullmatch(r"[a-z_]{1,40}", name) else "body"
            raise EventRefused(field, f"{check.shown(name)} is not a field of {self.name} "
                                      f"(fields: {', '.join(self.fields)})")
        missing = [f for f in self.required if values.get(f) is None]
        if missing:
            raise EventRefused(missing[0], f"is required for {self.name}")
        given = {k: v for k, v in values.items() if v is not None}
        return self.record(bind, partner_id=partner_id, idempotency_key=idempotency_key, **given)


EVENTS: dict[str, EventKind] = {e.name: e for e in (
    EventKind("customer-created", customer_created, ("name",), ("email",), "customer_id"),
    EventKind("invoice-created", invoice_created, ("number", "currency", "amount", "issue_date"),
              ("due_date", "customer_id"), "invoice_id"),
    EventKind("invoice-edited", invoice_edited, ("invoice_id",), ("amount", "due_date"), "invoice_id"),
    EventKind("archived", archived, ("subject", "subject_id"), (), "subject_id"),
    EventKind("payment-taken", payment_taken, ("payment_id", "invoice_id", "amount", "currency", "paid_on"),
              ("fee",), "outbox_id"),
    EventKind("payment-failed", payment_failed, ("payment_id",), ("status",), "outbox_id"),
    EventKind("payout-sent", payout_sent, ("payout_id", "currency", "payment_ids", "fees", "paid_out_on"),
              ("refund_ids",), "outbox_id"),
)}
