"""Record builders for platform tests (plain data, no mocks)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from xero_sync.core.records import (
    AllocationRecord, ContactRecord, CreditNoteRecord, InvoiceRecord, PaymentRecord,
)

T0 = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.timezone.utc)
PULLED = dt.datetime(2024, 3, 2, 0, 0, tzinfo=dt.timezone.utc)


def later(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def contact(cid: str = "c1", *, name: str = "Acme Pty", updated: dt.datetime = T0, status: str = "ACTIVE",
            is_customer: bool = True, email: str | None = "ap@acme.test") -> ContactRecord:
    return ContactRecord(contact_id=cid, name=name, status=status, is_customer=is_customer,
                         is_supplier=False, email=email, updated_at=updated)


def invoice(iid: str = "i1", *, contact_id: str = "c1", total: str = "100.00", due: str | None = None,
            paid: str = "0.00", status: str = "AUTHORISED", updated: dt.datetime = T0,
            date: dt.date = dt.date(2024, 2, 15), currency: str = "USD", type: str = "ACCREC",
            due_date: dt.date | None = dt.date(2024, 3, 15)) -> InvoiceRecord:
    total_d = Decimal(total)
    paid_d = Decimal(paid)
    return InvoiceRecord(
        invoice_id=iid, invoice_number=f"INV-{iid}", type=type, status=status, contact_id=contact_id,
        contact_name="Acme Pty", date=date, due_date=due_date, currency_code=currency,
        sub_total=total_d, total_tax=Decimal("0"), total=total_d,
        amount_due=Decimal(due) if due is not None else total_d - paid_d, amount_paid=paid_d,
        amount_credited=Decimal("0"), updated_at=updated,
    )


def payment(pid: str = "p1", *, invoice_id: str | None = "i1", amount: str = "40.00", status: str = "AUTHORISED",
            reference: str | None = None, updated: dt.datetime = T0, date: dt.date = dt.date(2024, 2, 20),
            currency: str | None = "USD") -> PaymentRecord:
    return PaymentRecord(payment_id=pid, invoice_id=invoice_id, date=date, amount=Decimal(amount),
                         currency_code=currency, status=status, payment_type="ACCRECPAYMENT",
                         reference=reference, account_id="acc-1", account_code="610",
                         is_reconciled=False, updated_at=updated)


def credit_note(cnid: str = "cn1", *, updated: dt.datetime = T0, allocated: str = "10.00") -> CreditNoteRecord:
    return CreditNoteRecord(
        credit_note_id=cnid, credit_note_number="CN-1", type="ACCRECCREDIT", status="AUTHORISED",
        contact_id="c1", date=dt.date(2024, 2, 10), currency_code="USD", total=Decimal("10.00"),
        remaining_credit=Decimal("0.00"), updated_at=updated,
        allocations=(AllocationRecord(allocation_id="a1", invoice_id="i1", amount=Decimal(allocated),
                                      date=dt.date(2024, 2, 11)),),
    )
