"""Xero's credit rules: credit notes, and allocating credit (a credit note, overpayment or
prepayment) to an invoice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from xero_sandbox.org.books import Books
from xero_sandbox.org.errors import MSG_CREDIT_EXCEEDS, MSG_PAID_OFF, ValidationError
from xero_sandbox.org.records import Allocation, CreditNote, line_totals
from xero_sandbox.xero_json import money


class CreditRules(Books):
    """Credit note and allocation rules; part of `Organisation`."""

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
            sub, tax, total = line_totals(built, line_amount_types)
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
            sources: dict[str, tuple[Mapping[str, Any], str]] = {
                "CREDITNOTE": (self.credit_notes, "Credit Note"),
                "OVERPAYMENT": (self.overpayments, "Overpayment"),
                "PREPAYMENT": (self.prepayments, "Prepayment"),
            }
            table, label = sources[source_kind]
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
