"""Apply step end-to-end with the real rules: landing -> platform customers/invoices/payments."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.store.helpers import PULLED, contact, invoice, later, payment
from xero_sync.store import apply, landing, outbox
from xero_sync.store.apply import ApplyCounts
from xero_sync.store.connections import ensure_partner
from xero_sync.store.schema import customers, invoices, payments


@pytest.fixture
def engine(store_engine):
    with store_engine.begin() as conn:
        ensure_partner(conn, "acme", "Acme")
    return store_engine


def _land_and_apply_invoices(conn, records):
    landing.upsert_invoices(conn, "acme", records, PULLED)
    return apply.apply_invoices(conn, "acme", landing.load_invoices(conn, "acme", ids=[r.invoice_id for r in records]))


def _invoice_row(conn, xero_id):
    return conn.execute(sa.select(invoices).where(invoices.c.xero_invoice_id == xero_id)).one()


def test_invoices_insert_skip_and_rerun_unchanged(engine):
    records = [invoice("i1"), invoice("i2", paid="30.00"), invoice("d1", status="DRAFT"), invoice("b1", type="ACCPAY")]
    with engine.begin() as conn:
        assert _land_and_apply_invoices(conn, records) == ApplyCounts(inserted=2, skipped=2)
        assert _land_and_apply_invoices(conn, records) == ApplyCounts(unchanged=2, skipped=2)
        i2 = _invoice_row(conn, "i2")
        stub = conn.execute(sa.select(customers)).one()
    assert (i2.status, i2.total_minor, i2.outstanding_minor, i2.source) == ("partially_paid", 10_000, 7_000, "xero")
    assert i2.customer_id == stub.customer_id
    # Contact not applied yet: a stub customer, filled in when the contact arrives.
    assert (stub.xero_contact_id, stub.name, stub.xero_updated_at) == ("c1", "Xero contact c1", None)


def test_stub_customer_filled_in_when_contact_arrives(engine):
    with engine.begin() as conn:
        _land_and_apply_invoices(conn, [invoice("i1", contact_id="c9")])
        landing.upsert_contacts(conn, "acme", [contact("c9", name="Nine Ltd", is_customer=False)], PULLED)
        counts = apply.apply_contacts(conn, "acme", landing.load_contacts(conn, "acme"))
        row = conn.execute(sa.select(customers)).one()
    # Not flagged IsCustomer, but it is the contact of a synced invoice: synced.
    assert counts == ApplyCounts(updated=1)
    assert (row.name, row.email, row.xero_updated_at) == ("Nine Ltd", "ap@acme.test", later(0))


def test_stub_uses_landed_contact_when_present(engine):
    with engine.begin() as conn:
        landing.upsert_contacts(conn, "acme", [contact("c1", name="Landed Co")], PULLED)
        _land_and_apply_invoices(conn, [invoice("i1")])
        assert conn.execute(sa.select(customers.c.name)).scalar() == "Landed Co"


def test_contacts_apply_counts(engine):
    batch = [contact("c1"), contact("c2", is_customer=False), contact("c3", status="ARCHIVED")]
    with engine.begin() as conn:
        assert apply.apply_contacts(conn, "acme", [landing_contact(c) for c in batch]) == ApplyCounts(inserted=1, skipped=2)
        assert apply.apply_contacts(conn, "acme", [landing_contact(contact("c1"))]) == ApplyCounts(unchanged=1)
        archived = apply.apply_contacts(conn, "acme", [landing_contact(contact("c1", status="ARCHIVED", updated=later(1)))])
        row = conn.execute(sa.select(customers)).one()
    assert archived == ApplyCounts(updated=1)
    assert (row.deleted_in_xero, row.archived) == (True, False)


def landing_contact(record):
    from xero_sync.sync.rules import contact_from_record
    return contact_from_record(record)


def test_xero_edits_update_unpaid_invoice_and_payment_status(engine):
    with engine.begin() as conn:
        _land_and_apply_invoices(conn, [invoice("i1")])
        counts = _land_and_apply_invoices(conn, [invoice("i1", total="120.00", due_date=dt.date(2024, 4, 1), updated=later(5))])
        assert counts == ApplyCounts(updated=1)
        row = _invoice_row(conn, "i1")
        assert (row.total_minor, row.outstanding_minor, row.due_date) == (12_000, 12_000, dt.date(2024, 4, 1))
        _land_and_apply_invoices(conn, [invoice("i1", total="120.00", paid="120.00", status="PAID", updated=later(9))])
        assert _invoice_row(conn, "i1").status == "paid"
        # Older copy arriving late never wins.
        assert apply.apply_invoices(conn, "acme", [landing.load_invoices(conn, "acme")[0].__class__(
            **{**_as_dict(landing.load_invoices(conn, "acme")[0]), "updated_at": later(1), "total_minor": 1}
        )]) == ApplyCounts(unchanged=1)
        assert _invoice_row(conn, "i1").total_minor == 12_000


def _as_dict(obj):
    return {f: getattr(obj, f) for f in obj.__slots__}


def test_voided_in_xero_is_flagged_not_archived(engine):
    with engine.begin() as conn:
        _land_and_apply_invoices(conn, [invoice("i1")])
        assert _land_and_apply_invoices(conn, [invoice("i1", status="VOIDED", updated=later(3))]) == ApplyCounts(updated=1)
        row = _invoice_row(conn, "i1")
    assert (row.deleted_in_xero, row.archived, row.xero_status, row.status) == (True, False, "VOIDED", "unpaid")


def test_pending_alternative_payment_wins_and_conflict_is_recorded(engine):
    with engine.begin() as conn:
        _land_and_apply_invoices(conn, [invoice("i1")])
        inv_id = _invoice_row(conn, "i1").invoice_id
        oid = outbox.record_payment(conn, payment_id="pay_1", partner_id="acme", invoice_id=inv_id,
                                    amount_minor=4_000, fee_minor=0, currency="USD", paid_on=dt.date(2024, 3, 1))
        [state] = apply.load_platform_invoices(conn, "acme", ["i1"]).values()
        assert state[0].pending_payments_minor == 4_000
        edited = invoice("i1", due_date=dt.date(2024, 5, 1), updated=later(5))
        counts = _land_and_apply_invoices(conn, [edited])
        row = _invoice_row(conn, "i1")
        assert counts == ApplyCounts(updated=1, conflicts=1)
        # The pending payment wins for the balance; Xero's due-date edit is held and listed.
        assert (row.outstanding_minor, row.status, row.due_date) == (6_000, "partially_paid", dt.date(2024, 3, 15))
        assert "due date" in row.conflict
        # Once the write is done, the payment no longer counts as pending.
        outbox.claim(conn, [oid])
        outbox.mark_done(conn, oid, {"PaymentID": "xp-1"})
        [state] = apply.load_platform_invoices(conn, "acme", ["i1"]).values()
        assert state[0].pending_payments_minor == 0


def test_payments_insert_ours_and_deleted(engine):
    with engine.begin() as conn:
        _land_and_apply_invoices(conn, [invoice("i1", paid="40.00")])
        inv_id = _invoice_row(conn, "i1").invoice_id
        outbox.record_payment(conn, payment_id="pay_alt", partner_id="acme", invoice_id=inv_id,
                              amount_minor=1_000, fee_minor=0, currency="USD", paid_on=dt.date(2024, 3, 1))
        batch = [payment("p1"), payment("p2", reference="pay_alt", amount="10.00"),
                 payment("p3", invoice_id="unknown"), payment("p4", currency=None, amount="5.00")]
        landing.upsert_payments(conn, "acme", batch, PULLED)
        loaded = landing.load_payments(conn, "acme")
        assert apply.apply_payments(conn, "acme", loaded) == ApplyCounts(inserted=2, skipped=1, ours=1)
        assert apply.apply_payments(conn, "acme", loaded) == ApplyCounts(unchanged=2, skipped=1, ours=1)
        rows = {r.payment_id: r for r in conn.execute(sa.select(payments))}
        assert set(rows) == {"pay_alt", "xero_p1", "xero_p4"}
        assert (rows["xero_p1"].source, rows["xero_p1"].amount_minor, rows["xero_p1"].invoice_id) == ("xero", 4_000, inv_id)
        assert rows["xero_p4"].currency == "USD"
        assert rows["pay_alt"].xero_payment_id == "p2"  # learned from the reference
        landing.upsert_payments(conn, "acme", [payment("p1", status="DELETED", updated=later(1))], PULLED)
        deleted = apply.apply_payments(conn, "acme", landing.load_payments(conn, "acme", ids=["p1"]))
        assert deleted == ApplyCounts(updated=1)
        assert conn.execute(sa.select(payments.c.status).where(payments.c.payment_id == "xero_p1")).scalar() != "succeeded"


def test_bulk_apply_is_idempotent(engine):
    records = [invoice(f"i{n:05d}", contact_id=f"c{n % 50}") for n in range(3_000)]
    with engine.begin() as conn:
        assert _land_and_apply_invoices(conn, records) == ApplyCounts(inserted=3_000)
        assert conn.execute(sa.select(sa.func.count()).select_from(customers)).scalar() == 50
        assert _land_and_apply_invoices(conn, records) == ApplyCounts(unchanged=3_000)
