"""Write-through landing (issue 8 finding 4): what Xero answers for a successful write is landed
at once, so the reconciliation diff is right straight after a push, with no pull in between."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.push.world import World, build_world
from xero_sync.reconciliation import diffs
from xero_sync.store import outbox
from xero_sync.store.schema import invoices, xero_invoices, xero_payments
from xero_sync.push.engine import push_partner
from xero_sync.sync import reconcile


@pytest.fixture
def world(sandbox_factory, store_engine) -> World:
    return build_world(sandbox_factory(invoices=120), store_engine, payments_code="615")


def _diff_without_pull(world: World):
    with world.engine.connect() as conn:
        return reconcile.diff(diffs.load_reconcile_input(conn, world.partner_id, {}))


def test_pushed_payments_and_their_invoices_are_landed_so_the_diff_is_empty_at_once(world: World) -> None:
    paid = world.record_payments(4, per_invoice=2)
    before = _diff_without_pull(world)
    assert set(before["kind"]) == {"payment_missing_in_xero"}  # in flight, until Xero has them

    report = push_partner(world.engine, world.client(), world.partner_id)

    assert report.written == 4 and report.landed >= 4, report
    with world.engine.connect() as conn:
        landed = {r.reference: r for r in conn.execute(sa.select(xero_payments).where(
            xero_payments.c.reference.in_(paid)))}
        assert set(landed) == set(paid)
        # The invoices' new AmountDue, as Xero now has it, is in the landing table and the view.
        for inv_row in conn.execute(sa.select(invoices.c.xero_invoice_id, invoices.c.outstanding_minor)
                                    .where(invoices.c.xero_invoice_id.in_(
                                        [r.invoice_id for r in landed.values()]))):
            xero_inv = world.org.invoices[inv_row.xero_invoice_id]
            assert inv_row.outstanding_minor == int(xero_inv.amount_due * 100)
            assert conn.execute(sa.select(xero_invoices.c.amount_due_minor).where(
                xero_invoices.c.invoice_id == inv_row.xero_invoice_id)).scalar_one() == \
                int(xero_inv.amount_due * 100)
    after = _diff_without_pull(world)
    assert after.empty, after.to_string()


def test_a_deleted_payment_is_landed_as_deleted(world: World) -> None:
    [pid] = world.record_payments(1)
    push_partner(world.engine, world.client(), world.partner_id)
    with world.engine.begin() as conn:
        outbox.record_payment_failure(conn, pid, "refunded")
    push_partner(world.engine, world.client(), world.partner_id)
    with world.engine.connect() as conn:
        status = conn.execute(sa.select(xero_payments.c.status)
                              .where(xero_payments.c.reference == pid)).scalar_one()
    assert status == "DELETED"
    after = _diff_without_pull(world)
    assert after.empty, after.to_string()
