"""Small helpers shared by the server tests: an unpaid invoice and a payment body via the real SDK."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from xero_python.accounting import Account, Invoice, Payment, Payments

PAYMENTS_ACCOUNT_CODE = "615"  # seeded "Undeposited Funds", payments enabled


def unpaid_invoices(sdk, count: int = 1) -> list:
    invoices = sdk.accounting.get_invoices(
        sdk.tenant_id, where='Type=="ACCREC"', statuses=["AUTHORISED"], page=1, page_size=100
    ).invoices
    unpaid = [inv for inv in invoices if inv.amount_due > Decimal("10")]
    assert len(unpaid) >= count, "the seeded organisation has too few unpaid invoices"
    return unpaid[:count]


def payment_body(invoice, amount: Decimal, reference: str) -> Payments:
    return Payments(
        payments=[
            Payment(
                invoice=Invoice(invoice_id=invoice.invoice_id),
                account=Account(code=PAYMENTS_ACCOUNT_CODE),
                amount=amount,
                date=dt.date(2026, 11, 14),
                reference=reference,
            )
        ]
    )


def payments_with_reference(sdk, reference: str) -> list:
    return sdk.accounting.get_payments(sdk.tenant_id, where=f'Reference=="{reference}"').payments
