"""The events API (SPEC section 8): every event records with its outbox rows, and every refusal names
the field and writes nothing (row counts of every platform table are compared), on SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from xero_sync.events import api as events
from xero_sync.store import schema
from xero_sync.store.connections import ensure_partner
from xero_sync.events.checks import EventRefused, UnknownPartner

DAY = dt.date(2026, 11, 10)
COUNTED = (schema.customers, schema.invoices, schema.payments, schema.payouts, schema.outbox)


def counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() for t in COUNTED}


def snapshot(engine: sa.Engine) -> dict[str, list]:
    """Every row of the tables events write: a refusal must leave them exactly as they were."""
    with engine.connect() as conn:
        return {t.name: sorted(map(repr, conn.execute(sa.select(t)).all())) for t in COUNTED}


@pytest.fixture
def store(store_engine):
    """Partners acme (USD) and beta; acme has a Xero invoice (100.00 due) and an Alternative one."""
    with store_engine.begin() as conn:
        ensure_partner(conn, "acme", "Acme")
        ensure_partner(conn, "beta", "Beta")
        xero_inv = conn.execute(sa.insert(schema.invoices).values(
            partner_id="acme", source="xero", xero_invoice_id="x-1", number="INV-1", currency="USD",
            issue_date=DAY, total_minor=10_000, outstanding_minor=10_000, status="unpaid",
            xero_status="AUTHORISED", xero_total_minor=10_000,
        ).returning(schema.invoices.c.invoice_id)).scalar_one()
    alt_inv = events.invoice_created(store_engine, partner_id="acme", number="ALT-1", currency="USD",
                                     amount="250.00", issue_date=DAY)
    beta_inv = events.invoice_created(store_engine, partner_id="beta", number="B-1", currency="USD",
                                      amount="10", issue_date="2026-11-01")
    return store_engine, xero_inv, alt_inv, beta_inv


def refused(engine, call, field: str, match: str | None = None, exc=EventRefused) -> EventRefused:
    before = snapshot(engine)
    with pytest.raises(exc) as info:
        call()
    assert info.value.field == field, info.value
    if match:
        assert match in info.value.reason, info.value.reason
    assert snapshot(engine) == before  # nothing written
    return info.value


# --- recording ---------------------------------------------------------------------------------


def test_events_record_rows_and_outbox_rows(store):
    engine, xero_inv, _alt_inv, _ = store
    cust = events.customer_created(engine, partner_id="acme", name=" Jane Doe ", email="jane@example.com")
    inv = events.invoice_created(engine, partner_id="acme", number="ALT-2", currency="USD",
                                 amount=Decimal("80.5"), issue_date=DAY, due_date="2026-12-10",
                                 customer_id=cust)
    pay = events.payment_taken(engine, partner_id="acme", payment_id="pay_1", invoice_id=xero_inv,
                               amount="40.00", currency="USD", paid_on=DAY, fee="0.80")
    dep = events.payment_taken(engine, partner_id="acme", payment_id="pay_2", invoice_id=inv,
                               amount="80.50", currency="USD", paid_on="2026-11-10")
    # Reporting the same payment again is the same write.
    assert events.payment_taken(engine, partner_id="acme", payment_id="pay_1", invoice_id=str(xero_inv),
                                amount="40", currency="USD", paid_on=DAY, fee="0.8") == pay
    po = events.payout_sent(engine, partner_id="acme", payout_id="po_1", currency="USD",
                            payment_ids=["pay_1", "pay_2"], fees="1.50", paid_out_on=DAY)
    assert events.payout_sent(engine, partner_id="acme", payout_id="po_1", currency="USD",
                              payment_ids=("pay_2", "pay_1"), fees="1.5", paid_out_on=DAY) == po
    with engine.connect() as conn:
        c = conn.execute(sa.select(schema.customers).where(schema.customers.c.customer_id == cust)).one()
        i = conn.execute(sa.select(schema.invoices).where(schema.invoices.c.invoice_id == inv)).one()
        o = {r.outbox_id: r for r in conn.execute(sa.select(schema.outbox))}
        p = conn.execute(sa.select(schema.payouts)).one()
    assert (c.source, c.name, c.email) == ("alternative", "Jane Doe", "jane@example.com")
    # The Alternative invoice is paid in full by its payment (Alternative keeps its balance).
    assert (i.source, i.total_minor, i.outstanding_minor, i.status, i.customer_id) == (
        "alternative", 8_050, 0, "paid", cust)
    assert (o[pay].kind, o[pay].payload["amount_minor"], o[pay].payload["fee_minor"]) == ("payment", 4_000, 80)
    assert o[dep].kind == "deposit"
    assert (o[po].kind, p.fees_minor) == ("payout", 150)


def test_payment_failed_cancels_or_deletes_and_restores_an_alternative_balance(store):
    engine, _xero_inv, alt_inv, _ = store
    events.payment_taken(engine, partner_id="acme", payment_id="dep_1", invoice_id=alt_inv,
                         amount="100", currency="USD", paid_on=DAY)
    assert events.payment_failed(engine, partner_id="acme", payment_id="dep_1") is None
    assert events.payment_failed(engine, partner_id="acme", payment_id="dep_1", status="failed") is None
    with engine.connect() as conn:
        inv = conn.execute(sa.select(schema.invoices).where(schema.invoices.c.invoice_id == alt_inv)).one()
        row = conn.execute(sa.select(schema.outbox)).one()
    assert (inv.outstanding_minor, inv.status) == (25_000, "unpaid")
    assert row.status == "cancelled"
    refused(engine, lambda: events.payment_failed(engine, partner_id="acme", payment_id="dep_1",
                                                  status="refunded"), "status", "already failed")


def test_invoice_edited_and_archived(store):
    engine, xero_inv, alt_inv, _ = store
    events.invoice_edited(engine, partner_id="acme", invoice_id=xero_inv, amount="120.00",
                          due_date="2026-12-31")
    events.archived(engine, partner_id="acme", subject="invoice", subject_id=alt_inv)
    events.archived(engine, partner_id="acme", subject="invoice", subject_id=alt_inv)  # again: no-op
    with engine.connect() as conn:
        rows = {r.invoice_id: r for r in conn.execute(sa.select(schema.invoices))}
    assert (rows[xero_inv].total_minor, rows[xero_inv].outstanding_minor, rows[xero_inv].due_date) == (
        12_000, 12_000, dt.date(2026, 12, 31))
    assert rows[xero_inv].xero_total_minor == 10_000  # the Xero baseline is not an edit
    assert rows[alt_inv].archived
    # Archived invoices take no payments and no edits.
    refused(engine, lambda: events.payment_taken(engine, partner_id="acme", payment_id="p9",
                                                 invoice_id=alt_inv, amount="1", currency="USD",
                                                 paid_on=DAY), "invoice_id", "archived")
    refused(engine, lambda: events.invoice_edited(engine, partner_id="acme", invoice_id=alt_inv,
                                                  amount="1"), "invoice_id", "archived")


# --- refusals ----------------------------------------------------------------------------------

HOSTILE_IDS = [
    "", " ", "pay 1", "pay_1 ", "'; DROP TABLE payments; --", 'pay"1', "pay'1", "pay\n1", "pay\x00",
    "pay\t1", "péy_1", "pay_\u202e1", "\u0661\u0662", "x" * 65, "x" * 10_000, "-pay", "../etc",
    "pay/1", "pay%1", "<script>", 12, None, ["pay_1"], b"pay_1",
]


@pytest.mark.parametrize("bad", HOSTILE_IDS, ids=lambda v: repr(v)[:30])
def test_hostile_payment_ids_are_refused(store, bad):
    engine, xero_inv, _, _ = store
    err = refused(engine, lambda: events.payment_taken(
        engine, partner_id="acme", payment_id=bad, invoice_id=xero_inv, amount="1.00",
        currency="USD", paid_on=DAY), "payment_id")
    assert len(str(err)) < 200  # a hostile value is never echoed in full


@pytest.mark.parametrize("bad", HOSTILE_IDS, ids=lambda v: repr(v)[:30])
def test_hostile_partner_and_payout_ids_are_refused(store, bad):
    engine, _xero_inv, _, _ = store
    refused(engine, lambda: events.customer_created(engine, partner_id=bad, name="X"), "partner_id")
    refused(engine, lambda: events.payout_sent(engine, partner_id="acme", payout_id=bad, currency="USD",
                                               payment_ids=["p"], fees="0", paid_out_on=DAY), "payout_id")
    refused(engine, lambda: events.invoice_created(engine, partner_id="acme", number=bad, currency="USD",
                                                   amount="1", issue_date=DAY), "number")


@pytest.mark.parametrize("bad", [0, -1, True, "1.5", "01x", "abc", 2**64, 1.0, "\u0661", " 1", None])
def test_bad_invoice_ids_are_refused(store, bad):
    engine, *_ = store
    refused(engine, lambda: events.payment_taken(engine, partner_id="acme", payment_id="p1", invoice_id=bad,
                                                 amount="1", currency="USD", paid_on=DAY), "invoice_id")


@pytest.mark.parametrize("bad, reason", [
    (1.5, "not a float"), (float("nan"), "NaN"), (float("inf"), "NaN"), (Decimal("NaN"), "finite"),
    (Decimal("Infinity"), "finite"), (Decimal("-Infinity"), "finite"), ("-1.00", "positive"),
    (-1, "positive"), (0, "positive"), ("0.00", "positive"), (Decimal("-0.01"), "positive"),
    ("1.001", "more than 2 decimals"), (Decimal("0.005"), "more than 2 decimals"),
    ("1e3", "not a decimal amount"), ("1,00", "not a decimal amount"), (" 1", "not a decimal amount"),
    ("", "not a decimal amount"), ("NaN", "not a decimal amount"), (True, "not a bool"),
    ("1" * 40, "not a decimal amount"), ("10000000000", "largest"), (None, "got NoneType"),
])
def test_inexact_or_non_positive_amounts_are_refused(store, bad, reason):
    engine, xero_inv, _alt_inv, _ = store
    refused(engine, lambda: events.payment_taken(engine, partner_id="acme", payment_id="p1",
                                                 invoice_id=xero_inv, amount=bad, currency="USD",
                                                 paid_on=DAY), "amount", reason)
    refused(engine, lambda: events.invoice_created(engine, partner_id="acme", number="N1", currency="USD",
                                                   amount=bad, issue_date=DAY), "amount", reason)


def test_currency_and_ownership_and_balance_are_checked(store):
    engine, xero_inv, alt_inv, beta_inv = store

    def pay(**kw):
        args = {"partner_id": "acme", "payment_id": "p1", "invoice_id": xero_inv, "amount": "10",
                    "currency": "USD", "paid_on": DAY} | kw
        return lambda: events.payment_taken(engine, **args)

    refused(engine, pay(currency="CAD"), "currency", "differs from invoice")
    refused(engine, pay(currency="usd"), "currency", "three capital letters")
    refused(engine, pay(currency="US D"), "currency")
    refused(engine, pay(invoice_id=beta_inv), "invoice_id", "no invoice")  # another partner's
    refused(engine, pay(invoice_id=999_999), "invoice_id", "no invoice")
    refused(engine, pay(partner_id="nobody"), "partner_id", exc=UnknownPartner)
    refused(engine, pay(amount="100.01"), "amount", "exceeds what is payable")
    refused(engine, pay(invoice_id=alt_inv, amount="250.01"), "amount", "exceeds what is payable")
    refused(engine, pay(fee="10.01"), "fee", "exceeds the payment")
    refused(engine, pay(fee="-1"), "fee", ">= 0")
    refused(engine, pay(paid_on="2026-13-01"), "paid_on", "calendar date")
    refused(engine, pay(paid_on="10/11/2026"), "paid_on", "YYYY-MM-DD")
    refused(engine, pay(paid_on=dt.datetime(2026, 1, 1)), "paid_on")
    refused(engine, pay(paid_on="1900-01-01"), "paid_on", "outside")
    # Balance: pending Alternative payments count against Xero's AmountDue.
    events.payment_taken(engine, partner_id="acme", payment_id="p1", invoice_id=xero_inv, amount="60",
                         currency="USD", paid_on=DAY)
    refused(engine, pay(payment_id="p2", amount="40.01"), "amount", "exceeds what is payable")
    refused(engine, pay(amount="61"), "payment_id", "other details")  # same id, other amount
    events.payment_taken(engine, partner_id="acme", payment_id="p2", invoice_id=xero_inv, amount="40",
                         currency="USD", paid_on=DAY)
    # Invoices with payments are no longer editable.
    refused(engine, lambda: events.invoice_edited(engine, partner_id="acme", invoice_id=xero_inv,
                                                  amount="1"), "invoice_id", "only unpaid")


def test_payout_refusals(store):
    engine, xero_inv, _alt_inv, beta_inv = store
    events.payment_taken(engine, partner_id="acme", payment_id="p1", invoice_id=xero_inv, amount="10",
                         currency="USD", paid_on=DAY)
    events.payment_taken(engine, partner_id="beta", payment_id="b1", invoice_id=beta_inv, amount="10",
                         currency="USD", paid_on=DAY)

    def payout(**kw):
        args = {"partner_id": "acme", "payout_id": "po1", "currency": "USD", "payment_ids": ["p1"], "fees": "0.50",
                    "paid_out_on": DAY} | kw
        return lambda: events.payout_sent(engine, **args)

    refused(engine, payout(payment_ids=[]), "payment_ids", "at least one")
    refused(engine, payout(payment_ids="p1"), "payment_ids", "list")
    refused(engine, payout(payment_ids=["p1", "p1"]), "payment_ids", "twice")
    refused(engine, payout(payment_ids=["p1", "b1"]), "payment_ids[1]", "no payment b1")
    refused(engine, payout(payment_ids=["p1", "nope"]), "payment_ids[1]", "no payment nope")
    refused(engine, payout(payment_ids=["p1", "bad id"]), "payment_ids[1]")
    refused(engine, payout(fees="10.01"), "fees", "exceed")
    refused(engine, payout(fees=0.5), "fees", "not a float")
    refused(engine, payout(currency="CAD"), "payment_ids", "is in USD, not CAD")
    events.payout_sent(engine, partner_id="acme", payout_id="po1", currency="USD", payment_ids=["p1"],
                       fees="0.50", paid_out_on=DAY)
    refused(engine, payout(fees="0.49"), "payout_id", "other details")
    refused(engine, payout(payout_id="po2"), "payment_ids", "already in payout po1")


@pytest.mark.parametrize("kw, field", [
    ({"name": ""}, "name"), ({"name": "   "}, "name"), ({"name": "a\x00b"}, "name"),
    ({"name": "a\nb"}, "name"), ({"name": "x" * 201}, "name"), ({"name": 5}, "name"),
    ({"email": "not-an-email"}, "email"), ({"email": "a@b"}, "email"), ({"email": "a b@c.com"}, "email"),
    ({"email": "x" * 300 + "@example.com"}, "email"),
])
def test_customer_refusals(store, kw, field):
    engine, *_ = store
    refused(engine, lambda: events.customer_created(engine, **({"partner_id": "acme", "name": "Jane"} | kw)),
            field)


def test_other_refusals(store):
    engine, xero_inv, _alt_inv, beta_inv = store
    refused(engine, lambda: events.invoice_created(engine, partner_id="acme", number="ALT-1", currency="USD",
                                                   amount="1", issue_date=DAY), "number", "already has")
    refused(engine, lambda: events.invoice_created(engine, partner_id="acme", number="N2", currency="USD",
                                                   amount="1", issue_date=DAY, due_date="2026-11-09"),
            "due_date", "before the issue date")
    refused(engine, lambda: events.invoice_created(engine, partner_id="acme", number="N2", currency="JPY",
                                                   amount="1.5", issue_date=DAY), "amount", "0 decimals")
    refused(engine, lambda: events.invoice_edited(engine, partner_id="acme", invoice_id=xero_inv),
            "amount", "needs an amount")
    refused(engine, lambda: events.invoice_edited(engine, partner_id="acme", invoice_id=beta_inv,
                                                  amount="1"), "invoice_id", "no invoice")
    refused(engine, lambda: events.archived(engine, partner_id="acme", subject="payment", subject_id=1),
            "subject")
    refused(engine, lambda: events.archived(engine, partner_id="acme", subject="customer", subject_id=1),
            "customer_id", "no customer")
    refused(engine, lambda: events.payment_failed(engine, partner_id="acme", payment_id="nope"),
            "payment_id", "no payment")
    refused(engine, lambda: events.payment_failed(engine, partner_id="acme", payment_id="nope",
                                                  status="chargeback"), "status")


def test_a_connection_bind_commits_with_the_caller_and_a_refusal_writes_nothing(store):
    engine, xero_inv, _alt_inv, _ = store
    before = counts(engine)
    with engine.begin() as conn:
        events.payment_taken(conn, partner_id="acme", payment_id="p1", invoice_id=xero_inv, amount="1",
                             currency="USD", paid_on=DAY)
        with pytest.raises(EventRefused):
            events.payment_taken(conn, partner_id="acme", payment_id="p2", invoice_id=xero_inv,
                                 amount="1.001", currency="USD", paid_on=DAY)
        events.payment_taken(conn, partner_id="acme", payment_id="p3", invoice_id=xero_inv, amount="2",
                             currency="USD", paid_on=DAY)
    after = counts(engine)
    assert (after["payments"] - before["payments"], after["outbox"] - before["outbox"]) == (2, 2)


def test_archiving_records_flagged_deleted_in_xero_takes_them_off_the_diff(store):
    from xero_sync.reconciliation.diffs import load_reconcile_input
    from xero_sync.sync import reconcile

    engine, xero_inv, _, _ = store
    with engine.begin() as conn:
        conn.execute(sa.update(schema.invoices).where(schema.invoices.c.invoice_id == xero_inv)
                     .values(deleted_in_xero=True, xero_status="VOIDED"))
        cust = conn.execute(sa.insert(schema.customers).values(
            partner_id="acme", source="xero", xero_contact_id="c-1", name="Gone", deleted_in_xero=True,
        ).returning(schema.customers.c.customer_id)).scalar_one()

    def flagged() -> list[tuple[str, str]]:
        with engine.connect() as conn:
            out = reconcile.diff(load_reconcile_input(conn, "acme"))
        rows = out.loc[out["kind"] == "deleted_in_xero"]
        return sorted(zip(rows["subject_type"], rows["subject_id"], strict=True))

    assert flagged() == [("customer", str(cust)), ("invoice", str(xero_inv))]
    events.archived(engine, partner_id="acme", subject="invoice", subject_id=xero_inv)
    events.archived(engine, partner_id="acme", subject="customer", subject_id=str(cust))
    assert flagged() == []


@pytest.mark.postgres
def test_concurrent_payments_on_one_invoice_cannot_overpay_it(pg_url):
    """Two services pay the same invoice at once: the second waits for the first and is checked
    against the balance the first left (60 + 50 > 100: refused)."""
    import threading
    import time

    from xero_sync.store.db import make_engine, upgrade

    upgrade(pg_url)
    engine = make_engine(pg_url)
    try:
        with engine.begin() as conn:
            ensure_partner(conn, "acme", "Acme")
        inv = events.invoice_created(engine, partner_id="acme", number="ALT-1", currency="USD",
                                     amount="100", issue_date=DAY)
        outcome: list[object] = []
        with engine.connect() as first:
            first.begin()
            events.payment_taken(first, partner_id="acme", payment_id="p1", invoice_id=inv, amount="60",
                                 currency="USD", paid_on=DAY)

            def second() -> None:
                try:
                    outcome.append(events.payment_taken(engine, partner_id="acme", payment_id="p2",
                                                        invoice_id=inv, amount="50", currency="USD",
                                                        paid_on=DAY))
                except EventRefused as exc:
                    outcome.append(exc)

            thread = threading.Thread(target=second)
            thread.start()
            # Observe (not sleep) until the second is waiting for the first one's lock.
            deadline = time.monotonic() + 30
            with engine.connect() as watch:
                while not watch.execute(sa.text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock'")).scalar_one():
                    assert time.monotonic() < deadline, "the second payment never waited"
                    watch.rollback()
            first.commit()
            thread.join(timeout=30)
        (result,) = outcome
        assert isinstance(result, EventRefused) and result.field == "amount", result
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(schema.payments)).scalar_one() == 1
    finally:
        engine.dispose()
