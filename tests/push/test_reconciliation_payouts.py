"""reconciliation_diff checks payouts against Xero itself (a targeted pull by reference), not
against our outbox: a payout deleted in Xero or booked there with another amount shows up, on both
backends, for a non-BANK payments account (RECEIVE) and a BANK one (transfer)."""

from __future__ import annotations

import os
from decimal import Decimal

import dagster as dg
import pytest
import sqlalchemy as sa

from tests.push.world import PAID_ON, World, build_world
from tests.sandbox_fixtures import use_sandbox_settings
from xero_sync.assets.platform_records import platform_records
from xero_sync.assets.reconciliation import reconciliation_diff
from xero_sync.assets.xero_records import xero_records
from xero_sync.reconciliation.diffs import latest_diff
from xero_sync.resources.platform import PlatformResource
from xero_sync.resources.xero import XeroResource
from xero_sandbox.server import SandboxServer


def connected_world(server: SandboxServer, engine: sa.Engine, monkeypatch, tmp_path, **kwargs) -> World:
    """build_world with the environment the real XeroResource reads (sandbox, store, key)."""
    use_sandbox_settings(monkeypatch, server, store_url(engine), tmp_path / "home")
    return build_world(server, engine, cipher_key=os.environ["XERO_SYNC_ENCRYPTION_KEY"], **kwargs)


def store_url(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def resources(world: World) -> dict:
    """The resources of the code location: the real XeroResource, over HTTP to the sandbox."""
    url = store_url(world.engine)
    return {"platform": PlatformResource(database_url=url),
            "xero": XeroResource(database_url=url, sandbox_url=world.server.base_url)}


def materialize(world: World, instance: dg.DagsterInstance) -> dict:
    result = dg.materialize(
        [xero_records, platform_records, reconciliation_diff], selection=["reconciliation_diff"],
        partition_key=world.partner_id, instance=instance,
        resources=resources(world),
    )
    (mat,) = result.asset_materializations_for_node("reconciliation_diff")
    (check,) = result.get_asset_check_evaluations()
    return {"meta": {k: v.value for k, v in mat.metadata.items()}, "passed": check.passed}


def pushed_payout(world: World) -> tuple[str, int]:
    payments = world.record_payments(6, per_invoice=2)
    (payout_id,) = world.record_payouts([payments], fees_minor=250)
    world.push_until_quiet()
    world.pull()
    net = next(r for r in world.outbox_rows() if r.subject_id == payout_id).payload["net_minor"]
    return payout_id, net


def payout_rows(world: World):
    with world.engine.connect() as conn:
        diff = latest_diff(conn, world.partner_id)
    return diff.loc[diff["subject_type"] == "payout"]


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


def test_payout_deleted_in_xero_then_booked_with_another_amount(
    sandbox_factory, store_engine, instance, monkeypatch, tmp_path
) -> None:
    world = connected_world(sandbox_factory(invoices=60), store_engine, monkeypatch, tmp_path, payments_code="615")
    instance.add_dynamic_partitions("partners", [world.partner_id])
    payout_id, net = pushed_payout(world)

    clean = materialize(world, instance)
    assert clean["passed"] and clean["meta"]["dagster/row_count"] == 0
    # One look-up by reference and one Reports/TrialBalance.
    assert clean["meta"]["payouts_checked_in_xero"] == 1 and clean["meta"]["xero_calls"] == 2
    assert clean["meta"]["payments_account_checked"]

    (ours,) = [t for t in world.org.bank_transactions.values()
               if t.reference == payout_id and t.status == "AUTHORISED"]
    # Deleted in Xero and booked again by hand with another amount. (Deleted alone, the diff
    # re-queues the payout's write: test_diff_sees_money.)
    world.org.delete_bank_transaction(ours.bank_transaction_id)
    # Someone books the payout by hand with another amount (same reference, 1.00 short).
    world.org.create_bank_transaction(
        type="RECEIVE", bank_account_id=ours.bank_account_id, contact_id=ours.contact_id,
        date=PAID_ON, reference=payout_id,
        lines=[{"Description": "payout", "AccountCode": "615", "LineAmount": str(world.amount(net - 100))}])
    other = materialize(world, instance)
    # The payout no longer moves its gross out of the payments account: that shows too.
    assert not other["passed"] and other["meta"]["counts_by_kind"] == {
        "payout_amount_mismatch": 1, "payments_account_balance_mismatch": 1}
    row = payout_rows(world).iloc[0]
    assert (row.kind, row.platform_minor, row.xero_minor, row.explained) == (
        "payout_amount_mismatch", net, net - 100, False)


def test_fees_booked_as_a_separate_spend_still_match_the_net(
    sandbox_factory, store_engine, instance, monkeypatch, tmp_path
) -> None:
    world = connected_world(sandbox_factory(invoices=60), store_engine, monkeypatch, tmp_path, payments_code="615")
    instance.add_dynamic_partitions("partners", [world.partner_id])
    payout_id, net = pushed_payout(world)
    (ours,) = [t for t in world.org.bank_transactions.values() if t.reference == payout_id]
    world.org.delete_bank_transaction(ours.bank_transaction_id)
    # The separate-SPEND shape: a RECEIVE of the gross and a SPEND of the fees.
    common = dict(bank_account_id=ours.bank_account_id, contact_id=ours.contact_id, date=PAID_ON)
    world.org.create_bank_transaction(type="RECEIVE", reference=payout_id, **common, lines=[
        {"Description": "gross", "AccountCode": "615", "LineAmount": str(world.amount(net + 250))}])
    world.org.create_bank_transaction(type="SPEND", reference=f"{payout_id} fees", **common, lines=[
        {"Description": "fees", "AccountCode": "404", "LineAmount": str(world.amount(250))}])

    result = materialize(world, instance)

    assert result["passed"] and result["meta"]["dagster/row_count"] == 0


def test_bank_payments_account_payout_is_checked_by_its_transfer(
    sandbox_factory, store_engine, instance, monkeypatch, tmp_path
) -> None:
    world = connected_world(sandbox_factory(invoices=60, seed=11), store_engine, monkeypatch, tmp_path, payments_code="095")
    instance.add_dynamic_partitions("partners", [world.partner_id])
    payout_id, net = pushed_payout(world)
    (ours,) = [t for t in world.org.bank_transfers.values() if t.reference == payout_id]
    assert ours.amount == world.amount(net)

    clean = materialize(world, instance)
    assert clean["passed"] and clean["meta"]["dagster/row_count"] == 0
    assert clean["meta"]["xero_calls"] == 2

    # A second transfer with the payout's reference: the bank line no longer shows the net.
    world.org.create_bank_transfer(amount=Decimal("1.00"), date=PAID_ON, reference=payout_id,
                                   from_account_id=ours.from_account_id, to_account_id=ours.to_account_id)
    other = materialize(world, instance)
    assert not other["passed"]
    row = payout_rows(world).iloc[0]
    assert (row.kind, row.platform_minor, row.xero_minor) == ("payout_amount_mismatch", net, net + 100)
