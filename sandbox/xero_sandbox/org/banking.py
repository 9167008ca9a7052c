"""Xero's banking rules: bank transactions (overpayments and prepayments among them) and
transfers between two bank accounts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from xero_sandbox.org.books import Books
from xero_sandbox.org.errors import MSG_TRANSFER_BANK, ValidationError
from xero_sandbox.org.records import (
    ZERO, Account, BankTransaction, BankTransfer, Credit, LineItem, line_totals,
)
from xero_sandbox.xero_json import money


class BankingRules(Books):
    """Bank transaction and transfer rules; part of `Organisation`."""

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
            sub, tax, total = line_totals(built, line_amount_types)
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
