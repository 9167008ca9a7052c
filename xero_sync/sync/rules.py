"""SPEC section 2 as pure functions: a landed Xero record + the platform's row -> one change.

No I/O here. The platform layer reads both sides, calls `reconcile_*`, and writes `values`.
All money is integer minor units; timestamps are aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar

from xero_sync.core.money import from_minor, to_minor
from xero_sync.core.records import ContactRecord, InvoiceRecord, PaymentRecord

# Xero invoice statuses by what sync does with them (SPEC 2, "What is synced").
SYNCED_STATUSES = frozenset({"AUTHORISED", "PAID"})  # approved: synced in full
GONE_STATUSES = frozenset({"VOIDED", "DELETED"})  # only ever a flag on a known invoice
UNAPPROVED_STATUSES = frozenset({"DRAFT", "SUBMITTED"})  # never synced
ARCHIVED_CONTACT_STATUSES = frozenset({"ARCHIVED", "GDPRREQUEST"})

# Platform `payments.status` for a Xero-side payment. A payment deleted in Xero is not a refund
# (no money went back to the customer through Alternative), so it gets its own word: "reversed".
PAYMENT_SUCCEEDED = "succeeded"
PAYMENT_REVERSED = "reversed"


@dataclass(frozen=True, slots=True)
class XeroInvoice:
    """One landed Xero invoice (from xero_invoices rows / InvoiceRecord)."""

    xero_invoice_id: str
    number: str | None
    type: str  # ACCREC | ACCPAY | drift
    status: str  # DRAFT SUBMITTED AUTHORISED PAID VOIDED DELETED | drift
    contact_id: str
    currency: str
    issue_date: date
    due_date: date | None
    total_minor: int
    amount_due_minor: int
    amount_paid_minor: int
    amount_credited_minor: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class PlatformInvoice:
    """The platform's current row for that Xero invoice."""

    invoice_id: int
    xero_invoice_id: str | None
    status: str  # unpaid | partially_paid | paid | void
    xero_status: str | None
    total_minor: int
    outstanding_minor: int
    due_date: date | None
    deleted_in_xero: bool
    archived: bool
    xero_updated_at: datetime | None
    pending_payments_minor: int  # Alternative payments not yet applied in Xero (outbox not done)
    # The amount and due date Xero last sent (the three-way rule's baseline); None: no baseline.
    xero_total_minor: int | None = None
    xero_due_date: date | None = None


@dataclass(frozen=True, slots=True)
class InvoiceUpdate:
    """What to do with the platform `invoices` row.

    `values` holds columns to write: status, xero_status, total_minor, outstanding_minor,
    due_date, issue_date, number, currency, deleted_in_xero, conflict, xero_updated_at,
    xero_total_minor, xero_due_date, and edit_conflict only when a new one is found.
    """

    kind: str  # "insert" | "update" | "unchanged" | "skip"
    values: Mapping[str, object]
    reason: str = ""  # why skipped/held (e.g. "draft: not synced", "older than stored")
    conflict: str | None = None  # text listed in the reconciliation diff


@dataclass(frozen=True, slots=True)
class XeroContact:
    contact_id: str
    name: str
    email: str | None
    status: str  # ACTIVE | ARCHIVED | GDPRREQUEST | drift
    is_customer: bool
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class PlatformCustomer:
    customer_id: int
    xero_contact_id: str | None
    name: str
    email: str | None
    deleted_in_xero: bool
    archived: bool
    xero_updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class CustomerUpdate:
    """`values` holds customers columns: name, email, deleted_in_xero, xero_updated_at."""

    kind: str  # "insert" | "update" | "unchanged" | "skip"
    values: Mapping[str, object]
    reason: str = ""


@dataclass(frozen=True, slots=True)
class XeroPayment:
    payment_id: str
    invoice_id: str | None
    date: date
    amount_minor: int
    currency: str | None
    status: str  # AUTHORISED | DELETED
    reference: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class PaymentUpdate:
    """`values` holds payments columns for source='xero' rows: amount_minor, paid_on, currency,
    status."""

    kind: str  # "insert" | "update" | "unchanged" | "skip" | "ours"
    values: Mapping[str, object]
    reason: str = ""




# --- converting landed records -------------------------------------------------------------


def invoice_from_record(record: InvoiceRecord) -> XeroInvoice:
    """InvoiceRecord (Decimal money) -> XeroInvoice (integer minor units in its currency)."""
    cur = record.currency_code
    return XeroInvoice(
        xero_invoice_id=record.invoice_id,
        number=record.invoice_number,
        type=record.type,
        status=record.status,
        contact_id=record.contact_id,
        currency=cur,
        issue_date=record.date,
        due_date=record.due_date,
        total_minor=to_minor(record.total, cur),
        amount_due_minor=to_minor(record.amount_due, cur),
        amount_paid_minor=to_minor(record.amount_paid, cur),
        amount_credited_minor=to_minor(record.amount_credited, cur),
        updated_at=record.updated_at,
    )


def contact_from_record(record: ContactRecord) -> XeroContact:
    return XeroContact(
        contact_id=record.contact_id,
        name=record.name,
        email=record.email,
        status=record.status,
        is_customer=record.is_customer,
        updated_at=record.updated_at,
    )


def payment_from_record(record: PaymentRecord, currency: str | None = None) -> XeroPayment:
    """PaymentRecord -> XeroPayment. `currency` (the invoice's) is used when Xero omits it."""
    cur = record.currency_code or currency
    return XeroPayment(
        payment_id=record.payment_id,
        invoice_id=record.invoice_id,
        date=record.date,
        amount_minor=to_minor(record.amount, cur or "USD"),
        currency=cur,
        status=record.status,
        reference=record.reference,
        updated_at=record.updated_at,
    )


# --- invoices ------------------------------------------------------------------------------


def platform_status(outstanding_minor: int, total_minor: int) -> str:
    """Platform invoice status from the balance: paid, partially_paid or unpaid.

    Derived from amounts rather than Xero's status word so the same rule serves Xero's
    AmountDue and the balance held down by a pending Alternative payment.
    """
    if outstanding_minor <= 0:
        return "paid"
    if outstanding_minor < total_minor:
        return "partially_paid"
    return "unpaid"


def _money(minor: int, currency: str) -> str:
    """Readable amount for conflict texts in the reconciliation diff, e.g. "USD 12.50"."""
    return f"{currency} {from_minor(minor, currency)}"


def _is_older(incoming: datetime, stored: datetime | None) -> bool:
    return stored is not None and incoming < stored


def reconcile_invoice(xero: XeroInvoice, current: PlatformInvoice | None) -> InvoiceUpdate:
    """Decide how a landed Xero invoice changes the platform's invoice (SPEC section 2).

    Never archives, never writes to Xero; a change held back is returned as `conflict`.
    """
    if xero.type != "ACCREC":
        what = "bill (ACCPAY)" if xero.type == "ACCPAY" else f"unknown invoice type {xero.type!r}"
        return InvoiceUpdate("skip", {}, reason=f"{what}: not synced")
    if current is not None and _is_older(xero.updated_at, current.xero_updated_at):
        return InvoiceUpdate("unchanged", {}, reason="older than stored")

    if xero.status in GONE_STATUSES:
        return _flag_gone(xero, current)
    if xero.status in UNAPPROVED_STATUSES or xero.status not in SYNCED_STATUSES:
        if current is not None:
            return InvoiceUpdate(
                "skip", {},
                reason=f"unexpected transition {current.xero_status} -> {xero.status}: kept as is",
            )
        if xero.status in UNAPPROVED_STATUSES:
            return InvoiceUpdate("skip", {}, reason=f"{xero.status.lower()}: not synced")
        return InvoiceUpdate("skip", {}, reason=f"unknown invoice status {xero.status!r}: not synced")

    if current is None:
        return InvoiceUpdate("insert", _approved_values(xero, xero.total_minor, xero.due_date,
                                                        xero.amount_due_minor, None,
                                                        (xero.total_minor, xero.due_date)))
    if current.deleted_in_xero or current.xero_status in GONE_STATUSES:
        # Voided/deleted is final in Xero; an approved version after it is not a real transition.
        return InvoiceUpdate(
            "skip", {},
            reason=f"unexpected transition {current.xero_status} -> {xero.status}: kept as is",
        )
    return _update_approved(xero, current)


def _flag_gone(xero: XeroInvoice, current: PlatformInvoice | None) -> InvoiceUpdate:
    if current is None:
        return InvoiceUpdate("skip", {}, reason=f"{xero.status.lower()} in Xero: never synced")
    # Only the flag and Xero's status move; amounts, status and `archived` stay as they are
    # until the partner archives the invoice by hand.
    values = {"deleted_in_xero": True, "xero_status": xero.status,
              "xero_updated_at": xero.updated_at}
    if (current.deleted_in_xero and current.xero_status == xero.status
            and current.xero_updated_at == xero.updated_at):
        return InvoiceUpdate("unchanged", {}, reason="already flagged deleted_in_xero")
    return InvoiceUpdate("update", values, reason=f"{xero.status.lower()} in Xero: flagged")


def _approved_values(
    xero: XeroInvoice, total: int, due: date | None, outstanding: int, conflict: str | None,
    baseline: tuple[int, date | None],
) -> dict[str, object]:
    return {
        "status": platform_status(outstanding, total),
        "xero_status": xero.status,
        "total_minor": total,
        "outstanding_minor": outstanding,
        "due_date": due,
        "issue_date": xero.issue_date,
        "number": xero.number,
        "currency": xero.currency,
        "deleted_in_xero": False,
        "conflict": conflict,
        "xero_updated_at": xero.updated_at,
        "xero_total_minor": baseline[0],
        "xero_due_date": baseline[1],
    }


V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class EditChoice(Generic[V]):
    """What the three-way rule keeps for one value (amount or due date) of an unpaid invoice."""

    value: V
    source: str  # "xero" | "alternative" | "same"
    conflict: bool = False  # both sides changed it (to different values): Xero's value kept


def three_way(xero: V, landed: V | None, platform: V, *, known: bool = True) -> EditChoice[V]:
    """SPEC section 2, unpaid-invoice edits: Xero's value reaches Alternative only when it changed
    in Xero since the value last landed (`landed`); an Alternative edit with no Xero change
    stays; both changed -> Xero's value wins and the conflict is listed. `known=False` (no
    baseline stored yet): Xero's value applies, as before the baseline existed."""
    if xero == platform:
        return EditChoice(xero, "same")
    if not known:
        return EditChoice(xero, "xero")
    xero_changed, alt_changed = xero != landed, platform != landed
    if not xero_changed:
        return EditChoice(platform, "alternative")
    return EditChoice(xero, "xero", conflict=alt_changed)


def _update_approved(xero: XeroInvoice, current: PlatformInvoice) -> InvoiceUpdate:
    total, due = xero.total_minor, xero.due_date
    outstanding = xero.amount_due_minor
    cur = xero.currency
    notes: list[str] = []
    edit_notes: list[str] = []
    known = current.xero_total_minor is not None
    # The baseline moves to what Xero sent, except for a value held back below: it stays at the
    # last value taken, so the change is seen as Xero's once the invoice is editable again.
    base_total, base_due = xero.total_minor, xero.due_date

    # Amount and due date follow Xero only while the invoice is untouched in Alternative.
    editable = current.status == "unpaid" and current.pending_payments_minor == 0
    if not editable:
        why = (f"an Alternative payment of {_money(current.pending_payments_minor, cur)} is pending"
               if current.pending_payments_minor > 0 else f"invoice is {current.status} in Alternative")
        if xero.total_minor != current.total_minor:
            notes.append(f"total changed in Xero {_money(current.total_minor, cur)} -> "
                         f"{_money(xero.total_minor, cur)} but {why}; kept "
                         f"{_money(current.total_minor, cur)}")
            total = current.total_minor
            base_total = (current.total_minor if current.xero_total_minor is None  # not `known`
                          else current.xero_total_minor)
        if xero.due_date != current.due_date:
            notes.append(f"due date changed in Xero {current.due_date} -> {xero.due_date} "
                         f"but {why}; kept {current.due_date}")
            due = current.due_date
            base_due = current.xero_due_date if known else current.due_date
    else:
        amount = three_way(xero.total_minor, current.xero_total_minor, current.total_minor, known=known)
        when = three_way(xero.due_date, current.xero_due_date, current.due_date, known=known)
        money_in_xero = xero.total_minor - xero.amount_due_minor  # paid or credited in Xero
        if amount.source == "alternative" and money_in_xero:
            # Xero now shows money applied to the invoice: it is no longer an unpaid-invoice edit.
            edit_notes.append(f"amount edited in Alternative to {_money(current.total_minor, cur)}, "
                              f"but Xero shows {_money(money_in_xero, cur)} paid or credited; "
                              f"Xero's {_money(xero.total_minor, cur)} taken")
            amount = EditChoice(xero.total_minor, "xero", conflict=True)
        elif amount.conflict:
            assert current.xero_total_minor is not None  # a conflict needs the landed baseline
            edit_notes.append(f"amount edited in Alternative ({_money(current.total_minor, cur)}) "
                              f"and changed in Xero ({_money(current.xero_total_minor, cur)} -> "
                              f"{_money(xero.total_minor, cur)}); Xero's value taken")
        if when.conflict:
            edit_notes.append(f"due date edited in Alternative ({current.due_date}) and changed in "
                              f"Xero ({current.xero_due_date} -> {xero.due_date}); Xero's value taken")
        total, due = amount.value, when.value
        outstanding = total - money_in_xero

    pending = current.pending_payments_minor
    if pending > 0:
        # The pending payment wins for the balance: Xero's AmountDue does not include it yet.
        outstanding = max(0, xero.amount_due_minor - pending)
    changed = (_differs(xero, current, total, due, outstanding) or bool(edit_notes)
               or (base_total, base_due) != (current.xero_total_minor, current.xero_due_date))
    if changed and pending > 0:
        notes.append(f"Xero changed the invoice (AmountDue {_money(xero.amount_due_minor, cur)}) "
                     f"while an Alternative payment of {_money(pending, cur)} is not yet applied "
                     f"in Xero; balance kept at {_money(outstanding, cur)}")

    if not changed:
        return InvoiceUpdate("unchanged", {}, reason="same as stored")
    conflict = "; ".join(notes) or None
    values = _approved_values(xero, total, due, outstanding, conflict, (base_total, base_due))
    if edit_notes:
        values["edit_conflict"] = "; ".join(edit_notes)
    return InvoiceUpdate("update", values, reason="held: conflict" if conflict else "",
                         conflict=conflict)


def _differs(xero: XeroInvoice, current: PlatformInvoice, total: int, due: date | None,
             outstanding: int) -> bool:
    return (
        xero.updated_at != current.xero_updated_at
        or xero.status != current.xero_status
        or total != current.total_minor
        or due != current.due_date
        or outstanding != current.outstanding_minor
        or platform_status(outstanding, total) != current.status
    )


# --- customers -----------------------------------------------------------------------------


def reconcile_customer(
    xero: XeroContact, current: PlatformCustomer | None, has_synced_invoice: bool
) -> CustomerUpdate:
    """Decide how a landed Xero contact changes the platform's customer.

    Synced: customers (IsCustomer) and contacts of synced invoices; a known customer keeps
    syncing even if Xero later clears IsCustomer. Archived/GDPR in Xero only flags.
    """
    if current is not None and _is_older(xero.updated_at, current.xero_updated_at):
        return CustomerUpdate("unchanged", {}, reason="older than stored")
    archived = xero.status in ARCHIVED_CONTACT_STATUSES
    if not archived and xero.status != "ACTIVE":
        return CustomerUpdate("skip", {}, reason=f"unknown contact status {xero.status!r}")
    if current is None:
        if not (xero.is_customer or has_synced_invoice):
            return CustomerUpdate("skip", {}, reason="not a customer: not synced")
        if archived and not has_synced_invoice:
            # Like a voided invoice: gone before we ever saw it, and no invoice needs it.
            return CustomerUpdate("skip", {}, reason=f"{xero.status.lower()} in Xero: never synced")

    # Restoring a contact in Xero clears the flag; `archived` is never touched here.
    values = {"name": xero.name, "email": xero.email, "deleted_in_xero": archived,
              "xero_updated_at": xero.updated_at}
    if current is None:
        return CustomerUpdate("insert", values)
    if (current.name, current.email, current.deleted_in_xero, current.xero_updated_at) == (
        xero.name, xero.email, archived, xero.updated_at
    ):
        return CustomerUpdate("unchanged", {}, reason="same as stored")
    return CustomerUpdate("update", values,
                          reason=f"{xero.status.lower()} in Xero: flagged" if archived else "")


# --- payments ------------------------------------------------------------------------------


def reconcile_payment(
    xero: XeroPayment, *, invoice_synced: bool, ours: bool, current_status: str | None
) -> PaymentUpdate:
    """Decide how a Xero payment shows on the platform (payment_id "xero_" + PaymentID).

    The invoice's balance comes from its AmountDue, so this row is a record of the payment, not
    a second source for the balance. Payments Alternative wrote are "ours" (no double counting).
    """
    if ours:
        return PaymentUpdate("ours", {}, reason="written by Alternative")
    if xero.invoice_id is None or not invoice_synced:
        return PaymentUpdate("skip", {}, reason="not on a synced invoice")
    if xero.status == "AUTHORISED":
        status = PAYMENT_SUCCEEDED
    elif xero.status == "DELETED":
        status = PAYMENT_REVERSED
    else:
        return PaymentUpdate("skip", {}, reason=f"unknown payment status {xero.status!r}")

    if current_status is None and status == PAYMENT_REVERSED:
        return PaymentUpdate("skip", {}, reason="deleted in Xero: never synced")
    if current_status == PAYMENT_REVERSED and status != PAYMENT_REVERSED:
        # Xero deletion is final; a live version after it is not a real transition.
        return PaymentUpdate("skip", {}, reason=f"unexpected transition {current_status} -> {status}")
    # currency is None when Xero omits it; the writer then uses the invoice's currency.
    values = {"amount_minor": xero.amount_minor, "paid_on": xero.date, "currency": xero.currency,
              "status": status}
    if current_status is None:
        return PaymentUpdate("insert", values)
    if current_status == status:
        return PaymentUpdate("unchanged", {}, reason="same status as stored")
    return PaymentUpdate("update", values,
                         reason="deleted in Xero" if status == PAYMENT_REVERSED else "")
