"""Exactly once when time is against us (issue 9): a write's key never changes, unknown outcomes
are looked up before any re-send (issue 17), re-sent with their key while Xero may replay it,
sent anew only once the original settled, and an ambiguous refusal is never a verdict. Time is the sandbox's clock (frozen; moved by the tests).

Bounds for the world's client (timeouts (5, 60) s): B = longest write call = 1040 s, W = key
window 330 s, L = read lag 60 s; a row last sent at S is looked up from S + B + L = S + 1100 s.
"""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa

from tests.push.world import PAID_ON, World, build_world
from xero_sync.store import outbox, schema
from xero_sync.store.schema import outbox as outbox_table
from xero_sync.push.engine import push_partner
from xero_sync.push.settle import KEY_WINDOW_SECONDS, READ_LAG_SECONDS

LOOK_UP_AFTER = 1040 + READ_LAG_SECONDS


@pytest.fixture
def world(sandbox_factory, store_engine) -> World:
    return build_world(sandbox_factory(invoices=120), store_engine, payments_code="615")


def all_payments_by_reference(world: World) -> Counter:
    """Every payment Xero ever created, deleted ones included (a duplicate deleted later still
    was a duplicate)."""
    return Counter(p.reference for p in world.org.payments.values())


def payment_puts(world: World) -> list[dict]:
    return [e for e in world.server.sandbox.requests.entries(world.tenant_id)
            if e["method"] == "PUT" and e["path"].endswith("/Payments")]


def push(world: World):
    return push_partner(world.engine, world.client(), world.partner_id)


def assert_each_once(world: World, payment_ids: list[str]) -> None:
    every = all_payments_by_reference(world)
    assert {p: every[p] for p in payment_ids} == {p: 1 for p in payment_ids}, every
    rows = {r.subject_id: r for r in world.outbox_rows() if r.kind == "payment"}
    live = {p.reference: p.payment_id for p in world.org.payments.values() if p.status != "DELETED"}
    for pid in payment_ids:
        assert rows[pid].status == "done" and rows[pid].xero_ids == {"PaymentID": live[pid]}


def test_finding_1_new_payment_between_a_lost_push_and_its_retry_writes_nothing_twice(world: World) -> None:
    first = world.record_payments(2, prefix="pay_a")
    # Xero takes A's batch, loses the answer, and applies it 100 s later.
    world.fault(kind="applied_late", delay=100, count=1, method="PUT", path_prefix="/Payments")
    a = push(world)
    assert a.unknown == 2 and world.statuses() == {"unknown": 2}
    keys = {r.request_key for r in world.outbox_rows()}
    assert len(keys) == 1

    later = world.record_payments(1, prefix="pay_b")  # a new payment arrives
    b = push(world)

    # A's rows wait (a look-up this soon could miss them; issue 17), never merged into a new
    # batch with the new payment, which goes out alone.
    assert b.written == 1 and b.waiting == 2, b
    assert [e["applied_status"] for e in payment_puts(world)][-1:] == [200]
    assert {r.request_key for r in world.outbox_rows() if r.subject_id in first} == keys
    assert payment_puts(world)[-1]["idempotency_key"] not in keys

    world.advance(100)  # A's request lands now
    reports = world.push_until_quiet()

    assert sum(r.found + r.replayed for r in reports) == 2  # looked up before any re-send
    assert_each_once(world, first + later)
    diff = world.diff()
    assert diff.empty, diff.to_string()


def _full_payment(world: World, pid: str) -> None:
    inv = world.open_invoices()[0]
    with world.engine.begin() as conn:
        outbox.record_payment(conn, payment_id=pid, partner_id=world.partner_id,
                              invoice_id=inv.invoice_id, amount_minor=inv.outstanding_minor,
                              fee_minor=0, currency=inv.currency, paid_on=PAID_ON)
    world.payment_ids.append(pid)


def test_finding_2_overpayment_refusal_after_an_unknown_outcome_is_looked_up_not_rejected(world: World) -> None:
    _full_payment(world, "pay_full")
    # Applied, answer lost, and invisible to GET for longer than the read lag we allow for.
    world.fault(kind="lost_response", count=1, method="PUT", path_prefix="/Payments")
    world.fault(kind="read_lag", count=1, delay=2000, method="PUT", path_prefix="/Payments")
    push(world)
    assert world.statuses() == {"unknown": 1}

    world.advance(LOOK_UP_AFTER)  # the key is forgotten; the look-up cannot see the payment yet
    b = push(world)

    row = world.outbox_rows()[0]
    assert b.rejected == 0 and row.status == "unknown", (b, row.error)
    assert "looked up again" in row.error and "amount outstanding" in row.error.lower()

    with world.engine.begin() as conn:  # the payment is refunded: its write must be undone
        assert outbox.record_payment_failure(conn, "pay_full", "refunded") is not None
    world.push_until_quiet()

    every = all_payments_by_reference(world)
    assert every["pay_full"] == 1
    assert [p.status for p in world.org.payments.values() if p.reference == "pay_full"] == ["DELETED"]
    assert world.statuses() == {"done": 2}
    diff = world.diff()
    assert diff.empty, diff.to_string()


def test_refund_of_a_write_rejected_after_it_was_once_unknown_looks_xero_up(world: World) -> None:
    _full_payment(world, "pay_r")
    world.fault(kind="lost_response", count=1, method="PUT", path_prefix="/Payments")
    push(world)
    # Someone marks it rejected by hand (an old verdict): the refund still looks Xero up.
    with world.engine.begin() as conn:
        conn.execute(sa.update(outbox_table).values(status="rejected", error="old verdict"))
        assert outbox.record_payment_failure(conn, "pay_r", "refunded") is not None
    world.push_until_quiet()
    assert [p.status for p in world.org.payments.values() if p.reference == "pay_r"] == ["DELETED"]


@pytest.mark.parametrize("after, expect", [
    (READ_LAG_SECONDS - 1, "waits"),  # a look-up could still miss it: nothing is sent
    (KEY_WINDOW_SECONDS - 1, "found"),  # inside the key window: looked up before any re-send
    (KEY_WINDOW_SECONDS + 1, "waits"),  # key may be forgotten, original may be in flight: no call
    (LOOK_UP_AFTER - 1, "waits"),
    (LOOK_UP_AFTER, "found"),  # the original settled and is visible: looked up by reference
])
def test_both_sides_of_each_timing_bound(world: World, after: float, expect: str) -> None:
    paid = world.record_payments(3)
    world.fault(kind="lost_response", count=1, method="PUT", path_prefix="/Payments")
    push(world)
    puts = len(payment_puts(world))

    world.advance(after)
    report = push(world)

    if expect == "waits":
        assert report.calls == 0 and report.waiting == 3, report
        assert world.statuses() == {"unknown": 3}
        assert "waiting until" in world.outbox_rows()[0].error
    else:
        assert report.found == 3 and len(payment_puts(world)) == puts, report
    world.push_until_quiet()
    assert_each_once(world, paid)


def test_read_after_write_lag_during_look_ups(world: World) -> None:
    """The original lands late (1000 s) and is invisible for 50 s more: a look-up at S + B
    would miss it; at S + B + L it is seen, and nothing is written twice."""
    paid = world.record_payments(2)
    world.fault(kind="applied_late", delay=1000, count=1, method="PUT", path_prefix="/Payments")
    world.fault(kind="read_lag", delay=50, count=1, method="PUT", path_prefix="/Payments")
    push(world)
    world.advance(1040)  # landed at 1000, hidden until 1050: a look-up now would miss it
    assert all_payments_by_reference(world)[paid[0]] == 1
    early = push(world)
    assert early.calls == 0 and early.waiting == 2
    world.advance(READ_LAG_SECONDS)
    settled = push(world)
    assert settled.found == 2 and settled.payments_sent == 0, settled
    assert_each_once(world, paid)
    diff = world.diff()
    assert diff.empty, diff.to_string()


def test_finding_4_a_row_with_a_bad_reference_is_marked_and_the_rest_go_on(world: World) -> None:
    inv = world.open_invoices()[0]
    with world.engine.connect() as conn:
        xero_invoice_id = conn.execute(sa.select(schema.invoices.c.xero_invoice_id).where(
            schema.invoices.c.invoice_id == inv.invoice_id)).scalar_one()
    with world.engine.begin() as conn:  # recorded before ids were validated at the edge
        conn.execute(sa.insert(outbox_table).values(
            partner_id=world.partner_id, kind="payment", subject_id='bad"id',
            idempotency_key='xs-acme-payment-bad"id', reference='bad"id', status="unknown",
            ever_unknown=True,
            payload={"payment_id": 'bad"id', "invoice_id": inv.invoice_id,
                     "xero_invoice_id": xero_invoice_id, "amount_minor": 100, "fee_minor": 0,
                     "currency": inv.currency, "date": PAID_ON.isoformat()}))
    good = world.record_payments(3)

    world.push_until_quiet()

    rows = {r.subject_id: r for r in world.outbox_rows()}
    assert rows['bad"id'].status == "rejected" and "quote" in rows['bad"id'].error
    assert_each_once(world, good)
