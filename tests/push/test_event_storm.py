"""After a storm of concurrent and replayed events (issue 18), the push writes each payment, deposit
and payout to Xero exactly once (counted in the sandbox) and the reconciliation diff is empty, on
SQLite and PostgreSQL: the events store only states that can exist, so nothing extra reaches Xero."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from tests.push.test_push_exactly_once import assert_exactly_once, assert_payouts_match
from tests.push.world import PAID_ON, World, build_world
from xero_sync.events import api as events
from xero_sync.store import schema
from xero_sync.events.checks import EventRefused

REPLAYS = 3


@pytest.fixture
def world(sandbox_factory, store_engine) -> World:
    return build_world(sandbox_factory(invoices=80), store_engine, payments_code="615")


def storm(calls: list[Callable[[], object]]) -> list[object]:
    """Every call at once (one thread each); answers or EventRefused."""
    barrier = threading.Barrier(len(calls))

    def one(call: Callable[[], object]) -> object:
        barrier.wait()
        try:
            return call()
        except EventRefused as exc:
            return exc

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(one, calls))


def recorded(world: World, table: sa.Table, column: str) -> list[str]:
    with world.engine.connect() as conn:
        return sorted(conn.execute(sa.select(table.c[column])
                                   .where(table.c.partner_id == world.partner_id)).scalars())


def test_a_storm_of_events_is_pushed_exactly_once(world: World):
    e, partner, cur = world.engine, world.partner_id, world.org.currency
    # 1. Alternative invoices, each reported 3 times at once: one invoice per number.
    numbers = [f"ALT-{n}" for n in range(4)]
    invoices = storm([lambda n=n: events.invoice_created(e, partner_id=partner, number=n, currency=cur,
                                                          amount="60.00", issue_date=PAID_ON)
                      for n in numbers for _ in range(REPLAYS)])
    assert len(set(invoices)) == len(numbers), invoices
    # 2. Payments: on 6 open Xero invoices two halves, each reported 3 times, racing a payment of
    #    the whole amount due; deposits paying the Alternative invoices in two parts, replayed.
    calls = []
    for inv in world.open_invoices()[:6]:
        half = world.amount(inv.outstanding_minor // 2)
        for k in range(2):
            calls += [lambda inv=inv, k=k, half=half: events.payment_taken(
                e, partner_id=partner, payment_id=f"pay_{inv.invoice_id}_{k}", invoice_id=inv.invoice_id,
                amount=half, currency=inv.currency, paid_on=PAID_ON)] * REPLAYS
        calls.append(lambda inv=inv: events.payment_taken(
            e, partner_id=partner, payment_id=f"pay_{inv.invoice_id}_all", invoice_id=inv.invoice_id,
            amount=world.amount(inv.outstanding_minor), currency=inv.currency, paid_on=PAID_ON))
    for n, invoice_id in enumerate(sorted(set(invoices))):
        for part in ("a", "b", "c"):  # three of 30.00 on 60.00: two fit
            calls += [lambda invoice_id=invoice_id, pid=f"dep_{n}{part}": events.payment_taken(
                e, partner_id=partner, payment_id=pid, invoice_id=invoice_id, amount="30.00",
                currency=cur, paid_on=PAID_ON)] * REPLAYS
    storm(calls)
    payments = recorded(world, schema.payments, "payment_id")
    world.payment_ids = [p for p in payments if p.startswith("pay_")]
    world.deposit_ids = [p for p in payments if p.startswith("dep_")]
    assert len(world.deposit_ids) == 2 * len(numbers)
    # 3. Payouts of disjoint groups, each reported 3 times, racing "thief" payouts (other ids)
    #    that name the same payments: each payment ends up in one payout at most.
    ours = world.payment_ids + world.deposit_ids
    groups = [ours[k::3] for k in range(3)]
    calls = []
    for n, group in enumerate(groups):
        calls += [lambda n=n, group=group: events.payout_sent(
            e, partner_id=partner, payout_id=f"po_{n}", currency=cur, payment_ids=group, fees="1.00",
            paid_out_on=PAID_ON)] * REPLAYS
        calls.append(lambda n=n, group=group: events.payout_sent(
            e, partner_id=partner, payout_id=f"po_thief_{n}", currency=cur, payment_ids=group[:2],
            fees="0", paid_out_on=PAID_ON))
    storm(calls)
    world.payout_ids = recorded(world, schema.payouts, "payout_id")
    assert world.payout_ids
    with e.connect() as conn:
        per_payout = dict(conn.execute(
            sa.select(schema.payments.c.payout_id, sa.func.count()).where(
                schema.payments.c.partner_id == partner, schema.payments.c.payout_id.is_not(None))
            .group_by(schema.payments.c.payout_id)).all())
    assert set(per_payout) == set(world.payout_ids)  # no payout without its payments
    counts = {kind: sum(1 for r in world.outbox_rows() if r.kind == kind) for kind in ("payment", "deposit", "payout")}
    assert counts == {"payment": len(world.payment_ids), "deposit": len(world.deposit_ids),
                      "payout": len(world.payout_ids)}

    world.push_until_quiet()
    assert_exactly_once(world)
    assert_payouts_match(world, bank=False)
    payouts_in_xero = world.xero_bank_transactions_by_reference()
    assert {p: payouts_in_xero[p] for p in world.payout_ids} == {p: 1 for p in world.payout_ids}
    diff = world.diff()
    assert diff.empty, diff.to_string()
