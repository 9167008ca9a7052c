"""The outbox of writes to Xero (SPEC section 4): one row per intended write, inserted in the same
transaction as the platform event that causes it, so a write is never lost and never made twice.

Status: pending -> sending -> done | rejected; `unknown` after a lost response (the push path
re-sends the very request it first sent, same key, while Xero may replay it, and looks it up by
`reference` once the original can no longer be in flight; see push/settle.py); `waiting_accounts`
until Set Up Accounts is done; `cancelled` when the payment failed before its write was sent;
`held` when a row reached MAX_ATTEMPTS sends without settling (a person looks; docs/operations.md "Exactly
once"). Only `claim` moves a row to sending, and only from pending/unknown, so two pushers never
send the same row; the pusher holding a `sending` row is named in `claimed_by`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

import sqlalchemy as sa

from xero_sync.store.bulk import dialect_insert
from xero_sync.core.ids import check_record_id
from xero_sync.store.schema import invoices, outbox, payments, payouts, reconciliation_diffs
from xero_sync.store.states import OutboxStatus as S

WRITE_KINDS = ("payment", "deposit")  # the original write of an Alternative payment
DELETE_KIND = {"payment": "delete_payment", "deposit": "delete_deposit"}
CLAIMABLE = (S.PENDING, S.UNKNOWN)
MAX_ATTEMPTS = 25  # sends of one row before it is `held` for a person (not retried for ever)
FAILED_PAYMENT_STATUSES = ("failed", "refunded")
_MAX_KEY = 128


class OutboxError(Exception):
    """A payment, payout or outbox row cannot be recorded or moved as asked."""


class AlreadyClaimed(OutboxError):
    """A payment (or refund) is already another payout's, or the id is recorded with other
    details: what is recorded stands, nothing was written."""


@dataclass(frozen=True, slots=True)
class OutboxRow:
    outbox_id: int
    partner_id: str
    kind: str
    subject_id: str
    idempotency_key: str
    reference: str
    payload: dict
    status: str
    attempts: int
    xero_ids: dict | None
    error: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    request_key: str | None = None
    request: dict | None = None
    first_sent_at: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    ever_unknown: bool = False
    claimed_by: str | None = None


_COLUMNS = [outbox.c[f.name] for f in fields(OutboxRow)]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


KEY_SEPARATOR = "/"  # in no partner id, record id or kind (core/ids.py): keys cannot collide


def idempotency_key(partner_id: str, kind: str, subject_id: str, repair_of: int | None = None) -> str:
    """`xs/{partner}/{kind}/{subject}` (+ `/repair/{outbox id}` for a repair): its parts are
    joined with a separator none of them can contain, so two different writes never share a
    key. A part holding the separator, or a key over the column's 128 characters, is replaced by
    `xs/{kind}/h/` + a hash of the parts' canonical JSON encoding. Rows already in the outbox keep
    the keys they were given (`xs-...`, joined with '-'): a key is never changed once stored."""
    parts = [partner_id, kind, subject_id] + ([] if repair_of is None else ["repair", str(repair_of)])
    key = KEY_SEPARATOR.join(["xs", *parts])
    if len(key) <= _MAX_KEY and all(p and KEY_SEPARATOR not in p for p in parts):
        return key
    canonical = json.dumps(parts, separators=(",", ":"), ensure_ascii=True)
    return f"xs/{kind}/h/{hashlib.sha256(canonical.encode()).hexdigest()}"


def _insert(conn: sa.Connection, *, partner_id: str, kind: str, subject_id: str, reference: str,
            payload: Mapping[str, object]) -> int:
    return conn.execute(
        sa.insert(outbox)
        .values(
            partner_id=partner_id, kind=kind, subject_id=subject_id,
            idempotency_key=idempotency_key(partner_id, kind, subject_id),
            reference=reference, payload=dict(payload), status=S.PENDING,
        )
        .returning(outbox.c.outbox_id)
    ).scalar_one()


def _original_write(conn: sa.Connection, partner_id: str, payment_id: str, *,
                    latest: bool = False) -> sa.Row | None:
    """The payment's first write (or, `latest`, its newest: a repair re-queued by the diff)."""
    order = outbox.c.outbox_id.desc() if latest else outbox.c.outbox_id
    return conn.execute(
        sa.select(outbox.c.outbox_id, outbox.c.kind, outbox.c.status, outbox.c.partner_id)
        .where(outbox.c.partner_id == partner_id, outbox.c.subject_id == payment_id,
               outbox.c.kind.in_(WRITE_KINDS))
        .order_by(order)
    ).first()


REPAIRABLE = (*WRITE_KINDS, "payout")


def requeue_repair(conn: sa.Connection, outbox_id: int, note: str | None = None) -> int | None:
    """A done write Xero showed gone (a payment or payout deleted there: push/repairs.py's
    evidence): queue it again as a NEW row (new idempotency key, same reference and payload)
    linked to it by `repairs_outbox_id`, with `note` (the evidence) as its visible reason.
    Returns the new row's id, or None when that write already has its repair (so a diff
    materialized twice queues once; the unique index keeps it so under concurrency) or is not a
    done REPAIRABLE write."""
    old = get(conn, outbox_id)
    if old is None or old.kind not in REPAIRABLE or old.status != S.DONE:
        return None
    # The unique repairs_outbox_id (and the repair's deterministic key) is the guard: a second
    # repair of the same write, however concurrent, inserts nothing.
    return conn.execute(
        dialect_insert(conn, outbox).values(
            partner_id=old.partner_id, kind=old.kind, subject_id=old.subject_id,
            idempotency_key=idempotency_key(old.partner_id, old.kind, old.subject_id,
                                            repair_of=outbox_id),
            reference=old.reference, payload=dict(old.payload), status=S.PENDING,
            repairs_outbox_id=outbox_id, error=note[:500] if note else None,
        ).on_conflict_do_nothing().returning(outbox.c.outbox_id)
    ).scalar()


def requeue_reviewed(conn: sa.Connection, outbox_id: int, note: str) -> int:
    """A person re-queues a write the diff would not re-create (deleted in Xero again after its
    repair, not shown by id, or gone beside a possible manual booking). Only a done write whose
    subject has a "review" row in the partner's latest reconciliation diff; at most once per
    write (the unique `repairs_outbox_id`), so two operators cannot write it twice."""
    old = get(conn, outbox_id)
    if old is None:
        raise OutboxError(f"outbox row {outbox_id} does not exist")
    if old.kind not in REPAIRABLE or old.status != S.DONE:
        raise OutboxError(f"outbox row {outbox_id} is a {old.status} {old.kind} write; only a done "
                          f"{'/'.join(REPAIRABLE)} write can be re-queued")
    d = reconciliation_diffs.c
    review = conn.execute(
        sa.select(d.action).where(d.partner_id == old.partner_id, d.subject_id == old.subject_id,
                                  d.action.like("review:%"))
    ).first()
    if review is None:
        raise OutboxError(
            f"outbox row {outbox_id} ({old.kind} {old.subject_id}): the partner's latest "
            "reconciliation diff has no review row for it; materialize reconciliation_diff first "
            "(a write is re-queued only after Xero was seen without it)")
    # Two operators at once: the unique index on repairs_outbox_id lets one insert; the others
    # insert nothing and are told so.
    new = requeue_repair(conn, outbox_id, note=f"re-queued by a person: {note}")
    if new is None:
        raise OutboxError(f"outbox row {outbox_id} was already re-queued")
    return new


def record_payment(
    conn: sa.Connection,
    *,
    payment_id: str,
    partner_id: str,
    invoice_id: int,
    amount_minor: int,
    fee_minor: int,
    currency: str,
    paid_on: dt.date,
    ) -> int:
    """Record a succeeded Alternative payment and its write to Xero; returns the outbox id.

    Kind `payment` (applied to the Xero invoice) if the invoice came from Xero, `deposit`
    (stand-alone deposit) if it was created in Alternative. Recording the same payment again
    returns the same outbox id; the same id with other amounts is refused.
    """
    check_record_id(payment_id, "payment id")
    for name, value in (("amount_minor", amount_minor), ("fee_minor", fee_minor)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"payment {payment_id}: {name} must be int minor units, got {value!r}")
    if amount_minor <= 0 or fee_minor < 0:
        raise OutboxError(f"payment {payment_id}: amount must be > 0 and fee >= 0 "
                          f"(got {amount_minor}, {fee_minor})")
    invoice = conn.execute(
        sa.select(invoices.c.source, invoices.c.xero_invoice_id, invoices.c.number,
                  invoices.c.currency, invoices.c.partner_id)
        .where(invoices.c.invoice_id == invoice_id, invoices.c.partner_id == partner_id)
    ).first()
    if invoice is None:
        raise OutboxError(f"payment {payment_id}: invoice {invoice_id} is not an invoice of partner {partner_id!r}")
    if invoice.currency != currency:
        raise OutboxError(f"payment {payment_id}: currency {currency} differs from invoice {invoice_id}'s {invoice.currency}")

    existing = conn.execute(
        sa.select(payments.c.partner_id, payments.c.invoice_id, payments.c.amount_minor,
                  payments.c.fee_minor, payments.c.currency, payments.c.paid_on)
        .where(payments.c.partner_id == partner_id, payments.c.payment_id == payment_id)
    ).first()
    if existing is not None:
        if tuple(existing) != (partner_id, invoice_id, amount_minor, fee_minor, currency, paid_on):
            raise AlreadyClaimed(f"payment {payment_id} is already recorded with other details")
        original = _original_write(conn, partner_id, payment_id)
        if original is None:
            raise OutboxError(f"payment {payment_id} exists without its outbox row")
        return original.outbox_id

    kind = "payment" if invoice.source == "xero" else "deposit"
    conn.execute(
        sa.insert(payments).values(
            payment_id=payment_id, partner_id=partner_id, invoice_id=invoice_id,
            source="alternative", amount_minor=amount_minor, fee_minor=fee_minor,
            currency=currency, paid_on=paid_on, status="succeeded",
        )
    )
    payload = {
        "payment_id": payment_id, "invoice_id": invoice_id,
        "xero_invoice_id": invoice.xero_invoice_id, "invoice_number": invoice.number,
        "amount_minor": amount_minor, "fee_minor": fee_minor, "currency": currency,
        "date": paid_on.isoformat(),
    }
    return _insert(conn, partner_id=partner_id, kind=kind, subject_id=payment_id,
                   reference=payment_id, payload=payload)


def record_payout(
    conn: sa.Connection,
    *,
    payout_id: str,
    partner_id: str,
    currency: str,
    payment_ids: Sequence[str],
    fees_minor: int,
    paid_out_on: dt.date,
    refund_ids: Sequence[str] = (),
) -> int:
    """Record a payout, link its payments (and the refunds it takes back) to it, and queue its
    write to Xero; returns the outbox id.

    gross = its payments - the refunds it deducts; net = gross - fees (the bank line). The payload
    also splits the gross the way SPEC section 4 books it (see sync.ledger): `xero_invoice_minor`,
    money on Xero invoices, which sits in the payments account; `deposits`, the stand-alone
    deposits (payments on invoices created in Alternative; a deducted refund of one is negative),
    which went straight into the deposit account unless the payments account is a BANK account.
    A refund can be deducted once, by a payout after the one that paid it out.

    Concurrency: the checks below read, but the claim is a guarded UPDATE (`payout_id IS NULL`,
    `refund_payout_id IS NULL`) whose row count must match, in a savepoint with the payout's
    insert: a payout that loses a payment to a concurrent one raises AlreadyClaimed having
    written nothing (its outbox row is never inserted).
    """
    if not payment_ids:
        raise OutboxError(f"payout {payout_id}: no payments")
    if not isinstance(fees_minor, int) or isinstance(fees_minor, bool) or fees_minor < 0:
        raise OutboxError(f"payout {payout_id}: fees_minor must be an int >= 0, got {fees_minor!r}")
    overlap = sorted(set(payment_ids) & set(refund_ids))
    if overlap:
        raise OutboxError(f"payout {payout_id}: {overlap} are both paid out and refunded in it")
    wanted = [*payment_ids, *refund_ids]
    p, i = payments.c, invoices.c
    rows = conn.execute(
        sa.select(p.payment_id, p.partner_id, p.currency, p.status, p.payout_id, p.amount_minor,
                  p.source, p.refund_payout_id, i.source.label("invoice_source"))
        .join(invoices, i.invoice_id == p.invoice_id)
        .where(p.partner_id == partner_id, p.payment_id.in_(wanted))
    ).all()
    found = {r.payment_id: r for r in rows}
    missing = sorted(set(wanted) - set(found))
    if missing:
        raise OutboxError(f"payout {payout_id}: unknown payments {missing}")
    for pid in wanted:
        problem = _payout_problem(found[pid], payout_id, currency, refund=pid in refund_ids)
        if problem:
            kind = "refund" if pid in refund_ids else "payment"
            error = AlreadyClaimed if "already" in problem else OutboxError
            raise error(f"payout {payout_id}: {kind} {pid} {problem}")

    def signed(pid: str) -> int:
        return -found[pid].amount_minor if pid in refund_ids else found[pid].amount_minor

    on_xero = [pid for pid in wanted if found[pid].invoice_source == "xero"]
    standalone = [pid for pid in wanted if found[pid].invoice_source != "xero"]
    gross = sum(signed(pid) for pid in wanted)
    if gross <= 0:
        raise OutboxError(f"payout {payout_id}: refunds {gross - sum(map(signed, payment_ids))} "
                          f"leave nothing to pay out")
    if fees_minor > gross:
        raise OutboxError(f"payout {payout_id}: fees {fees_minor} exceed gross {gross}")
    # The claim: each payment joins this payout only if no payout has it yet (each refund is taken
    # back once), whatever was read above; a payout that loses the race to a concurrent one writes
    # nothing (its savepoint is rolled back) and names the payment.
    with conn.begin_nested() as claim:
        conn.execute(
            sa.insert(payouts).values(
                payout_id=payout_id, partner_id=partner_id, currency=currency, gross_minor=gross,
                fees_minor=fees_minor, net_minor=gross - fees_minor, paid_out_on=paid_out_on,
            )
        )
        claimed = conn.execute(
            sa.update(payments)
            .where(p.partner_id == partner_id, p.payment_id.in_(list(payment_ids)),
                   p.payout_id.is_(None), p.status == "succeeded")
            .values(payout_id=payout_id)
        ).rowcount
        taken_back = conn.execute(
            sa.update(payments)
            .where(p.partner_id == partner_id, p.payment_id.in_(list(refund_ids)),
                   p.refund_payout_id.is_(None), p.status == "refunded", p.payout_id.is_not(None),
                   p.payout_id != payout_id)
            .values(refund_payout_id=payout_id)
        ).rowcount if refund_ids else 0
        lost = (claimed, taken_back) != (len(payment_ids), len(refund_ids))
        if lost:
            claim.rollback()
    if lost:
        raise AlreadyClaimed(_lost_claim(conn, payout_id, partner_id, payment_ids, refund_ids))
    payload = {
        "payout_id": payout_id, "currency": currency, "payment_ids": sorted(payment_ids),
        "refund_ids": sorted(refund_ids),
        "gross_minor": gross, "fees_minor": fees_minor, "net_minor": gross - fees_minor,
        "xero_invoice_minor": sum(signed(pid) for pid in on_xero),
        "deposits": [{"payment_id": pid, "amount_minor": signed(pid)} for pid in sorted(standalone)],
        "deposit_payment_ids": sorted(pid for pid in standalone if pid not in refund_ids),
        "date": paid_out_on.isoformat(),
    }
    return _insert(conn, partner_id=partner_id, kind="payout", subject_id=payout_id,
                   reference=payout_id, payload=payload)


def _payout_problem(r: sa.Row, payout_id: str, currency: str, *, refund: bool) -> str | None:
    """Why payment `r` cannot be paid out (or, `refund`, taken back) by this payout, if it cannot."""
    if r.currency != currency:
        return f"is in {r.currency}, not {currency}"
    if r.source != "alternative":
        return "was not collected by Alternative"
    if not refund:
        return (f"is {r.status}" if r.status != "succeeded"
                else f"is already in payout {r.payout_id}" if r.payout_id is not None else None)
    return (f"is {r.status}, not refunded" if r.status != "refunded"
            else "was never paid out, so there is nothing to take back"
            if r.payout_id in (None, payout_id)
            else f"was already taken back by payout {r.refund_payout_id}"
            if r.refund_payout_id is not None else None)


def _lost_claim(conn: sa.Connection, payout_id: str, partner_id: str, payment_ids: Sequence[str],
                refund_ids: Sequence[str]) -> str:
    """The message of a payout that lost a payment (or refund) to a concurrent payout."""
    p = payments.c
    rows = conn.execute(
        sa.select(p.payment_id, p.status, p.payout_id, p.refund_payout_id)
        .where(p.partner_id == partner_id, p.payment_id.in_([*payment_ids, *refund_ids]))
        .order_by(p.payment_id)
    ).all()
    for r in rows:
        if r.payment_id in refund_ids and r.refund_payout_id is not None:
            return f"payout {payout_id}: refund {r.payment_id} was already taken back by payout {r.refund_payout_id}"
        if r.payment_id in payment_ids and r.payout_id is not None:
            return f"payout {payout_id}: payment {r.payment_id} is already in payout {r.payout_id}"
        if r.payment_id in payment_ids and r.status != "succeeded":
            return f"payout {payout_id}: payment {r.payment_id} is already {r.status}"
    return f"payout {payout_id}: its payments changed meanwhile; nothing was written, report it again"


def record_payment_failure(conn: sa.Connection, payment_id: str, status: str = "failed", *,
                           partner_id: str | None = None) -> int | None:
    """A payment failed or was refunded after it was recorded.

    Its write not yet sent (pending / waiting_accounts) is cancelled; a write that was or may have
    been made (done / sending / unknown) gets a delete row, returned. A rejected write needs
    nothing. Recording the same failure again changes nothing. Payment ids are the partner's:
    without `partner_id`, the id must be recorded for one partner only.
    """
    if status not in FAILED_PAYMENT_STATUSES:
        raise ValueError(f"payment {payment_id}: status must be one of {FAILED_PAYMENT_STATUSES}, got {status!r}")
    query = sa.select(payments.c.partner_id, payments.c.source, payments.c.status) \
        .where(payments.c.payment_id == payment_id)
    if partner_id is not None:
        query = query.where(payments.c.partner_id == partner_id)
    found = conn.execute(query.limit(2)).all()
    if not found:
        raise OutboxError(f"payment {payment_id} is not recorded")
    if len(found) > 1:
        raise OutboxError(f"payment {payment_id} is recorded for several partners: name the partner")
    payment = found[0]
    if payment.source != "alternative":
        raise OutboxError(f"payment {payment_id} was not collected by Alternative")
    conn.execute(sa.update(payments).where(payments.c.partner_id == payment.partner_id,
                                           payments.c.payment_id == payment_id).values(status=status))
    original = _original_write(conn, payment.partner_id, payment_id, latest=True)
    if original is None:
        return None
    if original.status in (S.PENDING, S.WAITING_ACCOUNTS):
        conn.execute(
            sa.update(outbox)
            .where(outbox.c.outbox_id == original.outbox_id, outbox.c.status == original.status)
            .values(status=S.CANCELLED, error=f"payment {status} before it was written", updated_at=_now())
        )
        return None
    ever_unknown = conn.execute(
        sa.select(outbox.c.ever_unknown).where(outbox.c.outbox_id == original.outbox_id)).scalar()
    if original.status not in (S.DONE, S.SENDING, S.UNKNOWN, S.HELD) and not ever_unknown:
        return None  # rejected or cancelled and never in doubt: nothing exists in Xero
    # A write whose outcome was ever unknown may exist even if later refused: the delete row looks
    # Xero up before deciding there is nothing to delete.
    kind = DELETE_KIND[original.kind]
    already = conn.execute(
        sa.select(outbox.c.outbox_id).where(outbox.c.partner_id == payment.partner_id,
                                            outbox.c.subject_id == payment_id, outbox.c.kind == kind)
    ).scalar()
    if already is not None:
        return already
    return _insert(
        conn, partner_id=payment.partner_id, kind=kind, subject_id=payment_id,
        reference=payment_id,
        payload={"payment_id": payment_id, "original_outbox_id": original.outbox_id, "reason": status},
    )


# The note a row released by Set Up Accounts carries until it is sent: the outbox sensor keys
# a run on it, so the release goes out on the next tick.
RELEASED_NOTE = "released: accounts set up"


def release_waiting(conn: sa.Connection, partner_id: str) -> int:
    """Accounts are set up: the partner's waiting writes become pending again. Returns how many."""
    return conn.execute(
        sa.update(outbox)
        .where(outbox.c.partner_id == partner_id, outbox.c.status == S.WAITING_ACCOUNTS)
        .values(status=S.PENDING, error=RELEASED_NOTE, updated_at=_now())
    ).rowcount


def pending(conn: sa.Connection, *, after_id: int = 0, limit: int = 100,
            partner_id: str | None = None) -> list[OutboxRow]:
    """Claimable rows (pending or unknown) after `after_id`, oldest first, at most `limit`."""
    query = (
        sa.select(*_COLUMNS)
        .where(outbox.c.status.in_(CLAIMABLE), outbox.c.outbox_id > after_id)
        .order_by(outbox.c.outbox_id)
        .limit(limit)
    )
    if partner_id is not None:
        query = query.where(outbox.c.partner_id == partner_id)
    return [OutboxRow(**r._mapping) for r in conn.execute(query)]


def get(conn: sa.Connection, outbox_id: int) -> OutboxRow | None:
    row = conn.execute(sa.select(*_COLUMNS).where(outbox.c.outbox_id == outbox_id)).first()
    return None if row is None else OutboxRow(**row._mapping)


def claim(conn: sa.Connection, outbox_ids: Sequence[int], owner: str | None = None) -> list[OutboxRow]:
    """pending/unknown -> sending, held by `owner`, for those ids; returns only the rows this
    call claimed (a row another pusher claimed first is left out). Attempts count sends
    (`record_request`), not claims: a row that only waits is not a failed attempt."""
    if not outbox_ids:
        return []
    rows = conn.execute(
        sa.update(outbox)
        .where(outbox.c.outbox_id.in_(list(outbox_ids)), outbox.c.status.in_(CLAIMABLE))
        .values(status=S.SENDING, claimed_by=owner, updated_at=_now())
        .returning(*_COLUMNS)
    ).all()
    return sorted((OutboxRow(**r._mapping) for r in rows), key=lambda r: r.outbox_id)


def record_request(conn: sa.Connection, outbox_ids: Sequence[int], *, key: str, request: dict,
                   sent_at: dt.datetime) -> None:
    """Committed before the request is sent: the key and request a row is first sent with are
    kept (never replaced while set), `first_sent_at` opens the key's window, `sent_at` marks the
    latest send (in flight until sent_at + the client's longest write), attempts + 1."""
    ids = list(outbox_ids)
    conn.execute(
        sa.update(outbox).where(outbox.c.outbox_id.in_(ids), outbox.c.request_key.is_(None))
        .values(request_key=key, request=request, first_sent_at=sent_at)
    )
    conn.execute(
        sa.update(outbox).where(outbox.c.outbox_id.in_(ids))
        .values(sent_at=sent_at, attempts=outbox.c.attempts + 1, updated_at=_now())
    )
    # Every row of this request is in flight again, also those another push will settle.
    conn.execute(
        sa.update(outbox).where(outbox.c.request_key == key, outbox.c.sent_at < sent_at)
        .values(sent_at=sent_at)
    )


def replace_request(conn: sa.Connection, outbox_ids: Sequence[int], *, key: str, request: dict,
                    sent_at: dt.datetime) -> None:
    """A new request for rows whose original was looked up and proven absent after it settled
    and its key expired (the only time a row's request may change)."""
    conn.execute(
        sa.update(outbox).where(outbox.c.outbox_id.in_(list(outbox_ids)))
        .values(request_key=key, request=request, first_sent_at=sent_at)
    )
    record_request(conn, outbox_ids, key=key, request=request, sent_at=sent_at)


def release(conn: sa.Connection, outbox_id: int, reason: str) -> None:
    """A claimed row this push did not send goes back to what it was (pending, or unknown if it
    was ever in doubt), with the reason visible."""
    row = get(conn, outbox_id)
    if row is None or row.status != S.SENDING:
        return
    status = S.UNKNOWN if row.ever_unknown or row.sent_at is not None else S.PENDING
    conn.execute(sa.update(outbox).where(outbox.c.outbox_id == outbox_id)
                 .values(status=status, claimed_by=None, error=reason,
                         ever_unknown=status == S.UNKNOWN, updated_at=_now()))


def mark_held(conn: sa.Connection, outbox_id: int, reason: str) -> OutboxRow:
    """Sent MAX_ATTEMPTS times without settling: kept for a person, no longer retried."""
    return _move(conn, outbox_id, (S.SENDING, S.PENDING, S.UNKNOWN), S.HELD, error=reason,
                 claimed_by=None)


def resume_held(conn: sa.Connection, outbox_id: int, note: str) -> OutboxRow:
    """A person checked Xero and wants the row settled again: back to `unknown` with its sends
    counted from zero, so the push path first looks it up by reference (or re-sends the very
    request it sent, with its key, while Xero may still replay it): never a second write."""
    return _move(conn, outbox_id, (S.HELD,), S.UNKNOWN, error=f"resumed: {note}", attempts=0,
                 ever_unknown=True, claimed_by=None)


def cancel_held(conn: sa.Connection, outbox_id: int, note: str) -> OutboxRow:
    """A person checked Xero and decided this write must not be made (or was made by hand)."""
    return _move(conn, outbox_id, (S.HELD,), S.CANCELLED, error=f"cancelled: {note}", claimed_by=None)


def held_rows(conn: sa.Connection, partner_id: str | None = None) -> list[OutboxRow]:
    query = sa.select(*_COLUMNS).where(outbox.c.status == S.HELD).order_by(outbox.c.outbox_id)
    if partner_id is not None:
        query = query.where(outbox.c.partner_id == partner_id)
    return [OutboxRow(**r._mapping) for r in conn.execute(query)]


def _move(conn: sa.Connection, outbox_id: int, allowed_from: tuple[S, ...], status: S,
          **values: object) -> OutboxRow:
    row = conn.execute(
        sa.update(outbox)
        .where(outbox.c.outbox_id == outbox_id, outbox.c.status.in_(allowed_from))
        .values(status=status, updated_at=_now(), **values)
        .returning(*_COLUMNS)
    ).first()
    if row is None:
        current = get(conn, outbox_id)
        where = "does not exist" if current is None else f"is {current.status}"
        raise OutboxError(f"outbox row {outbox_id} {where}; cannot mark it {status} "
                          f"(allowed from {', '.join(allowed_from)})")
    return OutboxRow(**row._mapping)


def mark_done(conn: sa.Connection, outbox_id: int, xero_ids: Mapping[str, str]) -> OutboxRow:
    """The write exists in Xero (sent now, or found by reference after an unknown outcome).

    For a payment/deposit, Xero's PaymentID (or BankTransactionID) is also stored on the payment.
    """
    row = _move(conn, outbox_id, (S.SENDING, S.UNKNOWN), S.DONE, xero_ids=dict(xero_ids), error=None,
                claimed_by=None)
    xero_id = xero_ids.get("PaymentID") or xero_ids.get("BankTransactionID")
    if row.kind in WRITE_KINDS and xero_id:
        conn.execute(
            sa.update(payments).where(payments.c.partner_id == row.partner_id,
                                      payments.c.payment_id == row.subject_id).values(xero_payment_id=xero_id)
        )
    return row


def mark_rejected(conn: sa.Connection, outbox_id: int, error: str) -> OutboxRow:
    """Xero refused the write (validation error): kept with Xero's message, not retried."""
    return _move(conn, outbox_id, (S.SENDING, S.UNKNOWN), S.REJECTED, error=error, claimed_by=None)


def mark_unknown(conn: sa.Connection, outbox_id: int, error: str) -> OutboxRow:
    """The response was lost: the same request is re-sent while Xero may replay it, and the write
    looked up by reference once the original can no longer be in flight (push/settle.py)."""
    return _move(conn, outbox_id, (S.SENDING, S.UNKNOWN), S.UNKNOWN, error=error, ever_unknown=True,
                 claimed_by=None)


def mark_waiting_accounts(conn: sa.Connection, outbox_id: int, detail: str | None = None) -> OutboxRow:
    """The partner has not set up accounts: the write waits (visible, not failed)."""
    return _move(conn, outbox_id, (S.PENDING, S.SENDING), S.WAITING_ACCOUNTS,
                 error=detail or "waiting for Set Up Accounts", claimed_by=None)
