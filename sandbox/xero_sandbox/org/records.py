"""The records of one organisation: plain `__slots__` dataclasses, one per Xero entity.

Money is Decimal; `line_totals` is the one place a document's totals are added up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from xero_sandbox.xero_json import money

ZERO = Decimal("0.00")


@dataclass(slots=True)
class Account:
    account_id: str
    code: str
    name: str
    type: str
    cls: str
    updated: dt.datetime
    status: str = "ACTIVE"
    enable_payments: bool = False
    bank_account_number: str = ""
    bank_account_type: str = ""
    currency_code: str | None = None
    tax_type: str = "NONE"
    system_account: str | None = None


@dataclass(slots=True)
class Contact:
    contact_id: str
    name: str
    updated: dt.datetime
    status: str = "ACTIVE"
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    is_customer: bool = False
    is_supplier: bool = False
    account_number: str = ""


@dataclass(slots=True)
class LineItem:
    line_item_id: str
    description: str
    quantity: Decimal
    unit_amount: Decimal
    account_code: str
    line_amount: Decimal
    tax_amount: Decimal = ZERO
    tax_type: str = "NONE"
    item_code: str | None = None


@dataclass(slots=True)
class Allocation:
    allocation_id: str
    source_kind: str  # CREDITNOTE | OVERPAYMENT | PREPAYMENT
    source_id: str
    invoice_id: str
    amount: Decimal
    date: dt.date
    is_deleted: bool = False


@dataclass(slots=True)
class Invoice:
    invoice_id: str
    type: str
    contact_id: str
    number: str
    date: dt.date
    due_date: dt.date
    status: str
    line_items: list[LineItem]
    sub_total: Decimal
    total_tax: Decimal
    total: Decimal
    currency_code: str
    updated: dt.datetime
    reference: str = ""
    line_amount_types: str = "Exclusive"
    amount_paid: Decimal = ZERO
    amount_credited: Decimal = ZERO
    fully_paid_on: dt.date | None = None
    payment_ids: list[str] = field(default_factory=list)
    allocations: list[Allocation] = field(default_factory=list)
    cache: Any = None  # serialised JSON per (summary flag), cleared on every change

    @property
    def amount_due(self) -> Decimal:
        return self.total - self.amount_paid - self.amount_credited

    def has_money_applied(self) -> bool:
        return bool(self.amount_paid or self.amount_credited)


@dataclass(slots=True)
class Payment:
    payment_id: str
    invoice_id: str
    account_id: str
    date: dt.date
    amount: Decimal
    updated: dt.datetime
    reference: str = ""
    status: str = "AUTHORISED"
    payment_type: str = "ACCRECPAYMENT"
    is_reconciled: bool = False
    currency_rate: Decimal = Decimal("1")


@dataclass(slots=True)
class CreditNote:
    credit_note_id: str
    number: str
    type: str
    contact_id: str
    date: dt.date
    status: str
    line_items: list[LineItem]
    sub_total: Decimal
    total_tax: Decimal
    total: Decimal
    currency_code: str
    updated: dt.datetime
    remaining_credit: Decimal
    reference: str = ""
    line_amount_types: str = "Exclusive"
    allocations: list[Allocation] = field(default_factory=list)


@dataclass(slots=True)
class Credit:
    """An overpayment or prepayment, made by a RECEIVE-OVERPAYMENT/-PREPAYMENT transaction."""

    credit_id: str
    kind: str  # OVERPAYMENT | PREPAYMENT
    type: str  # RECEIVE-OVERPAYMENT | RECEIVE-PREPAYMENT
    contact_id: str
    date: dt.date
    line_items: list[LineItem]
    sub_total: Decimal
    total_tax: Decimal
    total: Decimal
    currency_code: str
    updated: dt.datetime
    remaining_credit: Decimal
    bank_transaction_id: str
    reference: str = ""
    status: str = "AUTHORISED"
    line_amount_types: str = "NoTax"
    allocations: list[Allocation] = field(default_factory=list)


@dataclass(slots=True)
class BankTransaction:
    bank_transaction_id: str
    type: str
    contact_id: str | None
    bank_account_id: str
    date: dt.date
    line_items: list[LineItem]
    sub_total: Decimal
    total_tax: Decimal
    total: Decimal
    currency_code: str
    updated: dt.datetime
    reference: str = ""
    status: str = "AUTHORISED"
    line_amount_types: str = "NoTax"
    is_reconciled: bool = False
    overpayment_id: str | None = None
    prepayment_id: str | None = None


@dataclass(slots=True)
class BankTransfer:
    bank_transfer_id: str
    from_account_id: str
    to_account_id: str
    amount: Decimal
    date: dt.date
    from_transaction_id: str
    to_transaction_id: str
    created: dt.datetime
    reference: str = ""
    status: str = "AUTHORISED"
    from_is_reconciled: bool = False
    to_is_reconciled: bool = False


@dataclass(slots=True)
class ManualJournal:
    manual_journal_id: str
    narration: str
    date: dt.date
    lines: list[dict[str, Any]]
    updated: dt.datetime
    status: str = "POSTED"
    line_amount_types: str = "NoTax"
    show_on_cash_basis_reports: bool = True



def line_totals(lines: list[LineItem], amount_types: str) -> tuple[Decimal, Decimal, Decimal]:
    line_sum = sum((li.line_amount for li in lines), ZERO)
    tax = sum((li.tax_amount for li in lines), ZERO)
    if amount_types == "Inclusive":
        return money(line_sum - tax), money(tax), money(line_sum)
    return money(line_sum), money(tax), money(line_sum + tax)
