"""An organisation's books: its tables, indexes, clock and lock, and what every rule builds on.

`Books` holds the records and the plumbing the rule modules share (ids, `now`, change
notifications, invoice index upkeep, settling an invoice), the lookups, the chart of accounts,
contacts and line items. The rules per entity family live beside it (invoices.py, payments.py,
credits.py, banking.py, journals.py) and `Organisation` (organisation.py) combines them.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from xero_sandbox.clock import Clock
from xero_sandbox.org.errors import NotFound, ValidationError
from xero_sandbox.org.indexes import SortedKeys
from xero_sandbox.org.records import (
    Account, BankTransaction, BankTransfer, Contact, Credit, CreditNote, Invoice, LineItem,
    ManualJournal, Payment,
)
from xero_sandbox.xero_json import money

OnChange = Callable[[str, str, str], None]
# Wiring, not records: kept as is by snapshot/restore.
_NOT_STATE = ("lock", "clock", "on_change", "id_source")


DEFAULT_FOREIGN_RATE = Decimal("0.730000")


class Books:
    """The state of one Xero organisation, its lookups, accounts, contacts and line items."""

    def currency_rate(self, currency_code: str | None) -> Decimal:
        """1 for the base currency, else the day's rate (foreign units per base unit)."""
        if not currency_code or currency_code == self.currency:
            return Decimal("1")
        return self.day_rates.get(currency_code, DEFAULT_FOREIGN_RATE)

    def __init__(self, tenant_id: str, name: str, currency: str, clock: Clock, short_code: str,
                 on_change: OnChange | None = None) -> None:
        self.tenant_id = tenant_id
        self.name = name
        self.currency = currency
        # Xero's CurrencyRate for a foreign currency: its units per 1 unit of the base currency
        # (an amount in base = amount / rate); Xero takes the day's XE.com rate, the sandbox a
        # fixed one per currency (tests set their own).
        self.day_rates: dict[str, Decimal] = {}
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
        self.invoices_by_updated = SortedKeys()
        self.invoices_by_date = SortedKeys()
        self.payments_by_date = SortedKeys()  # payment dates never change
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

    def _settle(self, inv: Invoice, on_date: dt.date) -> None:
        """PAID when nothing is due, back to AUTHORISED otherwise."""
        if inv.amount_due <= 0 and inv.status == "AUTHORISED":
            inv.status = "PAID"
            inv.fully_paid_on = on_date
        elif inv.amount_due > 0 and inv.status == "PAID":
            inv.status = "AUTHORISED"
            inv.fully_paid_on = None

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
