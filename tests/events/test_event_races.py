"""Concurrent and replayed events (issue 18), through the module, from 20 threads at once, on SQLite
and PostgreSQL: one payment joins one payout, an invoice is never paid more than its total, one
Alternative invoice per number, every create event is replay-safe (its own id or an idempotency
key), and one partner's ids neither collide with nor reveal another's."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from xero_sync.events import api as events
from xero_sync.store import schema
from xero_sync.store.connections import ensure_partner
from xero_sync.events.checks import EventRefused

N = 20
DAY = dt.date(2026, 11, 10)


def race(call: Callable[[int], object], n: int = N) -> list[object]:
    """`call(k)` for k in 0..n-1 from n threads released together; answers or EventRefused."""
    barrier = threading.Barrier(n)

    def one(k: int) -> object:
        barrier.wait()
        try:
            return call(k)
        except EventRefused as exc:
            return exc

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def accepted(answers: list[object]) -> list[object]:
    return [a for a in answers if not isinstance(a, EventRefused)]


def count(engine: sa.Engine, table: sa.Table, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()


@pytest.fixture
def store(store_engine):
    """acme with a Xero invoice (100.00 due) and payment pay_1 (10.00) on it; beta exists."""
    with store_engine.begin() as conn:
        ensure_partner(conn, "acme", "Acme")
        ensure_partner(conn, "beta", "Beta")
        conn.execute(sa.insert(schema.invoices).values(
            partner_id="acme", source="xero", xero_invoice_id="x-1", number="INV-1", currency="USD",
            issue_date=DAY, total_minor=10_000, outstanding_minor=10_000, status="unpaid",
            xero_status="AUTHORISED", xero_total_minor=10_000))
    events.payment_taken(store_engine, partner_id="acme", payment_id="pay_1", invoice_id=1,
                         amount="10.00", currency="USD", paid_on=DAY)
    assert events.invoice_created(store_engine, partner_id="acme", number="ALT-0", currency="USD",
                                  amount="40.00", issue_date=DAY) == 2
    return store_engine


def test_one_payment_in_20_concurrent_payouts_joins_exactly_one(store):
    answers = race(lambda k: events.payout_sent(
        store, partner_id="acme", payout_id=f"po_{k}", currency="USD", payment_ids=["pay_1"],
        fees="0.10", paid_out_on=DAY))
    assert len(accepted(answers)) == 1, answers
    refused = [a for a in answers if isinstance(a, EventRefused)]
    assert {a.field for a in refused} == {"payment_ids"} and all("already" in a.reason for a in refused)
    o = schema.outbox.c
    assert count(store, schema.payouts) == 1
    assert count(store, schema.outbox, o.kind == "payout") == 1
    with store.connect() as conn:
        (winner,) = conn.execute(sa.select(schema.payouts.c.payout_id)).scalars()
        assert conn.execute(sa.select(schema.payments.c.payout_id)
                            .where(schema.payments.c.payment_id == "pay_1")).scalar_one() == winner


def test_20_concurrent_payments_never_overpay_an_alternative_invoice(store):
    invoice = events.invoice_created(store, partner_id="acme", number="ALT-1", currency="USD",
                                     amount="100.00", issue_date=DAY)
    events.payment_taken(store, partner_id="acme", payment_id="dep_0", invoice_id=invoice,
                         amount="10.00", currency="USD", paid_on=DAY)  # 90.00 left payable
    answers = race(lambda k: events.payment_taken(
        store, partner_id="acme", payment_id=f"dep_{k + 1}", invoice_id=invoice, amount="10.00",
        currency="USD", paid_on=DAY))
    assert len(accepted(answers)) == 9, answers
    assert {a.field for a in answers if isinstance(a, EventRefused)} == {"amount"}
    p, i, o = schema.payments.c, schema.invoices.c, schema.outbox.c
    with store.connect() as conn:
        paid = conn.execute(sa.select(sa.func.sum(p.amount_minor)).where(p.invoice_id == invoice)).scalar_one()
        outstanding = conn.execute(sa.select(i.outstanding_minor).where(i.invoice_id == invoice)).scalar_one()
    assert (paid, outstanding) == (10_000, 0)
    assert count(store, schema.outbox, o.kind == "deposit") == 10


def test_20_concurrent_payments_never_overpay_a_xero_invoice(store):
    answers = race(lambda k: events.payment_taken(
        store, partner_id="acme", payment_id=f"pay_x{k}", invoice_id=1, amount="10.00",
        currency="USD", paid_on=DAY))
    assert len(accepted(answers)) == 9, answers  # 100.00 due less pay_1's 10.00 not yet in Xero
    assert count(store, schema.payments, schema.payments.c.invoice_id == 1) == 10


def test_20_concurrent_invoices_with_one_number_make_one(store):
    same = race(lambda k: events.invoice_created(
        store, partner_id="acme", number="ALT-7", currency="USD", amount="50.00", issue_date=DAY))
    assert len(set(same)) == 1 and isinstance(same[0], int), same  # every replay: the same id
    other = race(lambda k: events.invoice_created(
        store, partner_id="acme", number="ALT-8", currency="USD", amount=f"{k + 1}.00", issue_date=DAY))
    assert len(accepted(other)) == 1, other
    assert {a.field for a in other if isinstance(a, EventRefused)} == {"number"}
    i = schema.invoices.c
    assert count(store, schema.invoices, i.number == "ALT-7") == 1
    assert count(store, schema.invoices, i.number == "ALT-8") == 1


def test_an_invoice_number_is_unique_in_the_database(store):
    row = dict(partner_id="acme", source="alternative", number="ALT-9", currency="USD", issue_date=DAY,
               total_minor=100, outstanding_minor=100, status="unpaid")
    with store.begin() as conn:
        conn.execute(sa.insert(schema.invoices).values(**row))
        # Xero's own invoices may repeat a number, and another partner may use it.
        conn.execute(sa.insert(schema.invoices).values(**row | {"source": "xero", "xero_invoice_id": "x-9"}))
        conn.execute(sa.insert(schema.invoices).values(**row | {"partner_id": "beta"}))
    with pytest.raises(sa.exc.IntegrityError), store.begin() as conn:
        conn.execute(sa.insert(schema.invoices).values(**row))


# --- replays ------------------------------------------------------------------------------------


def test_customer_created_with_a_key_replayed_makes_one_customer(store):
    first = events.customer_created(store, partner_id="acme", name="Jane", idempotency_key="k-1")
    assert events.customer_created(store, partner_id="acme", name="Jane", idempotency_key="k-1") == first
    answers = race(lambda k: events.customer_created(store, partner_id="acme", name="Joe",
                                                     idempotency_key="k-2"))
    assert len(set(answers)) == 1 and isinstance(answers[0], int), answers
    assert count(store, schema.customers) == 2
    # The same key for another request is a mistake, refused; another partner's keys are its own.
    with pytest.raises(events.EventConflict) as info:
        events.customer_created(store, partner_id="acme", name="Other", idempotency_key="k-1")
    assert info.value.field == "idempotency_key"
    assert events.customer_created(store, partner_id="beta", name="Jane", idempotency_key="k-1") != first


def _replays() -> dict[str, Callable[[sa.Engine], object]]:
    """One valid request per event kind, replayed as is."""
    return {
        "customer-created": lambda e: events.customer_created(
            e, partner_id="acme", name="Jane", idempotency_key="cust-jane"),
        "invoice-created": lambda e: events.invoice_created(
            e, partner_id="acme", number="ALT-2", currency="USD", amount="80.00", issue_date=DAY),
        "invoice-edited": lambda e: events.invoice_edited(
            e, partner_id="acme", invoice_id=2, due_date="2026-12-31"),
        "archived": lambda e: events.archived(e, partner_id="acme", subject="invoice", subject_id=2),
        "payment-taken": lambda e: events.payment_taken(
            e, partner_id="acme", payment_id="pay_2", invoice_id=1, amount="20.00", currency="USD",
            paid_on=DAY, fee="0.40"),
        "payment-failed": lambda e: events.payment_failed(e, partner_id="acme", payment_id="pay_1",
                                                          status="refunded"),
        "payout-sent": lambda e: events.payout_sent(
            e, partner_id="acme", payout_id="po_1", currency="USD", payment_ids=["pay_1"],
            fees="0.25", paid_out_on=DAY),
    }


@pytest.mark.parametrize("kind", sorted(_replays()))
def test_every_event_replayed_20_times_at_once_answers_the_first_answer(store, kind):
    call = _replays()[kind]
    tables = (schema.customers, schema.invoices, schema.payments, schema.payouts, schema.outbox)
    answers = race(lambda k: call(store))
    assert not [a for a in answers if isinstance(a, EventRefused)], answers
    assert len(set(answers)) == 1, answers
    once = {t.name: count(store, t) for t in tables}
    assert call(store) == answers[0]  # and once more, later
    assert {t.name: count(store, t) for t in tables} == once


def test_every_event_kind_has_a_replay_test():
    assert set(_replays()) == set(events.EVENTS)


# --- ids are the partner's own -----------------------------------------------------------------------


def test_payment_and_payout_ids_are_scoped_per_partner(store):
    beta_invoice = events.invoice_created(store, partner_id="beta", number="B-1", currency="USD",
                                          amount="30.00", issue_date=DAY)
    # beta's pay_1 is beta's own payment: never "already recorded", never acme's.
    beta_write = events.payment_taken(store, partner_id="beta", payment_id="pay_1",
                                      invoice_id=beta_invoice, amount="30.00", currency="USD", paid_on=DAY)
    acme_po = events.payout_sent(store, partner_id="acme", payout_id="po_1", currency="USD",
                                 payment_ids=["pay_1"], fees="0", paid_out_on=DAY)
    beta_po = events.payout_sent(store, partner_id="beta", payout_id="po_1", currency="USD",
                                 payment_ids=["pay_1"], fees="1.00", paid_out_on=DAY)
    assert len({beta_write, acme_po, beta_po}) == 3
    p, po = schema.payments.c, schema.payouts.c
    with store.connect() as conn:
        rows = conn.execute(sa.select(p.partner_id, p.amount_minor, p.payout_id)
                            .where(p.payment_id == "pay_1").order_by(p.partner_id)).all()
        nets = conn.execute(sa.select(po.partner_id, po.net_minor).order_by(po.partner_id)).all()
    assert [tuple(r) for r in rows] == [("acme", 1_000, "po_1"), ("beta", 3_000, "po_1")]
    assert [tuple(r) for r in nets] == [("acme", 1_000), ("beta", 2_900)]
    # A failure or a payout names the partner's own payment only.
    events.payment_failed(store, partner_id="beta", payment_id="pay_1", status="refunded")
    with store.connect() as conn:
        statuses = dict(conn.execute(sa.select(p.partner_id, p.status).where(p.payment_id == "pay_1")).all())
    assert statuses == {"acme": "succeeded", "beta": "refunded"}
    with pytest.raises(EventRefused, match="no payment pay_9 for partner 'beta'"):
        events.payout_sent(store, partner_id="beta", payout_id="po_2", currency="USD",
                           payment_ids=["pay_9"], fees="0", paid_out_on=DAY)


def test_another_partners_payment_id_is_not_revealed(store):
    """beta reporting acme's payment id with other details is not told acme's id exists."""
    beta_invoice = events.invoice_created(store, partner_id="beta", number="B-1", currency="USD",
                                          amount="5.00", issue_date=DAY)
    answer = events.payment_taken(store, partner_id="beta", payment_id="pay_1", invoice_id=beta_invoice,
                                  amount="5.00", currency="USD", paid_on=DAY)
    assert isinstance(answer, int)


# --- refunds taken back by a later payout -----------------------------------------------------------


def test_payout_takes_back_a_refund_once(store):
    events.payment_taken(store, partner_id="acme", payment_id="pay_2", invoice_id=1, amount="30.00",
                         currency="USD", paid_on=DAY)
    events.payout_sent(store, partner_id="acme", payout_id="po_1", currency="USD",
                       payment_ids=["pay_1"], fees="0", paid_out_on=DAY)
    events.payment_failed(store, partner_id="acme", payment_id="pay_1", status="refunded")
    answers = race(lambda k: events.payout_sent(
        store, partner_id="acme", payout_id=f"po_r{k % 2}", currency="USD", payment_ids=["pay_2"],
        refund_ids=["pay_1"], fees="0.50", paid_out_on=DAY))
    # Two payouts race for pay_2 and the refund: one wins, its replays answer alike.
    winners = Counter(accepted(answers))
    assert len(winners) == 1, answers
    with store.connect() as conn:
        (payout,) = conn.execute(sa.select(schema.payouts).where(schema.payouts.c.payout_id.like("po_r%"))).all()
        taken = conn.execute(sa.select(schema.payments.c.refund_payout_id)
                             .where(schema.payments.c.payment_id == "pay_1")).scalar_one()
    assert (payout.gross_minor, payout.fees_minor, payout.net_minor) == (2_000, 50, 1_950)
    assert taken == payout.payout_id
    with pytest.raises(EventRefused, match="already taken back"):
        events.payment_taken(store, partner_id="acme", payment_id="pay_3", invoice_id=1,
                             amount="5.00", currency="USD", paid_on=DAY)
        events.payout_sent(store, partner_id="acme", payout_id="po_3", currency="USD",
                           payment_ids=["pay_3"], refund_ids=["pay_1"], fees="0", paid_out_on=DAY)
