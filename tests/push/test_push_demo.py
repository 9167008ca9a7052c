"""The demo's push step: recorded activity goes to Xero and the diff ends empty."""

from __future__ import annotations

import pytest

from tests.push.world import World, build_world
from xero_sync.push_demo import push_and_diff, record_demo_activity


@pytest.fixture
def world(sandbox_factory, store_engine) -> World:
    return build_world(sandbox_factory(invoices=80), store_engine, payments_code=None)


def test_demo_activity_is_pushed_and_the_diff_is_empty(world: World) -> None:
    ids = record_demo_activity(world.engine, world.partner_id)

    text = push_and_diff(world.engine, world.client(), world.partner_id)

    assert ids == ["demo_full", "demo_partial", "demo_alt", "demo_payout"]
    assert world.statuses() == {"done": 4}
    refs = world.xero_payments_by_reference()
    assert refs["demo_full"] == 1 and refs["demo_partial"] == 1
    assert world.xero_bank_transactions_by_reference()["demo_payout"] == 1
    assert "reconciliation diff: 0 differences, 0 unexplained" in text, text
    assert "demo_alt" in text and "BankTransactionID" in text
