"""reconciliation_diff asset and its check, the stored table, repairs a push can make, and the
`xero-sync diff` command, against the sandbox on both backends."""

from __future__ import annotations

import dagster as dg
import pytest
import sqlalchemy as sa

from tests.push.test_reconciliation_payouts import connected_world, resources
from tests.push.world import PAID_ON, World
from xero_sync.assets.platform_records import platform_records
from xero_sync.assets.reconciliation import reconciliation_diff
from xero_sync.assets.xero_records import xero_records
from xero_sync.commands.cli import main
from xero_sync.store.schema import outbox, payments


@pytest.fixture
def world(sandbox_factory, store_engine, monkeypatch, tmp_path) -> World:
    return connected_world(sandbox_factory(invoices=120), store_engine, monkeypatch, tmp_path, payments_code="615")


def _materialize(world: World, instance: dg.DagsterInstance) -> dg.ExecuteInJobResult:
    return dg.materialize(
        [xero_records, platform_records, reconciliation_diff], selection=["reconciliation_diff"],
        partition_key=world.partner_id, instance=instance, raise_on_error=False,
        resources=resources(world),
    )


def _check(result: dg.ExecuteInJobResult) -> dg.AssetCheckEvaluation:
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation


def test_diff_explains_in_flight_pushes_flags_orphans_and_enqueues_their_push(
    world: World, capsys, tmp_path
) -> None:
    pushed_later = world.record_payments(4)
    inv = world.open_invoices()[-1]
    with world.engine.begin() as conn:  # a payment recorded without its outbox row
        conn.execute(sa.insert(payments).values(
            payment_id="pay_orphan", partner_id=world.partner_id, invoice_id=inv.invoice_id,
            source="alternative", amount_minor=1000, fee_minor=0, currency=inv.currency,
            paid_on=PAID_ON, status="succeeded"))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("partners", [world.partner_id])

        first = _materialize(world, instance)

        (mat,) = first.asset_materializations_for_node("reconciliation_diff")
        meta = mat.metadata
        assert meta["counts_by_kind"].value == {"payment_missing_in_xero": 5}
        assert meta["unexplained"].value == 1 and meta["repairs_enqueued"].value == 1
        assert "pay_orphan" in meta["preview"].value
        assert not _check(first).passed
        with world.engine.connect() as conn:
            kinds = conn.execute(sa.select(outbox.c.kind).where(
                outbox.c.subject_id == "pay_orphan")).scalars().all()
        assert kinds == ["payment"]

        assert main(["diff", "--partner", world.partner_id, "--database-url",
                     world.engine.url.render_as_string(hide_password=False)]) == 0
        printed = capsys.readouterr().out
        assert "5 differences, 1 unexplained" in printed and "pay_orphan" in printed

        world.push_until_quiet()
        world.pull()
        second = _materialize(world, instance)

        assert _check(second).passed
        (mat,) = second.asset_materializations_for_node("reconciliation_diff")
        assert mat.metadata["dagster/row_count"].value == 0
        assert all(world.xero_payments_by_reference()[p] == 1 for p in [*pushed_later, "pay_orphan"])
        csv = tmp_path / "diff.csv"
        assert main(["diff", "--partner", world.partner_id, "--csv", str(csv), "--database-url",
                     world.engine.url.render_as_string(hide_password=False)]) == 0
        assert csv.read_text().startswith("kind,subject_type,subject_id")


def test_rejected_write_shows_in_the_diff_with_xeros_message(world: World) -> None:
    from xero_sync.store import outbox as outbox_repo
    from xero_sync.reconciliation.diffs import latest_diff

    inv = world.open_invoices()[0]
    with world.engine.begin() as conn:
        outbox_repo.record_payment(conn, payment_id="pay_over", partner_id=world.partner_id,
                                   invoice_id=inv.invoice_id, amount_minor=inv.outstanding_minor + 5000,
                                   fee_minor=0, currency=inv.currency, paid_on=PAID_ON)
    world.push_until_quiet()
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("partners", [world.partner_id])
        result = _materialize(world, instance)
    assert not _check(result).passed
    with world.engine.connect() as conn:
        diff = latest_diff(conn, world.partner_id)
    rejected = diff.loc[diff["kind"] == "rejected_write"]
    assert len(rejected) == 1 and "pay_over" in rejected["detail"].iloc[0], rejected.to_string()
    assert rejected["detail"].str.lower().str.contains("overpa|exceed").all()
