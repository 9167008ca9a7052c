"""Landed Xero records converted to the sync rules' inputs: exact minor units, refused when inexact."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.sync.rule_builders import T0
from xero_sync.core.money import InexactAmountError
from xero_sync.sync.rules import (
    XeroContact,
    contact_from_record,
    invoice_from_record,
    payment_from_record,
)
from xero_sync.core.records import ContactRecord, InvoiceRecord, PaymentRecord


# --- Converting landed records -----------------------------------------------------------------

def _inv_record(**kw: object) -> InvoiceRecord:
    base = dict(
        invoice_id="inv-9", invoice_number="INV-9", type="ACCREC", status="AUTHORISED",
        contact_id="c-9", contact_name="Beta", date=date(2024, 2, 29), due_date=None,
        currency_code="CAD", sub_total=Decimal("100.00"), total_tax=Decimal("5.25"),
        total=Decimal("105.25"), amount_due=Decimal("55.25"), amount_paid=Decimal("40"),
        amount_credited=Decimal("10.00"), updated_at=T0,
    )
    base.update(kw)
    return InvoiceRecord(**base)  # type: ignore[arg-type]


def test_invoice_from_record_converts_to_minor_units():
    x = invoice_from_record(_inv_record())
    assert (x.total_minor, x.amount_due_minor, x.amount_paid_minor, x.amount_credited_minor) == (
        10_525, 5_525, 4_000, 1_000)
    assert all(isinstance(v, int) for v in (x.total_minor, x.amount_due_minor))
    assert (x.xero_invoice_id, x.number, x.currency, x.issue_date) == (
        "inv-9", "INV-9", "CAD", date(2024, 2, 29))


def test_invoice_from_record_zero_decimal_currency():
    x = invoice_from_record(_inv_record(currency_code="JPY", total=Decimal("1050"),
                                        amount_due=Decimal("1050"), amount_paid=Decimal("0"),
                                        amount_credited=Decimal("0")))
    assert x.total_minor == 1050


def test_invoice_from_record_refuses_inexact_amount():
    with pytest.raises(InexactAmountError):
        invoice_from_record(_inv_record(total=Decimal("1.005")))


def test_contact_from_record():
    rec = ContactRecord(contact_id="c-1", name="Acme", status="ARCHIVED", is_customer=True,
                        is_supplier=False, email=None, updated_at=T0)
    assert contact_from_record(rec) == XeroContact("c-1", "Acme", None, "ARCHIVED", True, T0)


@pytest.mark.parametrize(("record_currency", "fallback", "expected"),
                         [("USD", None, "USD"), (None, "CAD", "CAD"), (None, None, None)])
def test_payment_from_record(record_currency, fallback, expected):
    rec = PaymentRecord(payment_id="p-1", invoice_id="inv-1", date=date(2025, 1, 1),
                        amount=Decimal("12.34"), currency_code=record_currency, status="DELETED",
                        payment_type="ACCRECPAYMENT", reference="pay_123", account_id=None,
                        account_code=None, is_reconciled=False, updated_at=T0)
    p = payment_from_record(rec, fallback)
    assert p.amount_minor == 1_234 and p.currency == expected
    assert (p.status, p.reference, p.invoice_id) == ("DELETED", "pay_123", "inv-1")
