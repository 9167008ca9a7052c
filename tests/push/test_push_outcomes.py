"""Push outcomes that are not plain success: accounts not set up, Xero refusing a write, a
payment failed after it was written, and the batch idempotency key."""

from __future__ import annotations


import pytest
import sqlalchemy as sa

from tests.push.world import PAID_ON, World, build_world, set_accounts
from xero_sync.store import outbox
from xero_sync.store.schema import payments
from xero_sync.push.engine import batch_key, push_partner
from xero_sync.core.errors import XeroUnavailable


@pytest.fixture
def world(sandbox_factory, store_engine) -> World:
    return build_world(sandbox_factory(invoices=150), store_engine, payments_code=None)


def test_without_accounts_rows_wait_visibly_and_go_out_once_accounts_are_set(world: World) -> None:
    world.record_payments(5)
    world.record_deposits(1)

    report = push_partner(world.engine, world.client(), world.partner_id)

    assert report.waiting == 6 and report.rejected == 0 and report.calls == 0
    assert world.statuses() == {"waiting_accounts": 6}
    assert all(r.error for r in world.outbox_rows())  # the reason is shown, not a failure
    assert world.xero_payments_by_reference().keys().isdisjoint(world.payment_ids)

    set_accounts(world, "615")  # releases the waiting rows
    world.push_until_quiet()

    assert world.statuses() == {"done": 6}
    assert all(world.xero_payments_by_reference()[p] == 1 for p in world.payment_ids)


def test_overpayment_is_rejected_with_xeros_message_and_not_retried(world: World) -> None:
    set_accounts(world, "615")
    good = world.record_payments(3)
    inv = world.open_invoices()[-1]
    with world.engine.begin() as conn:
        outbox.record_payment(conn, payment_id="pay_over", partner_id=world.partner_id,
                              invoice_id=inv.invoice_id, amount_minor=inv.outstanding_minor + 10_000,
                              fee_minor=0, currency=inv.currency, paid_on=PAID_ON)

    report = push_partner(world.engine, world.client(), world.partner_id)

    assert report.rejected == 1 and report.written == 3
    rejected = next(r for r in world.outbox_rows() if r.subject_id == "pay_over")
    assert rejected.status == "rejected"
    assert "overpa" in rejected.error.lower() or "exceed" in rejected.error.lower(), rejected.error
    assert "pay_over" not in world.xero_payments_by_reference()
    again = push_partner(world.engine, world.client(), world.partner_id)
    assert again.claimed == 0 and again.calls == 0  # never retried blindly
    assert all(world.xero_payments_by_reference()[p] == 1 for p in good)


def test_payment_failed_after_it_was_written_is_deleted_in_xero(world: World) -> None:
    set_accounts(world, "615")
    pid = world.record_payments(1)[0]
    world.push_until_quiet()
    with world.engine.connect() as conn:
        xero_id = conn.execute(sa.select(payments.c.xero_payment_id)
                               .where(payments.c.payment_id == pid)).scalar_one()
    assert world.org.payments[xero_id].status == "AUTHORISED"

    with world.engine.begin() as conn:
        outbox.record_payment_failure(conn, pid, "refunded")
    world.fault(kind="lost_response", count=1, method="POST")  # the delete's answer is lost
    world.push_until_quiet()

    assert world.org.payments[xero_id].status == "DELETED"
    assert world.statuses() == {"done": 2}


def test_batch_key_is_deterministic_bounded_and_depends_on_every_row() -> None:
    keys = [f"xs-acme-payment-pay_{n:06d}" for n in range(50)]
    key = batch_key("acme", keys)
    assert key == batch_key("acme", list(keys)) and len(key) <= 128
    assert key != batch_key("acme", keys[:-1] + ["xs-acme-payment-other"])
    assert len(batch_key("p" * 64, keys)) <= 128


def test_xero_down_mid_push_leaves_rows_unknown_and_the_retry_writes_each_once(world: World) -> None:
    set_accounts(world, "615")
    paid = world.record_payments(60)
    world.record_deposits(2)
    # GET /Accounts (needed for the deposits) answers 503 past the client's bounded retries:
    # the push stops, and what it claimed is released (never sent: pending again, not left in
    # `sending`). In the retries, one PUT /Payments batch fails the same way: its rows become
    # unknown and are re-sent with their key.
    world.fault(kind="unavailable", count=4, method="PUT", path_prefix="/Payments")
    world.fault(kind="unavailable", count=4, method="GET", path_prefix="/Accounts")
    with pytest.raises(XeroUnavailable):
        push_partner(world.engine, world.client(), world.partner_id)
    statuses = world.statuses()
    assert statuses["sending"] == 0 and statuses["pending"] == 62, statuses

    world.push_until_quiet()

    assert all(world.xero_payments_by_reference()[p] == 1 for p in paid)
    assert world.statuses() == {"done": 62}
