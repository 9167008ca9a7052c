"""Repairs on positive evidence only, and the manual-booking warning (issue 17, items 1, 4, 7).

Through the real client against the sandbox, as the reconciliation asset does it (World.reconcile:
the diff, push/repairs.second_look, the diff saved, diffs.enqueue_repairs). Time is the sandbox's
frozen clock; the settle bound of the world's client is S + B + L = S + 1100 s.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.push.world import PAID_ON, World, account_id, build_world
from tests.sandbox_fixtures import control
from xero_sync.core.money import from_minor
from xero_sync.store import schema
from xero_sync.push.settle import READ_LAG_SECONDS
from xero_sync.sync import reconcile
from xero_sync.sync.repair_rules import MANUAL_BOOKING_KIND

SETTLED = 1040 + READ_LAG_SECONDS


@pytest.fixture
def world(sandbox_factory, store_engine) -> World:
    return build_world(sandbox_factory(invoices=120), store_engine, payments_code="615")


def rows_of(world: World, subject: str) -> list[sa.Row]:
    return [r for r in world.outbox_rows() if r.subject_id == subject]


def one(diff, kind: str, subject: str):
    found = diff.loc[(diff["kind"] == kind) & (diff["subject_id"] == subject)]
    assert len(found) == 1, diff.to_dict("records")
    return found.iloc[0]


def live_receives(world: World, reference: str) -> list:
    return [t for t in world.org.bank_transactions.values()
            if t.reference == reference and t.type == "RECEIVE" and t.status not in ("DELETED", "VOIDED")]


def test_a_payment_a_listing_does_not_show_yet_is_in_flight_not_repaired(world: World) -> None:
    """`payment_missing_in_xero` for a payment Xero has but does not list yet (read lag; its
    write-through landing lost with a pusher that died): fetched by id it is not shown either,
    and it is younger than the settle bound — explained, never re-queued."""
    (pid,) = world.record_payments(1)
    world.fault(kind="read_lag", count=1, delay=600, method="PUT", path_prefix="/Payments")
    world.push_until_quiet()
    with world.engine.begin() as conn:  # the landing a killed pusher never made
        conn.execute(sa.delete(schema.xero_payments).where(schema.xero_payments.c.reference == pid))

    diff, repaired = world.reconcile()

    row = one(diff, "payment_missing_in_xero", pid)
    assert bool(row.explained) and row.action == "none: write in flight", row.to_dict()
    assert repaired == [] and len(rows_of(world, pid)) == 1
    world.advance(600)
    after, repaired = world.reconcile()
    assert repaired == [] and reconcile.unexplained(after).empty, after.to_dict("records")


def test_a_payment_shown_by_id_is_explained_as_a_listing_behind(world: World) -> None:
    (pid,) = world.record_payments(1)
    world.push_until_quiet()
    with world.engine.begin() as conn:
        conn.execute(sa.delete(schema.xero_payments).where(schema.xero_payments.c.reference == pid))
    from xero_sync.reconciliation import diffs
    from xero_sync.push import repairs
    from xero_sync.store import connections

    # The diff from the store alone (no pull): the listing lacks it; Xero, asked by id, has it.
    with world.engine.connect() as conn:
        diff = reconcile.diff(diffs.load_reconcile_input(conn, world.partner_id))
        connection = connections.get_connection(conn, world.partner_id)
    looked = repairs.second_look(world.engine, world.client(), connection, diff)
    row = one(looked.diff, "payment_missing_in_xero", pid)
    assert bool(row.explained) and "live in Xero (fetched by id)" in row.detail
    assert looked.proofs == {}


def test_ids_never_learned_are_repaired_only_after_a_look_up_past_the_settle_bound(world: World) -> None:
    paid = world.record_payments(2)
    world.push_until_quiet()
    (payout_id,) = world.record_payouts([paid], fees_minor=100)
    world.push_until_quiet()
    (receive,) = live_receives(world, payout_id)
    with world.engine.begin() as conn:  # an old row: done, Xero's ids never recorded
        conn.execute(sa.update(schema.outbox).where(schema.outbox.c.subject_id == payout_id)
                     .values(xero_ids={}))
    control(world.server, "DELETE", f"/tenants/{world.tenant_id}/bank-transactions/{receive.bank_transaction_id}")

    young, repaired = world.reconcile()
    row = one(young, "payout_not_recorded", payout_id)
    assert bool(row.explained) and "no id to fetch" in row.detail and repaired == []

    world.advance(SETTLED)
    old, repaired = world.reconcile()
    row = one(old, "payout_not_recorded", payout_id)
    assert repaired == [payout_id] and "nothing live has reference" in row.detail, row.to_dict()
    (_, repair) = rows_of(world, payout_id)
    assert repair.status == "pending" and "looked up after the settle bound" in repair.error
    world.push_until_quiet()
    assert len(live_receives(world, payout_id)) == 1


def test_a_write_not_shown_by_id_after_the_settle_bound_is_for_review(world: World) -> None:
    (pid,) = world.record_payments(1)
    world.push_until_quiet()
    (live,) = [p for p in world.org.payments.values() if p.reference == pid]
    unknown_id = "0b0b0b0b-0000-4000-8000-000000000000"
    with world.engine.begin() as conn:  # the id we hold is one Xero does not know
        conn.execute(sa.update(schema.outbox).where(schema.outbox.c.subject_id == pid)
                     .values(xero_ids={"PaymentID": unknown_id}))
        conn.execute(sa.update(schema.payments).where(schema.payments.c.payment_id == pid)
                     .values(xero_payment_id=unknown_id))
    control(world.server, "DELETE", f"/tenants/{world.tenant_id}/payments/{live.payment_id}")
    world.advance(SETTLED)

    diff, repaired = world.reconcile()

    row = one(diff, "payment_missing_in_xero", pid)
    assert row.action.startswith("review: not confirmed by id") and not bool(row.explained)
    assert repaired == [] and len(rows_of(world, pid)) == 1


def _manual_receive(world: World, amount_minor: int, on: dt.date, reference: str) -> str:
    answer = control(world.server, "POST", f"/tenants/{world.tenant_id}/bank-transactions", {
        "type": "RECEIVE", "bank_account_id": account_id(world.org, "090"),
        "contact_id": next(iter(world.org.contacts)), "date": on.isoformat(), "reference": reference,
        "lines": [{"Description": "payout", "AccountCode": "200",
                   "LineAmount": str(from_minor(amount_minor, world.org.currency))}]})
    return answer["BankTransactions"][0]["BankTransactionID"] if "BankTransactions" in answer \
        else answer["BankTransactionID"]


def test_item_7_a_manual_double_booking_is_a_warning_never_a_repair(world: World) -> None:
    paid = world.record_payments(2)
    world.push_until_quiet()
    (payout_id,) = world.record_payouts([paid], fees_minor=100)
    world.push_until_quiet()
    with world.engine.connect() as conn:
        net = conn.execute(sa.select(schema.payouts.c.net_minor)
                           .where(schema.payouts.c.payout_id == payout_id)).scalar_one()
    manual = _manual_receive(world, net, PAID_ON + dt.timedelta(days=2), "Alternative payout")
    _manual_receive(world, net, PAID_ON + dt.timedelta(days=12), "Alternative payout")  # too late
    _manual_receive(world, net + 1, PAID_ON, "Alternative payout")  # another amount

    diff, repaired = world.reconcile()

    row = one(diff, MANUAL_BOOKING_KIND, payout_id)
    assert bool(row.explained) and row.action.startswith("warning")
    assert f"possible manual booking of payout {payout_id}" in row.detail and manual in row.detail
    assert (int(row.platform_minor), int(row.xero_minor)) == (net, net)
    assert reconcile.unexplained(diff).empty and repaired == [], diff.to_dict("records")
    assert len(rows_of(world, payout_id)) == 1

    # Our own RECEIVE deleted beside it: gone, but a person may have booked it by hand — review.
    (ours,) = live_receives(world, payout_id)
    control(world.server, "DELETE", f"/tenants/{world.tenant_id}/bank-transactions/{ours.bank_transaction_id}")
    diff, repaired = world.reconcile()
    row = one(diff, "payout_not_recorded", payout_id)
    assert row.action == "review: gone, and a possible manual booking", row.action
    assert "outbox requeue" in row.detail
    assert repaired == [] and len(rows_of(world, payout_id)) == 1


def test_repairs_enqueued_from_many_threads_at_once_are_queued_once(world: World) -> None:
    """Two diffs of one partner finishing together (or an operator beside them): the unique
    `repairs_outbox_id` lets one repair in; the others insert nothing and fail nothing."""
    from concurrent.futures import ThreadPoolExecutor

    from xero_sync.store import connections, outbox
    from xero_sync.reconciliation import diffs
    from xero_sync.push import repairs

    (pid,) = world.record_payments(1)
    world.push_until_quiet()
    (live,) = [p for p in world.org.payments.values() if p.reference == pid]
    control(world.server, "DELETE", f"/tenants/{world.tenant_id}/payments/{live.payment_id}")
    diff = world.diff()
    with world.engine.connect() as conn:
        connection = connections.get_connection(conn, world.partner_id)
    looked = repairs.second_look(world.engine, world.client(), connection, diff)
    assert set(looked.proofs) == {pid}
    (original,) = rows_of(world, pid)

    def enqueue(n: int) -> list[str]:
        with world.engine.begin() as conn:
            if n % 2:
                made = outbox.requeue_repair(conn, original.outbox_id, note="beside")
                return [pid] if made is not None else []
            return diffs.enqueue_repairs(conn, world.partner_id, looked.diff, looked.proofs)

    with ThreadPoolExecutor(max_workers=8) as pool:
        made = list(pool.map(enqueue, range(16)))

    assert sum(len(m) for m in made) == 1, made
    assert [r.repairs_outbox_id for r in rows_of(world, pid)] == [None, original.outbox_id]
    world.push_until_quiet()
    assert sum(p.reference == pid and p.status != "DELETED" for p in world.org.payments.values()) == 1


def test_requeue_refuses_a_write_the_diff_did_not_mark_for_review(world: World, capsys) -> None:
    from xero_sync.commands.cli import main

    (pid,) = world.record_payments(1)
    world.push_until_quiet()
    world.reconcile()
    (row,) = rows_of(world, pid)
    url = world.engine.url.render_as_string(hide_password=False)
    assert main(["outbox", "--database-url", url, "requeue", str(row.outbox_id), "--note", "x"]) == 2
    assert "has no review row" in capsys.readouterr().err
    assert main(["outbox", "--database-url", url, "requeue", "999999", "--note", "x"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert len(rows_of(world, pid)) == 1
