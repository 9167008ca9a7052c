"""The main job's push half through Dagster: outbox sensor -> push runs -> incremental re-read ->
reconciliation_diff, ending with Alternative's activity in Xero exactly once and an empty diff."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from xero_sync.demo.activity import DEMO_FEE_MINOR, written_summary
from xero_sync.demo.main import drive_headless, drive_push_headless
from xero_sync.store.schema import outbox, payments


def test_demo_activity_is_pushed_through_dagster_and_the_diff_is_empty(world):
    assert drive_headless(world.instance, world.defs, world.engine, world.partner_id) == []

    outcome = drive_push_headless(world.instance, world.defs, world.engine, world.partner_id)

    assert outcome.success
    mat = outcome.get_asset_materialization_events()[0].step_materialization_data.materialization
    assert mat.metadata["dagster/row_count"].value == 0
    assert mat.metadata["unexplained"].value == 0
    # demo_payout was looked up in Xero itself (targeted pull, one call) and the payments
    # account's balance read (one Reports/TrialBalance call): the diff is empty because the
    # money is right, not because nothing looked.
    assert mat.metadata["payouts_checked_in_xero"].value == 1 and mat.metadata["xero_calls"].value == 2
    assert mat.metadata["payments_account_checked"].value is True
    checks = outcome.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks)
    with world.engine.begin() as conn:
        statuses = conn.execute(sa.select(outbox.c.subject_id, outbox.c.status)).all()
    assert dict(statuses) == {"demo_full": "done", "demo_partial": "done", "demo_alt": "done", "demo_payout": "done"}
    org = world.org
    by_reference = [p.reference for p in org.payments.values() if p.status == "AUTHORISED"]
    assert by_reference.count("demo_full") == 1 and by_reference.count("demo_partial") == 1
    deposits = [t.reference for t in org.bank_transactions.values() if t.status == "AUTHORISED"]
    assert sum("demo_alt" in r for r in deposits) == 1 and deposits.count("demo_payout") == 1
    # SPEC section 4: the payout moves only demo_full + demo_partial out of the payments account;
    # demo_alt's 250.00 went into the deposit account as its stand-alone deposit (finding 1).
    with world.engine.connect() as conn:
        moved = sum(conn.execute(sa.select(payments.c.amount_minor).where(
            payments.c.payment_id.in_(["demo_full", "demo_partial"]))).scalars())
    (receive,) = [t for t in org.bank_transactions.values()
                  if t.reference == "demo_payout" and t.status == "AUTHORISED"]
    assert [li.line_amount for li in receive.line_items] == [
        Decimal(moved) / 100,
        -Decimal(DEMO_FEE_MINOR) / 100]
    assert len(written_summary(world.engine, world.partner_id)) == 4
