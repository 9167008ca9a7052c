"""Typed records for what we read from Xero.

Money is `Decimal` in the document's currency, dates are `datetime.date`, timestamps are aware
UTC datetimes. Enumerations (`status`, `type`, `currency_code`) are plain strings, so a value Xero
adds tomorrow flows through; the parser reports such values as `DriftNote`s instead of crashing
(the schema drift that broke tap-xero loads).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

# Values the code knows; anything else is drift (tolerated and reported).
INVOICE_STATUSES = frozenset({"DRAFT", "SUBMITTED", "DELETED", "AUTHORISED", "PAID", "VOIDED"})
INVOICE_TYPES = frozenset({"ACCREC", "ACCPAY"})
CONTACT_STATUSES = frozenset({"ACTIVE", "ARCHIVED", "GDPRREQUEST"})
PAYMENT_STATUSES = frozenset({"AUTHORISED", "DELETED"})
CREDIT_NOTE_STATUSES = frozenset({"DRAFT", "SUBMITTED", "DELETED", "AUTHORISED", "PAID", "VOIDED"})
KNOWN_CURRENCIES = frozenset({"USD", "CAD", "AUD", "NZD", "GBP", "EUR"})


@dataclass(frozen=True, slots=True)
class DriftNote:
    """Something in a Xero payload the code did not expect, kept for the run's metadata."""

    entity: str  # "Invoice", "Contact", ...
    record_id: str
    field: str
    value: str  # the unexpected value (or field name for unknown fields)
    kind: str  # "unknown_enum" | "unknown_field"


@dataclass(frozen=True, slots=True)
class ContactRecord:
    contact_id: str
    name: str
    status: str  # ACTIVE | ARCHIVED | GDPRREQUEST (or drift)
    is_customer: bool
    is_supplier: bool
    email: str | None
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class InvoiceRecord:
    invoice_id: str
    invoice_number: str | None
    type: str  # ACCREC | ACCPAY
    status: str
    contact_id: str
    contact_name: str | None
    date: dt.date
    due_date: dt.date | None
    currency_code: str
    sub_total: Decimal
    total_tax: Decimal
    total: Decimal
    amount_due: Decimal
    amount_paid: Decimal
    amount_credited: Decimal
    updated_at: dt.datetime
    reference: str | None = None
    fully_paid_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    payment_id: str
    invoice_id: str | None  # None for payments on credit notes / prepayments / overpayments
    date: dt.date
    amount: Decimal
    currency_code: str | None
    status: str  # AUTHORISED | DELETED
    payment_type: str | None  # ACCRECPAYMENT, ...
    reference: str | None
    account_id: str | None
    account_code: str | None
    is_reconciled: bool
    updated_at: dt.datetime
    currency_rate: Decimal | None = None  # Xero's CurrencyRate (foreign units per base unit)


@dataclass(frozen=True, slots=True)
class AllocationRecord:
    allocation_id: str | None
    invoice_id: str
    amount: Decimal
    date: dt.date


@dataclass(frozen=True, slots=True)
class CreditNoteRecord:
    credit_note_id: str
    credit_note_number: str | None
    type: str  # ACCRECCREDIT | ACCPAYCREDIT
    status: str
    contact_id: str
    date: dt.date
    currency_code: str
    total: Decimal
    remaining_credit: Decimal
    updated_at: dt.datetime
    allocations: tuple[AllocationRecord, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class AccountRecord:
    account_id: str
    code: str | None
    name: str
    type: str  # BANK, CURRLIAB, CURRENT, EXPENSE, REVENUE, ...
    status: str  # ACTIVE | ARCHIVED
    enable_payments_to_account: bool
    bank_account_type: str | None = None
    currency_code: str | None = None


@dataclass(frozen=True, slots=True)
class OrganisationRecord:
    organisation_id: str
    name: str
    base_currency: str
    created_at: dt.datetime | None = None
