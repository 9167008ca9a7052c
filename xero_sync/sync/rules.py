"""SPEC section 2 as pure functions: a landed Xero record + the platform's row -> one change.

No I/O here. The platform layer reads both sides, calls `reconcile_*`, and writes `values`.
All money is integer minor units; timestamps are aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime


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


@dataclass(frozen=True, slots=True)
class InvoiceUpdate:
    """What to do with the platform `invoices` row.

    `values` holds columns to write: status, xero_status, total_minor, outstanding_minor,
    due_date, issue_date, number, currency, deleted_in_xero, conflict, xero_updated_at.
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


def reconcile_invoice(xero: XeroInvoice, current: PlatformInvoice | None) -> InvoiceUpdate:
    raise NotImplementedError


def reconcile_customer(
    xero: XeroContact, current: PlatformCustomer | None, has_synced_invoice: bool
) -> CustomerUpdate:
    raise NotImplementedError


def reconcile_payment(
    xero: XeroPayment, *, invoice_synced: bool, ours: bool, current_status: str | None
) -> PaymentUpdate:
    raise NotImplementedError
