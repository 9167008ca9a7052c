"""Builders for the sync-rule tests: a Xero or platform record with defaults, overridden per test."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from xero_sync.sync.rules import (
    PlatformCustomer,
    PlatformInvoice,
    XeroContact,
    XeroInvoice,
    XeroPayment,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)


def xinv(**kw: object) -> XeroInvoice:
    base = dict(
        xero_invoice_id="inv-1", number="INV-0001", type="ACCREC", status="AUTHORISED",
        contact_id="c-1", currency="USD", issue_date=date(2025, 2, 1), due_date=date(2025, 3, 3),
        total_minor=10_000, amount_due_minor=10_000, amount_paid_minor=0,
        amount_credited_minor=0, updated_at=T1,
    )
    base.update(kw)
    return XeroInvoice(**base)  # type: ignore[arg-type]


def pinv(**kw: object) -> PlatformInvoice:
    base = dict(
        invoice_id=7, xero_invoice_id="inv-1", status="unpaid", xero_status="AUTHORISED",
        total_minor=10_000, outstanding_minor=10_000, due_date=date(2025, 3, 3),
        deleted_in_xero=False, archived=False, xero_updated_at=T0, pending_payments_minor=0,
        xero_total_minor=10_000, xero_due_date=date(2025, 3, 3),
    )
    base.update(kw)
    return PlatformInvoice(**base)  # type: ignore[arg-type]


def xcon(**kw: object) -> XeroContact:
    base = dict(contact_id="c-1", name="Acme", email="ap@acme.test", status="ACTIVE",
                is_customer=True, updated_at=T1)
    base.update(kw)
    return XeroContact(**base)  # type: ignore[arg-type]


def pcus(**kw: object) -> PlatformCustomer:
    base = dict(customer_id=3, xero_contact_id="c-1", name="Acme", email="ap@acme.test",
                deleted_in_xero=False, archived=False, xero_updated_at=T0)
    base.update(kw)
    return PlatformCustomer(**base)  # type: ignore[arg-type]


def xpay(**kw: object) -> XeroPayment:
    base = dict(payment_id="p-1", invoice_id="inv-1", date=date(2025, 3, 2), amount_minor=2_500,
                currency="USD", status="AUTHORISED", reference=None, updated_at=T1)
    base.update(kw)
    return XeroPayment(**base)  # type: ignore[arg-type]
