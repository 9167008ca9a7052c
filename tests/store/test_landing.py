"""Landing upserts: exact counts, idempotent, newer-wins, on both backends."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from tests.store.helpers import PULLED, T0, contact, credit_note, invoice, later, payment
from xero_sync.store import landing
from xero_sync.store.landing import UpsertCounts
from xero_sync.store.schema import xero_invoices


def test_invoices_upsert_twice_second_time_all_unchanged(store_engine):
    records = [invoice(f"i{n}", total=f"{n}.25") for n in range(1, 8)]
    with store_engine.begin() as conn:
        assert landing.upsert_invoices(conn, "acme", records, PULLED) == UpsertCounts(7, 0, 0)
        assert landing.upsert_invoices(conn, "acme", records, PULLED) == UpsertCounts(0, 0, 7)
        row = conn.execute(sa.select(xero_invoices).where(xero_invoices.c.invoice_id == "i3")).one()
    assert (row.total_minor, row.amount_due_minor, row.month, row.currency) == (325, 325, dt.date(2024, 2, 1), "USD")
    assert row.updated_at == T0 and row.pulled_at == PULLED


def test_older_updated_date_never_overwrites_newer(store_engine):
    with store_engine.begin() as conn:
        landing.upsert_invoices(conn, "acme", [invoice("i1", total="200.00", updated=later(60))], PULLED)
        counts = landing.upsert_invoices(conn, "acme", [invoice("i1", total="100.00", updated=T0)], PULLED)
        assert counts == UpsertCounts(0, 0, 1)
        newer = landing.upsert_invoices(conn, "acme", [invoice("i1", total="300.00", updated=later(90))], PULLED)
        assert newer == UpsertCounts(0, 1, 0)
        [loaded] = landing.load_invoices(conn, "acme")
    assert (loaded.total_minor, loaded.updated_at) == (30000, later(90))


def test_same_updated_date_with_other_content_is_updated(store_engine):
    # Some Xero edits do not bump UpdatedDateUTC; the full re-read must still land them.
    with store_engine.begin() as conn:
        landing.upsert_invoices(conn, "acme", [invoice("i1", paid="0.00")], PULLED)
        assert landing.upsert_invoices(conn, "acme", [invoice("i1", paid="25.00")], PULLED) == UpsertCounts(0, 1, 0)
        [loaded] = landing.load_invoices(conn, "acme")
    assert (loaded.amount_paid_minor, loaded.amount_due_minor) == (2500, 7500)


def test_mixed_batch_counts_and_duplicates(store_engine):
    with store_engine.begin() as conn:
        landing.upsert_contacts(conn, "acme", [contact("c1"), contact("c2")], PULLED)
        batch = [
            contact("c1"),  # unchanged
            contact("c2", name="Renamed", updated=later(1)),  # updated
            contact("c3"),  # inserted
            contact("c4", name="old", updated=T0), contact("c4", name="new", updated=later(2)),  # dup: newest kept
        ]
        assert landing.upsert_contacts(conn, "acme", batch, PULLED) == UpsertCounts(2, 1, 2)
        loaded = {c.contact_id: c for c in landing.load_contacts(conn, "acme")}
    assert loaded["c2"].name == "Renamed" and loaded["c4"].name == "new" and len(loaded) == 4


def test_partners_are_separate(store_engine):
    with store_engine.begin() as conn:
        landing.upsert_invoices(conn, "acme", [invoice("i1")], PULLED)
        assert landing.upsert_invoices(conn, "beta", [invoice("i1")], PULLED) == UpsertCounts(1, 0, 0)
        assert [i.xero_invoice_id for i in landing.load_invoices(conn, "beta")] == ["i1"]


def test_large_batch_is_chunked_and_counted(store_engine):
    records = [invoice(f"i{n:05d}", date=dt.date(2024, 1 + n % 12, 1)) for n in range(6_000)]
    with store_engine.begin() as conn:
        assert landing.upsert_invoices(conn, "acme", records, PULLED) == UpsertCounts(6_000, 0, 0)
        changed = [invoice(f"i{n:05d}", updated=later(5), date=dt.date(2024, 1 + n % 12, 1)) for n in range(0, 6_000, 3)]
        assert landing.upsert_invoices(conn, "acme", records[:10] + changed, PULLED) == UpsertCounts(0, 2_000, 10)
        assert len(landing.load_invoices(conn, "acme", months=[dt.date(2024, 3, 1)])) == 500
        ids = [f"i{n:05d}" for n in range(0, 6_000, 2)]
        assert len(landing.load_invoices(conn, "acme", ids=ids)) == 3_000


def test_payments_land_with_month_and_minor_units(store_engine):
    with store_engine.begin() as conn:
        counts = landing.upsert_payments(conn, "acme", [payment("p1"), payment("p2", invoice_id=None, currency=None)], PULLED)
        assert counts == UpsertCounts(2, 0, 0)
        assert landing.upsert_payments(conn, "acme", [payment("p1", status="DELETED", updated=later(1))], PULLED) == UpsertCounts(0, 1, 0)
        loaded = {p.payment_id: p for p in landing.load_payments(conn, "acme", months=[dt.date(2024, 2, 1)])}
    assert loaded["p1"].status == "DELETED" and loaded["p1"].amount_minor == 4000
    assert loaded["p2"].invoice_id is None and loaded["p2"].currency is None


def test_credit_notes_keep_allocations_in_minor_units(store_engine):
    with store_engine.begin() as conn:
        assert landing.upsert_credit_notes(conn, "acme", [credit_note()], PULLED) == UpsertCounts(1, 0, 0)
        assert landing.upsert_credit_notes(conn, "acme", [credit_note()], PULLED) == UpsertCounts(0, 0, 1)
        assert landing.upsert_credit_notes(conn, "acme", [credit_note(allocated="7.50")], PULLED) == UpsertCounts(0, 1, 0)
        [note] = landing.load_credit_notes(conn, "acme")
    assert note.allocations == [{"invoice_id": "i1", "amount_minor": 750, "date": "2024-02-11"}]
    assert note.total_minor == 1000
