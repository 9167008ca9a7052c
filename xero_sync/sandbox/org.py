"""One Xero organisation held in memory, with the rules Xero applies to it.

State is plain `__slots__` dataclasses behind one RLock per organisation. Every change stamps
`updated` with the clock (an invoice also bumps when a payment or allocation lands on it) and
keeps two invoice indexes current: by (UpdatedDateUTC, id) and by (Date, id), so list reads over
100k invoices answer from a slice instead of a scan. Rule violations raise `ValidationError` with
Xero's message texts; unknown ids raise `NotFound`. `on_change(category, event_type, id)` fires
after INVOICE / CONTACT / CREDITNOTE changes (the server turns these into webhooks).
"""

from __future__ import annotations

import bisect
import copy
import datetime as dt
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from xero_sync.sandbox.clock import Clock
from xero_sync.sandbox.xero_json import money

OnChange = Callable[[str, str, str], None]
# Wiring, not records: kept as is by snapshot/restore.
_NOT_STATE = ("lock", "clock", "on_change", "id_source")
ZERO = Decimal("0.00")

MSG_EXCEEDS = "Payment amount exceeds the amount outstanding on this document"
MSG_LOCKED = "This document cannot be edited as it has a payment or credit note allocated to it."
MSG_PAID_OFF = "The invoice you are trying to allocate to has already been paid off"
MSG_CREDIT_EXCEEDS = "{kind} cannot be allocated as amount is greater than amount outstanding"
MSG_TRANSFER_BANK = ("Transfers can only be made between BANK type accounts. CURRENT type asset "
                     "accounts cannot be used in bank transfers")


class ValidationError(Exception):
    """A Xero validation failure; `messages` become the element's ValidationErrors."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


class NotFound(Exception):
    """An id that does not exist in this organisation."""


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


class _SortedKeys:
    """A sorted list of (key, id) tuples with bisect insert/remove/range."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[tuple[Any, str]] = []

    def add(self, key: Any, ident: str) -> None:
        bisect.insort(self.items, (key, ident))

    def remove(self, key: Any, ident: str) -> None:
        i = bisect.bisect_left(self.items, (key, ident))
        if i < len(self.items) and self.items[i] == (key, ident):
            del self.items[i]

    def rebuild(self, pairs: Iterable[tuple[Any, str]]) -> None:
        self.items = sorted(pairs)

    def ids_between(self, lo: Any, hi: Any) -> list[str]:
        """Ids with lo <= key < hi (either bound may be None)."""
        start = 0 if lo is None else bisect.bisect_left(self.items, (lo, ""))
        stop = len(self.items) if hi is None else bisect.bisect_left(self.items, (hi, ""))
        return [ident for _, ident in self.items[start:stop]]


def _line_totals(lines: list[LineItem], amount_types: str) -> tuple[Decimal, Decimal, Decimal]:
    line_sum = sum((li.line_amount for li in lines), ZERO)
    tax = sum((li.tax_amount for li in lines), ZERO)
    if amount_types == "Inclusive":
        return money(line_sum - tax), money(tax), money(line_sum)
    return money(line_sum), money(tax), money(line_sum + tax)


class Organisation:
    """In-memory state of one Xero organisation and the rules Xero applies to it."""

    def __init__(self, tenant_id: str, name: str, currency: str, clock: Clock, short_code: str,
                 on_change: OnChange | None = None) -> None:
        self.tenant_id = tenant_id
        self.name = name
        self.currency = currency
        self.clock = clock
        self.short_code = short_code
        self.on_change = on_change
        self.lock = threading.RLock()
        self.created = clock.now()
        self.accounts: dict[str, Account] = {}
        self.contacts: dict[str, Contact] = {}
        self.invoices: dict[str, Invoice] = {}
        self.payments: dict[str, Payment] = {}
        self.credit_notes: dict[str, CreditNote] = {}
        self.overpayments: dict[str, Credit] = {}
        self.prepayments: dict[str, Credit] = {}
        self.bank_transactions: dict[str, BankTransaction] = {}
        self.bank_transfers: dict[str, BankTransfer] = {}
        self.manual_journals: dict[str, ManualJournal] = {}
        self.invoices_by_updated = _SortedKeys()
        self.invoices_by_date = _SortedKeys()
        self.payments_by_date = _SortedKeys()  # payment dates never change
        self._invoice_numbers: dict[str, str] = {}
        self._accounts_by_code: dict[str, Account] = {}
        self._next_number = {"INV": 1, "CN": 1}
        # Seeding sets these: ids from a seeded Random, timestamps back-dated, indexes bulk-built.
        self.id_source: Callable[[], str] = lambda: str(uuid.uuid4())
        self.fixed_now: dt.datetime | None = None
        self.bulk = False
        self.contact_json_generation = 0

    # ---- plumbing ----------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of the records and indexes, for `restore` (an all-or-nothing batch)."""
        with self.lock:
            return copy.deepcopy({k: v for k, v in self.__dict__.items() if k not in _NOT_STATE})

    def restore(self, snapshot: dict[str, Any]) -> None:
        with self.lock:
            self.__dict__.update(snapshot)

    def now(self) -> dt.datetime:
        return self.fixed_now or self.clock.now()

    def new_id(self) -> str:
        return self.id_source()

    def _notify(self, category: str, event: str, resource_id: str) -> None:
        if self.on_change is not None and not self.bulk:
            self.on_change(category, event, resource_id)

    def _index_invoice(self, inv: Invoice) -> None:
        if not self.bulk:
            self.invoices_by_updated.add(inv.updated, inv.invoice_id)
            self.invoices_by_date.add(inv.date, inv.invoice_id)

    def _unindex_invoice(self, inv: Invoice) -> None:
        if not self.bulk:
            self.invoices_by_updated.remove(inv.updated, inv.invoice_id)
            self.invoices_by_date.remove(inv.date, inv.invoice_id)

    def _touch_invoice(self, inv: Invoice, mutate: Callable[[], None] | None = None) -> None:
        """Apply `mutate` and stamp UpdatedDateUTC, keeping the indexes in step."""
        self._unindex_invoice(inv)
        if mutate is not None:
            mutate()
        inv.updated = self.now()
        inv.cache = None
        self._index_invoice(inv)

    def rebuild_indexes(self) -> None:
        """Build the invoice indexes from scratch (after bulk seeding)."""
        with self.lock:
            self.invoices_by_updated.rebuild((i.updated, k) for k, i in self.invoices.items())
            self.invoices_by_date.rebuild((i.date, k) for k, i in self.invoices.items())
            self.payments_by_date.rebuild((p.date, k) for k, p in self.payments.items())

    def first_transaction_date(self) -> dt.date | None:
        """The earliest invoice, payment or bank transaction date in the organisation."""
        with self.lock:
            dates = [self.invoices_by_date.items[0][0]] if self.invoices_by_date.items else []
            dates += [p.date for p in self.payments.values()]
            dates += [b.date for b in self.bank_transactions.values()]
            return min(dates) if dates else None

    # ---- lookups -----------------------------------------------------------------------------

    def _get(self, table: Mapping[str, Any], ident: str) -> Any:
        found = table.get(ident) or table.get(str(ident).lower())
        if found is None:
            raise NotFound(ident)
        return found

    def get_account(self, account_id: str) -> Account:
        return self._get(self.accounts, account_id)

    def get_contact(self, contact_id: str) -> Contact:
        return self._get(self.contacts, contact_id)

    def get_invoice(self, invoice_id: str) -> Invoice:
        return self._get(self.invoices, invoice_id)

    def get_payment(self, payment_id: str) -> Payment:
        return self._get(self.payments, payment_id)

    def get_credit_note(self, credit_note_id: str) -> CreditNote:
        return self._get(self.credit_notes, credit_note_id)

    def get_overpayment(self, overpayment_id: str) -> Credit:
        return self._get(self.overpayments, overpayment_id)

    def get_prepayment(self, prepayment_id: str) -> Credit:
        return self._get(self.prepayments, prepayment_id)

    def get_bank_transaction(self, bank_transaction_id: str) -> BankTransaction:
        return self._get(self.bank_transactions, bank_transaction_id)

    def get_bank_transfer(self, bank_transfer_id: str) -> BankTransfer:
        return self._get(self.bank_transfers, bank_transfer_id)

    def get_manual_journal(self, manual_journal_id: str) -> ManualJournal:
        return self._get(self.manual_journals, manual_journal_id)

    def account_by_code(self, code: str) -> Account | None:
        return self._accounts_by_code.get(code)

    def invoice_by_number(self, number: str) -> Invoice | None:
        ident = self._invoice_numbers.get(number)
        return self.invoices.get(ident) if ident else None

    def resolve_account(self, account_id: str | None = None, code: str | None = None) -> Account:
        """An account by AccountID or Code; ValidationError when neither finds one."""
        if account_id:
            account = self.accounts.get(account_id) or self.accounts.get(account_id.lower())
            if account is None:
                raise ValidationError(f"Account with AccountID {account_id} could not be found")
            return account
        if code:
            account = self.account_by_code(code)
            if account is None:
                raise ValidationError(f"Account code '{code}' is not a valid code for this document.")
            return account
        raise ValidationError("You must specify an Account code or Account ID for the payment")

    def resolve_contact(self, contact_id: str | None = None, name: str | None = None) -> Contact:
        if contact_id:
            contact = self.contacts.get(contact_id) or self.contacts.get(contact_id.lower())
            if contact is None:
                raise ValidationError(f"The contact with ID {contact_id} could not be found")
            return contact
        if name:
            found = next((c for c in self.contacts.values() if c.name.lower() == name.lower()), None)
            return found or self.create_contact(name=name)
        raise ValidationError("A Contact must be specified for this type of transaction")

    # ---- accounts and contacts ---------------------------------------------------------------

    def add_account(self, *, code: str, name: str, type: str, cls: str, enable_payments: bool = False,
                    bank_account_number: str = "", account_id: str | None = None,
                    status: str = "ACTIVE", system_account: str | None = None) -> Account:
        with self.lock:
            if self.account_by_code(code) is not None:
                raise ValidationError(f"Please enter a unique Code. Code {code} is already in use.")
            account = Account(
                account_id=account_id or self.new_id(), code=code, name=name, type=type, cls=cls,
                updated=self.now(), status=status, enable_payments=enable_payments,
                bank_account_number=bank_account_number,
                bank_account_type="BANK" if type == "BANK" else "",
                currency_code=self.currency if type == "BANK" else None,
                system_account=system_account)
            self.accounts[account.account_id] = account
            self._accounts_by_code[code] = account
            return account

    def create_contact(self, *, name: str, email: str = "", first_name: str = "", last_name: str = "",
                       is_customer: bool = False, is_supplier: bool = False,
                       account_number: str = "", contact_id: str | None = None) -> Contact:
        with self.lock:
            if not name or not name.strip():
                raise ValidationError("The contact name must be specified.")
            if not self.bulk and any(c.name.lower() == name.lower() for c in self.contacts.values()):
                raise ValidationError(f"The contact name {name} is already assigned to another contact. "
                                      "The contact name must be unique across all active contacts.")
            contact = Contact(contact_id=contact_id or self.new_id(), name=name, updated=self.now(),
                              email=email, first_name=first_name, last_name=last_name,
                              is_customer=is_customer, is_supplier=is_supplier,
                              account_number=account_number)
            self.contacts[contact.contact_id] = contact
        self._notify("CONTACT", "CREATE", contact.contact_id)
        return contact

    def update_contact(self, contact_id: str, **changes: Any) -> Contact:
        """Change name/email/status etc. (archive: status="ARCHIVED")."""
        with self.lock:
            contact = self.get_contact(contact_id)
            for key, value in changes.items():
                if not hasattr(contact, key) or key in ("contact_id", "updated"):
                    raise ValidationError(f"Contact has no editable field {key!r}")
                setattr(contact, key, value)
            contact.updated = self.now()
            self.contact_json_generation += 1
        self._notify("CONTACT", "UPDATE", contact.contact_id)
        return contact

    def archive_contact(self, contact_id: str) -> Contact:
        return self.update_contact(contact_id, status="ARCHIVED")

    # ---- line items --------------------------------------------------------------------------

    def build_lines(self, lines: Iterable[Mapping[str, Any]], *, need_account: bool,
                    allow_negative: bool = True) -> list[LineItem]:
        """LineItems from Xero-shaped dicts (Description, Quantity, UnitAmount, LineAmount, ...)."""
        result: list[LineItem] = []
        for raw in lines:
            quantity = Decimal(str(raw.get("Quantity", 1) if raw.get("Quantity") is not None else 1))
            unit = raw.get("UnitAmount")
            amount = raw.get("LineAmount")
            if unit is None and amount is None:
                raise ValidationError("Line items must have a UnitAmount or LineAmount")
            unit_d = Decimal(str(unit)) if unit is not None else money(Decimal(str(amount)) / (quantity or 1))
            line_amount = money(Decimal(str(amount))) if amount is not None else money(quantity * unit_d)
            code = raw.get("AccountCode") or ""
            if not code and raw.get("AccountID"):
                code = self.resolve_account(account_id=raw["AccountID"]).code
            if code and self.account_by_code(code) is None:
                raise ValidationError(f"Account code '{code}' is not a valid code for this document.")
            if need_account and not code:
                raise ValidationError("Account code must be specified")
            if not allow_negative and line_amount < 0:
                raise ValidationError("Line amounts must not be negative")
            result.append(LineItem(
                line_item_id=raw.get("LineItemID") or self.new_id(),
                description=raw.get("Description") or "", quantity=quantity, unit_amount=unit_d,
                account_code=code, line_amount=line_amount,
                tax_amount=money(Decimal(str(raw.get("TaxAmount") or 0))),
                tax_type=raw.get("TaxType") or "NONE", item_code=raw.get("ItemCode")))
        if not result:
            raise ValidationError("At least one line item is required")
        return result

    # ---- invoices ----------------------------------------------------------------------------

    def create_invoice(self, *, contact_id: str, lines: Iterable[Mapping[str, Any]], date: dt.date,
                       due_date: dt.date | None = None, type: str = "ACCREC", status: str = "DRAFT",
                       number: str | None = None, reference: str = "",
                       line_amount_types: str = "Exclusive", currency_code: str | None = None,
                       invoice_id: str | None = None) -> Invoice:
        """Create an invoice (ACCREC or ACCPAY) in DRAFT, SUBMITTED or AUTHORISED."""
        with self.lock:
            if type not in ("ACCREC", "ACCPAY"):
                raise ValidationError(f"Invoice Type {type!r} is not valid; use ACCREC or ACCPAY")
            if status not in ("DRAFT", "SUBMITTED", "AUTHORISED"):
                raise ValidationError(f"A new invoice cannot be created with status {status}")
            contact = self.resolve_contact(contact_id)
            built = self.build_lines(lines, need_account=status == "AUTHORISED")
            if due_date is None and status == "AUTHORISED":
                raise ValidationError("Due Date is mandatory for approved invoices")
            if number is None and type == "ACCREC":
                number = f"INV-{self._next_number['INV']:05d}"
                self._next_number["INV"] += 1
            number = number or ""
            if type == "ACCREC" and number and number in self._invoice_numbers:
                raise ValidationError("Invoice # must be unique.")
            sub, tax, total = _line_totals(built, line_amount_types)
            if total < 0:
                raise ValidationError("The invoice total must be zero or greater")
            inv = Invoice(
                invoice_id=invoice_id or self.new_id(), type=type, contact_id=contact.contact_id,
                number=number, date=date, due_date=due_date or date, status=status,
                line_items=built, sub_total=sub, total_tax=tax, total=total,
                currency_code=currency_code or self.currency, updated=self.now(),
                reference=reference, line_amount_types=line_amount_types)
            self.invoices[inv.invoice_id] = inv
            if type == "ACCREC" and number:
                self._invoice_numbers[number] = inv.invoice_id
            self._index_invoice(inv)
        self._notify("INVOICE", "CREATE", inv.invoice_id)
        return inv

    def update_invoice(self, invoice_id: str, *, lines: Iterable[Mapping[str, Any]] | None = None,
                       date: dt.date | None = None, due_date: dt.date | None = None,
                       status: str | None = None, reference: str | None = None,
                       contact_id: str | None = None) -> Invoice:
        """Edit an invoice; blocked once a payment or credit is applied (Xero's rule)."""
        with self.lock:
            inv = self.get_invoice(invoice_id)
            if status == "VOIDED":
                return self.void_invoice(invoice_id)
            if status == "DELETED":
                return self.delete_invoice(invoice_id)
            if inv.status in ("PAID", "VOIDED", "DELETED") or inv.has_money_applied():
                if inv.has_money_applied() or inv.status == "PAID":
                    raise ValidationError(MSG_LOCKED)
                raise ValidationError(f"This document cannot be edited as it is {inv.status.lower()}.")
            if status is not None and status not in ("DRAFT", "SUBMITTED", "AUTHORISED"):
                raise ValidationError(f"Invoice status cannot be changed to {status}")
            if status in ("DRAFT", "SUBMITTED") and inv.status == "AUTHORISED":
                raise ValidationError("An approved invoice cannot be returned to draft")
            new_lines = self.build_lines(lines, need_account=(status or inv.status) == "AUTHORISED") \
                if lines is not None else None
            contact = self.resolve_contact(contact_id) if contact_id else None
            if new_lines is not None:
                sub, tax, total = _line_totals(new_lines, inv.line_amount_types)
                if total < 0:
                    raise ValidationError("The invoice total must be zero or greater")

            def mutate() -> None:
                if new_lines is not None:
                    inv.line_items = new_lines
                    inv.sub_total, inv.total_tax, inv.total = sub, tax, total
                if date is not None:
                    inv.date = date
                if due_date is not None:
                    inv.due_date = due_date
                if status is not None:
                    inv.status = status
                if reference is not None:
                    inv.reference = reference
                if contact is not None:
                    inv.contact_id = contact.contact_id

            self._touch_invoice(inv, mutate)
        self._notify("INVOICE", "UPDATE", inv.invoice_id)
        return inv

    def void_invoice(self, invoice_id: str) -> Invoice:
        """AUTHORISED with no payments or credits -> VOIDED."""
        with self.lock:
            inv = self.get_invoice(invoice_id)
            if inv.has_money_applied():
                raise ValidationError("Invoice cannot be voided as it has a payment or credit note "
                                      "allocated to it.")
            if inv.status != "AUTHORISED":
                raise ValidationError(f"Only approved invoices can be voided; this one is {inv.status}")
            self._touch_invoice(inv, lambda: setattr(inv, "status", "VOIDED"))
        self._notify("INVOICE", "UPDATE", inv.invoice_id)
        return inv

    def delete_invoice(self, invoice_id: str) -> Invoice:
        """DRAFT or SUBMITTED -> DELETED."""
        with self.lock:
            inv = self.get_invoice(invoice_id)
            if inv.status not in ("DRAFT", "SUBMITTED"):
                raise ValidationError(f"Only draft or submitted invoices can be deleted; this one is "
                                      f"{inv.status}")
            self._touch_invoice(inv, lambda: setattr(inv, "status", "DELETED"))
        self._notify("INVOICE", "UPDATE", inv.invoice_id)
        return inv

    def _settle(self, inv: Invoice, on_date: dt.date) -> None:
        """PAID when nothing is due, back to AUTHORISED otherwise."""
        if inv.amount_due <= 0 and inv.status == "AUTHORISED":
            inv.status = "PAID"
            inv.fully_paid_on = on_date
        elif inv.amount_due > 0 and inv.status == "PAID":
            inv.status = "AUTHORISED"
            inv.fully_paid_on = None

    # ---- payments ----------------------------------------------------------------------------

    def add_payment(self, *, amount: Decimal, date: dt.date, invoice_id: str | None = None,
                    invoice_number: str | None = None, account_id: str | None = None,
                    account_code: str | None = None, reference: str = "", is_reconciled: bool = False,
                    payment_id: str | None = None) -> Payment:
        """Apply a payment to an AUTHORISED invoice from a BANK or payments-enabled account."""
        with self.lock:
            if invoice_id:
                inv = self.invoices.get(invoice_id) or self.invoices.get(invoice_id.lower())
                if inv is None:
                    raise ValidationError(f"Invoice with InvoiceID {invoice_id} could not be found")
            elif invoice_number:
                inv = self.invoice_by_number(invoice_number)
                if inv is None:
                    raise ValidationError(f"Invoice number {invoice_number} could not be found")
            else:
                raise ValidationError("You must specify an Invoice ID or Invoice Number for the payment")
            account = self.resolve_account(account_id, account_code)
            if account.type != "BANK" and not account.enable_payments:
                raise ValidationError(f"Payments can only be made to BANK accounts or accounts with "
                                      f"payments enabled; account {account.code} is {account.type}")
            amount = Decimal(amount)
            if amount <= 0:
                raise ValidationError("Payment amount must be greater than zero")
            if inv.status == "PAID":
                raise ValidationError(MSG_EXCEEDS)
            if inv.status != "AUTHORISED":
                raise ValidationError(f"Payments can only be made against approved documents; "
                                      f"this invoice is {inv.status}")
            amount = money(amount)
            if amount > inv.amount_due:
                raise ValidationError(MSG_EXCEEDS)
            payment = Payment(
                payment_id=payment_id or self.new_id(), invoice_id=inv.invoice_id,
                account_id=account.account_id, date=date, amount=amount, updated=self.now(),
                reference=reference or "", is_reconciled=is_reconciled,
                payment_type="ACCRECPAYMENT" if inv.type == "ACCREC" else "ACCPAYPAYMENT")
            self.payments[payment.payment_id] = payment
            if not self.bulk:
                self.payments_by_date.add(payment.date, payment.payment_id)

            def mutate() -> None:
                inv.payment_ids.append(payment.payment_id)
                inv.amount_paid += amount
                self._settle(inv, date)

            self._touch_invoice(inv, mutate)
        self._notify("INVOICE", "UPDATE", inv.invoice_id)
        return payment

    def delete_payment(self, payment_id: str) -> Payment:
        """Status DELETED; the invoice gets the amount back (PAID -> AUTHORISED)."""
        with self.lock:
            payment = self.get_payment(payment_id)
            if payment.status == "DELETED":
                raise ValidationError("This payment has already been deleted")
            inv = self.invoices[payment.invoice_id]
            payment.status = "DELETED"
            payment.updated = self.now()

            def mutate() -> None:
                inv.amount_paid -= payment.amount
                self._settle(inv, payment.date)

            self._touch_invoice(inv, mutate)
        self._notify("INVOICE", "UPDATE", inv.invoice_id)
        return payment

    # ---- credit notes, overpayments, prepayments ---------------------------------------------

    def create_credit_note(self, *, contact_id: str, lines: Iterable[Mapping[str, Any]],
                           date: dt.date, status: str = "AUTHORISED", number: str | None = None,
                           reference: str = "", type: str = "ACCRECCREDIT",
                           line_amount_types: str = "Exclusive",
                           credit_note_id: str | None = None) -> CreditNote:
        with self.lock:
            if type not in ("ACCRECCREDIT", "ACCPAYCREDIT"):
                raise ValidationError(f"Credit note Type {type!r} is not valid")
            if status not in ("DRAFT", "SUBMITTED", "AUTHORISED"):
                raise ValidationError(f"A new credit note cannot be created with status {status}")
            contact = self.resolve_contact(contact_id)
            built = self.build_lines(lines, need_account=status == "AUTHORISED", allow_negative=False)
            sub, tax, total = _line_totals(built, line_amount_types)
            if number is None:
                number = f"CN-{self._next_number['CN']:05d}"
                self._next_number["CN"] += 1
            note = CreditNote(
                credit_note_id=credit_note_id or self.new_id(), number=number, type=type,
                contact_id=contact.contact_id, date=date, status=status, line_items=built,
                sub_total=sub, total_tax=tax, total=total, currency_code=self.currency,
                updated=self.now(), remaining_credit=total, reference=reference,
                line_amount_types=line_amount_types)
            self.credit_notes[note.credit_note_id] = note
        self._notify("CREDITNOTE", "CREATE", note.credit_note_id)
        return note

    def allocate(self, source_kind: str, source_id: str, *, invoice_id: str, amount: Decimal,
                 date: dt.date | None = None) -> Allocation:
        """Allocate credit (CREDITNOTE, OVERPAYMENT or PREPAYMENT) to an invoice."""
        with self.lock:
            table, label = {
                "CREDITNOTE": (self.credit_notes, "Credit Note"),
                "OVERPAYMENT": (self.overpayments, "Overpayment"),
                "PREPAYMENT": (self.prepayments, "Prepayment"),
            }[source_kind]
            source = self._get(table, source_id)
            inv = self.invoices.get(invoice_id) or self.invoices.get(str(invoice_id).lower())
            if inv is None:
                raise ValidationError(f"Invoice with InvoiceID {invoice_id} could not be found")
            amount = money(Decimal(amount))
            if source.status not in ("AUTHORISED", "PAID"):  # PAID = fully used; caught below
                raise ValidationError(f"{label} must be approved before it can be allocated; it is "
                                      f"{source.status}")
            if source.contact_id != inv.contact_id:
                raise ValidationError(f"The {label.lower()} and invoice must be for the same contact")
            if inv.status == "PAID" or (inv.status == "AUTHORISED" and inv.amount_due <= 0):
                raise ValidationError(MSG_PAID_OFF)
            if inv.status != "AUTHORISED":
                raise ValidationError(f"Credit can only be allocated to approved invoices; this invoice "
                                      f"is {inv.status}")
            if amount <= 0:
                raise ValidationError("Allocation amount must be greater than zero")
            if amount > inv.amount_due or amount > source.remaining_credit:
                raise ValidationError(MSG_CREDIT_EXCEEDS.format(kind=label))
            on_date = date or max(inv.date, source.date)
            allocation = Allocation(self.new_id(), source_kind, source_id, inv.invoice_id, amount, on_date)
            source.allocations.append(allocation)
            source.remaining_credit -= amount
            if source.remaining_credit == 0:
                source.status = "PAID"
            source.updated = self.now()

            def mutate() -> None:
                inv.allocations.append(allocation)
                inv.amount_credited += amount
                self._settle(inv, on_date)

            self._touch_invoice(inv, mutate)
        if source_kind == "CREDITNOTE":
            self._notify("CREDITNOTE", "UPDATE", source_id)
        self._notify("INVOICE", "UPDATE", inv.invoice_id)
        return allocation

    # ---- bank transactions and transfers -----------------------------------------------------

    def create_bank_transaction(self, *, type: str, bank_account_id: str | None = None,
                                bank_account_code: str | None = None, contact_id: str | None = None,
                                lines: Iterable[Mapping[str, Any]], date: dt.date,
                                reference: str = "", is_reconciled: bool = False,
                                line_amount_types: str = "NoTax",
                                bank_transaction_id: str | None = None) -> BankTransaction:
        """RECEIVE/SPEND (and RECEIVE-OVERPAYMENT/-PREPAYMENT, which also create the credit)."""
        with self.lock:
            creatable = ("RECEIVE", "SPEND", "RECEIVE-OVERPAYMENT", "RECEIVE-PREPAYMENT")
            if type not in creatable:
                raise ValidationError(f"BankTransaction Type {type!r} cannot be created; use one of "
                                      + ", ".join(creatable))
            if not bank_account_id and not bank_account_code:
                raise ValidationError("A BankAccount must be specified")
            bank = self.resolve_account(bank_account_id, bank_account_code)
            if bank.type != "BANK":
                raise ValidationError(f"The BankAccount must be of type BANK; account {bank.code} is "
                                      f"{bank.type}")
            contact = self.resolve_contact(contact_id)
            built = self.build_lines(lines, need_account=True)
            sub, tax, total = _line_totals(built, line_amount_types)
            if total <= 0:
                raise ValidationError("The total of a bank transaction must be greater than zero")
            txn = BankTransaction(
                bank_transaction_id=bank_transaction_id or self.new_id(), type=type,
                contact_id=contact.contact_id, bank_account_id=bank.account_id, date=date,
                line_items=built, sub_total=sub, total_tax=tax, total=total,
                currency_code=self.currency, updated=self.now(), reference=reference or "",
                is_reconciled=is_reconciled, line_amount_types=line_amount_types)
            if type in ("RECEIVE-OVERPAYMENT", "RECEIVE-PREPAYMENT"):
                kind = type.split("-")[1]
                credit = Credit(
                    credit_id=self.new_id(), kind=kind, type=type, contact_id=contact.contact_id,
                    date=date, line_items=built, sub_total=sub, total_tax=tax, total=total,
                    currency_code=self.currency, updated=txn.updated, remaining_credit=total,
                    bank_transaction_id=txn.bank_transaction_id, reference=reference or "",
                    line_amount_types=line_amount_types)
                if kind == "OVERPAYMENT":
                    self.overpayments[credit.credit_id] = credit
                    txn.overpayment_id = credit.credit_id
                else:
                    self.prepayments[credit.credit_id] = credit
                    txn.prepayment_id = credit.credit_id
            self.bank_transactions[txn.bank_transaction_id] = txn
            return txn

    def delete_bank_transaction(self, bank_transaction_id: str) -> BankTransaction:
        with self.lock:
            txn = self.get_bank_transaction(bank_transaction_id)
            if txn.status == "DELETED":
                raise ValidationError("This bank transaction has already been deleted")
            if txn.type.endswith("-TRANSFER"):
                raise ValidationError("Transfer transactions are deleted through their bank transfer")
            credit_id = txn.overpayment_id or txn.prepayment_id
            if credit_id:
                credit = self.overpayments.get(credit_id) or self.prepayments[credit_id]
                if credit.allocations:
                    raise ValidationError("This transaction cannot be deleted as its credit has been "
                                          "allocated")
                credit.status = "VOIDED"
                credit.updated = self.now()
            txn.status = "DELETED"
            txn.updated = self.now()
            return txn

    def create_bank_transfer(self, *, amount: Decimal, date: dt.date,
                             from_account_id: str | None = None, from_account_code: str | None = None,
                             to_account_id: str | None = None, to_account_code: str | None = None,
                             reference: str = "", from_is_reconciled: bool = False,
                             to_is_reconciled: bool = False) -> BankTransfer:
        """Move money between two BANK accounts: a SPEND-TRANSFER and a RECEIVE-TRANSFER."""
        with self.lock:
            source = self.resolve_account(from_account_id, from_account_code)
            target = self.resolve_account(to_account_id, to_account_code)
            if source.type != "BANK" or target.type != "BANK":
                raise ValidationError(MSG_TRANSFER_BANK)
            if source.account_id == target.account_id:
                raise ValidationError("The from and to bank accounts must be different")
            amount = money(Decimal(amount))
            if amount <= 0:
                raise ValidationError("The transfer amount must be greater than zero")
            now = self.now()
            transfer_id = self.new_id()

            def leg(kind: str, bank: Account, other: Account, reconciled: bool) -> BankTransaction:
                line = LineItem(self.new_id(), f"Bank Transfer {reference}".strip(), Decimal("1"),
                                amount, other.code, amount)
                txn = BankTransaction(
                    bank_transaction_id=self.new_id(), type=kind, contact_id=None,
                    bank_account_id=bank.account_id, date=date, line_items=[line], sub_total=amount,
                    total_tax=ZERO, total=amount, currency_code=self.currency, updated=now,
                    reference=reference or "", is_reconciled=reconciled)
                self.bank_transactions[txn.bank_transaction_id] = txn
                return txn

            spend = leg("SPEND-TRANSFER", source, target, from_is_reconciled)
            receive = leg("RECEIVE-TRANSFER", target, source, to_is_reconciled)
            transfer = BankTransfer(
                bank_transfer_id=transfer_id, from_account_id=source.account_id,
                to_account_id=target.account_id, amount=amount, date=date,
                from_transaction_id=spend.bank_transaction_id,
                to_transaction_id=receive.bank_transaction_id, created=now,
                reference=reference or "", from_is_reconciled=from_is_reconciled,
                to_is_reconciled=to_is_reconciled)
            self.bank_transfers[transfer_id] = transfer
            return transfer

    # ---- manual journals ---------------------------------------------------------------------

    def create_manual_journal(self, *, narration: str, date: dt.date,
                              lines: Iterable[Mapping[str, Any]], status: str = "POSTED",
                              line_amount_types: str = "NoTax") -> ManualJournal:
        """Journal lines must name a valid account code and sum to zero when POSTED."""
        with self.lock:
            if not narration:
                raise ValidationError("Narration must be specified")
            if status not in ("DRAFT", "POSTED"):
                raise ValidationError(f"A new manual journal cannot be created with status {status}")
            built: list[dict[str, Any]] = []
            for raw in lines:
                code = raw.get("AccountCode") or (
                    self.resolve_account(account_id=raw["AccountID"]).code if raw.get("AccountID") else "")
                if not code or self.account_by_code(code) is None:
                    raise ValidationError(f"Account code '{code}' is not a valid code for this document.")
                built.append({"LineAmount": money(Decimal(str(raw.get("LineAmount", 0)))),
                              "AccountCode": code, "Description": raw.get("Description") or "",
                              "TaxType": raw.get("TaxType") or "NONE", "TaxAmount": ZERO,
                              "IsBlank": False})
            if len(built) < 2:
                raise ValidationError("A manual journal needs at least two lines")
            if status == "POSTED" and sum(line["LineAmount"] for line in built) != 0:
                raise ValidationError("The total debits must equal the total credits")
            journal = ManualJournal(self.new_id(), narration, date, built, self.now(), status,
                                    line_amount_types)
            self.manual_journals[journal.manual_journal_id] = journal
            return journal
