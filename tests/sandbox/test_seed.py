"""Deterministic seeded organisations."""

import datetime as dt
from collections import Counter
from decimal import Decimal

from xero_sandbox.clock import Clock
from xero_sandbox.seed import seed_organisations

END = dt.date(2026, 11, 25)


def _clock():
    return Clock(frozen_at=dt.datetime(2026, 11, 25, 12, tzinfo=dt.timezone.utc))


def _seed(**kw):
    args = dict(seed=7, invoices=600, months=6, clock=_clock(), end=END) | kw
    return seed_organisations(**args)


def test_same_seed_same_organisation_different_seed_differs():
    a, b, c = _seed()[0], _seed()[0], _seed(seed=8)[0]
    assert a.tenant_id == b.tenant_id and list(a.invoices) == list(b.invoices)
    assert [i.total for i in a.invoices.values()] == [i.total for i in b.invoices.values()]
    assert list(a.payments) == list(b.payments)
    assert a.tenant_id != c.tenant_id


def test_seeded_state_is_consistent_and_realistic():
    org = _seed()[0]
    assert org.name == "Demo Company (US) #1" and org.currency == "USD"
    codes = {a.code: a for a in org.accounts.values()}
    assert codes["200"].type == "REVENUE" and codes["404"].type == "EXPENSE"
    assert codes["615"].enable_payments and codes["095"].type == "BANK" and codes["090"].type == "BANK"
    sales = [i for i in org.invoices.values() if i.type == "ACCREC"]
    assert len(sales) == 600
    assert any(i.type == "ACCPAY" for i in org.invoices.values())
    statuses = Counter(i.status for i in sales)
    assert {"PAID", "AUTHORISED", "DRAFT", "VOIDED", "DELETED"} <= set(statuses)
    assert any(i.amount_credited and i.allocations and i.allocations[0].source_kind == "CREDITNOTE" for i in sales)
    assert any(a.source_kind in ("OVERPAYMENT", "PREPAYMENT") for i in sales for a in i.allocations)
    assert any(c.status == "ARCHIVED" for c in org.contacts.values())
    start = dt.date(2026, 6, 1)
    for inv in org.invoices.values():
        assert start <= inv.date <= END and inv.due_date == inv.date + dt.timedelta(days=30)
        assert inv.total == inv.amount_due + inv.amount_paid + inv.amount_credited
        assert Decimal("0.50") <= inv.total and inv.total == inv.total.quantize(Decimal("0.01"))
        assert (inv.status == "PAID") == (inv.amount_due == 0 and inv.status not in ("VOIDED", "DELETED"))
        assert inv.updated <= _clock().now()
    for p in org.payments.values():
        assert org.invoices[p.invoice_id].date <= p.date <= END
    recent = [i for i in sales if i.date >= END - dt.timedelta(days=60) and i.status in ("PAID", "AUTHORISED")]
    assert sum(i.status == "AUTHORISED" for i in recent) > len(recent) / 2
    assert org.first_transaction_date() >= start
    assert len(org.invoices_by_updated.items) == len(org.invoices) == len(org.invoices_by_date.items)


def test_multiple_tenants_and_cad():
    orgs = _seed(tenants=2, currency="CAD", invoices=50)
    assert [o.name for o in orgs] == ["Demo Company (CA) #1", "Demo Company (CA) #2"]
    assert orgs[0].tenant_id != orgs[1].tenant_id and all(o.currency == "CAD" for o in orgs)
