"""Xero's invoice rules: create, edit, void and delete (ACCREC and ACCPAY)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from xero_sandbox.org.books import Books
from xero_sandbox.org.errors import MSG_LOCKED, ValidationError
from xero_sandbox.org.records import Invoice, line_totals


class InvoiceRules(Books):
    """Invoice rules; part of `Organisation`."""

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
            sub, tax, total = line_totals(built, line_amount_types)
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
                sub, tax, total = line_totals(new_lines, inv.line_amount_types)
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
