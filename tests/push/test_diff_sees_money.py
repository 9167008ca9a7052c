"""Issue 8, finding 2: the diff reads Xero's balances, so a mis-booked payout turns it red.

The payout of finding 1 (a 250.00 stand-alone deposit + 100.00 on a Xero invoice, fees 2.00, net
348.00) booked correctly gives an empty diff because the money is right (the payments account's
balance in Xero equals what was received and not paid out, the deposit account moved by the net);
booked the old way (its RECEIVE also carrying the 250.00 already deposited) or with an extra
RECEIVE written behind our back through the sandbox's control API, the diff names the payout.
Through the reconciliation_diff asset and its check, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dagster as dg
import pytest

from tests.push.test_payout_money import Books
from tests.push.test_reconciliation_payouts import connected_world, materialize, payout_rows
from tests.push.world import PAID_ON, World, build_world
from tests.sandbox_fixtures import control
from xero_sync.store import outbox


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


def _finding_one(world: World) -> str:
    books = Books(world, "615")
    books.payout([books.deposit(25_000), books.pay(10_000)], 200)
    books.push()
    return "po_m3"


def _account_row(world: World):
    from xero_sync.reconciliation.diffs import latest_diff

    with world.engine.connect() as conn:
        diff = latest_diff(conn, world.partner_id)
    return diff.loc[diff["kind"] == "payments_account_balance_mismatch"]


@pytest.mark.parametrize("payments_code", ["615", "095"])
def test_correct_booking_gives_an_empty_diff_because_the_money_is_right(
    sandbox_factory, store_engine, instance, payments_code, monkeypatch, tmp_path
) -> None:
    world = connected_world(sandbox_factory(invoices=60, seed=8), store_engine, monkeypatch, tmp_path,
                            payments_code=payments_code)
    instance.add_dynamic_partitions("partners", [world.partner_id])
    books = Books(world, payments_code)
    books.payout([books.deposit(25_000), books.pay(10_000)], 200)
    books.pay(777)  # received, not paid out: it stays in the payments account
    books.push()
    world.pull()

    result = materialize(world, instance)

    assert result["passed"] and result["meta"]["dagster/row_count"] == 0
    assert result["meta"]["payments_account_checked"] is True


def test_old_double_booking_turns_the_diff_red_naming_the_payout(
    sandbox_factory, store_engine, instance, monkeypatch, tmp_path
) -> None:
    world = connected_world(sandbox_factory(invoices=60, seed=8), store_engine, monkeypatch, tmp_path,
                            payments_code="615")
    instance.add_dynamic_partitions("partners", [world.partner_id])
    payout_id = _finding_one(world)
    world.pull()
    assert materialize(world, instance)["passed"]

    # What the push used to write (finding 1): the payout RECEIVE with the gross of every
    # payment (350.00 coded to the payments account, -2.00 fees): 250.00 more than it should.
    (ours,) = [t for t in world.org.bank_transactions.values()
               if t.reference == payout_id and t.status == "AUTHORISED"]
    control(world.server, "DELETE", f"/tenants/{world.tenant_id}/bank-transactions/{ours.bank_transaction_id}")
    control(world.server, "POST", f"/tenants/{world.tenant_id}/bank-transactions", {
        "type": "RECEIVE", "bank_account_id": ours.bank_account_id, "contact_id": ours.contact_id,
        "date": PAID_ON.isoformat(), "reference": payout_id,
        "lines": [{"Description": "Payout", "AccountCode": "615", "LineAmount": "350.00"},
                  {"Description": "Fees", "AccountCode": "404", "LineAmount": "-2.00"}]})

    red = materialize(world, instance)

    assert not red["passed"]
    row = payout_rows(world).iloc[0]
    assert (row.kind, row.subject_id, row.platform_minor, row.xero_minor, row.explained) == (
        "payout_amount_mismatch", payout_id, 34_800, 59_800, False)
    assert "dep_m1" in row.detail
    (account,) = _account_row(world).itertuples()
    # The payments account went 250.00 below what was received and not paid out.
    assert (account.xero_minor - account.platform_minor, account.explained) == (-25_000, False)


def test_an_extra_receive_with_the_payouts_reference_turns_the_diff_red(
    sandbox_factory, store_engine, instance, monkeypatch, tmp_path
) -> None:
    world = connected_world(sandbox_factory(invoices=60, seed=8), store_engine, monkeypatch, tmp_path,
                            payments_code="615")
    instance.add_dynamic_partitions("partners", [world.partner_id])
    payout_id = _finding_one(world)
    (ours,) = [t for t in world.org.bank_transactions.values() if t.reference == payout_id]
    control(world.server, "POST", f"/tenants/{world.tenant_id}/bank-transactions", {
        "type": "RECEIVE", "bank_account_id": ours.bank_account_id, "contact_id": ours.contact_id,
        "date": PAID_ON.isoformat(), "reference": payout_id,
        "lines": [{"Description": "again", "AccountCode": "615", "LineAmount": "250.00"}]})
    world.pull()

    red = materialize(world, instance)

    assert not red["passed"]
    row = payout_rows(world).iloc[0]
    assert (row.kind, row.subject_id, row.xero_minor - row.platform_minor) == (
        "payout_amount_mismatch", payout_id, 25_000)


def test_mis_booked_payout_of_a_bank_payments_account_is_seen(
    sandbox_factory, store_engine, instance, monkeypatch, tmp_path
) -> None:
    """Old composition on a BANK payments account (the deposit booked into the deposit account
    and transferred again) shows as a payments-account balance the transfer emptied too much."""
    world = connected_world(sandbox_factory(invoices=60, seed=8), store_engine, monkeypatch, tmp_path,
                            payments_code="095")
    instance.add_dynamic_partitions("partners", [world.partner_id])
    payout_id = _finding_one(world)
    world.pull()
    (ours,) = [t for t in world.org.bank_transfers.values() if t.reference == payout_id]
    world.org.create_bank_transfer(amount=world.amount(5_000), date=PAID_ON, reference=payout_id,
                                   from_account_id=ours.from_account_id, to_account_id=ours.to_account_id)

    red = materialize(world, instance)

    assert not red["passed"]
    row = payout_rows(world).iloc[0]
    assert (row.kind, row.subject_id, row.platform_minor, row.xero_minor) == (
        "payout_amount_mismatch", payout_id, 34_800, 39_800)
    (account,) = _account_row(world).itertuples()
    assert account.xero_minor - account.platform_minor == -5_000


def test_pending_payout_rows_keep_the_outbox_word(sandbox_factory, store_engine) -> None:
    """A payout recorded but not pushed is explained (in flight), never a money error."""
    world = build_world(sandbox_factory(invoices=40, seed=8), store_engine, payments_code="615")
    books = Books(world, "615")
    books.payout([books.deposit(25_000), books.pay(10_000)], 200)
    diff = world.diff()
    money = diff.loc[diff["subject_type"].isin(["payout", "account"])]
    assert list(money["kind"]) == ["payout_not_recorded"] and money["explained"].all()
    with world.engine.connect() as conn:
        assert outbox.pending(conn, partner_id=world.partner_id)


def test_a_payout_deleted_in_xero_is_re_pushed_by_the_diff(
    sandbox_factory, store_engine, instance, monkeypatch, tmp_path
) -> None:
    world = connected_world(sandbox_factory(invoices=60, seed=8), store_engine, monkeypatch, tmp_path,
                            payments_code="615")
    instance.add_dynamic_partitions("partners", [world.partner_id])
    payout_id = _finding_one(world)
    (ours,) = [t for t in world.org.bank_transactions.values() if t.reference == payout_id]
    control(world.server, "DELETE", f"/tenants/{world.tenant_id}/bank-transactions/{ours.bank_transaction_id}")
    world.pull()

    red = materialize(world, instance)
    again = materialize(world, instance)  # queues once

    assert not red["passed"] and red["meta"]["repairs_enqueued"] == 1
    assert again["meta"]["repairs_enqueued"] == 0
    old, repair = [r for r in world.outbox_rows() if r.subject_id == payout_id]
    assert (repair.status, repair.repairs_outbox_id) == ("pending", old.outbox_id)
    world.push_until_quiet()
    world.pull()
    assert materialize(world, instance)["passed"]
