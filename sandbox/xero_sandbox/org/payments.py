"""Xero's payment rules: a payment settles an approved invoice; deleting one gives the
amount back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from xero_sandbox.org.books import Books
from xero_sandbox.org.errors import MSG_EXCEEDS, ValidationError
from xero_sandbox.org.records import Payment
from xero_sandbox.xero_json import money


class PaymentRules(Books):
    """Payment rules; part of `Organisation`."""

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
                currency_rate=self.currency_rate(inv.currency_code),
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
