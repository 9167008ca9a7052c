"""The main job's push half through Dagster: outbox sensor -> push runs -> incremental re-read ->
reconciliation_diff, ending with Alternative's activity in Xero exactly once and an empty diff."""

from __future__ import annotations

import sqlalchemy as sa

from xero_sync.demo.main import drive_headless, drive_push_headless
from xero_sync.platform.schema import outbox
from xero_sync.demo.activity import written_summary


def test_demo_activity_is_pushed_through_dagster_and_the_diff_is_empty(world):
    assert drive_headless(world.instance, world.defs, world.engine, world.partner_id) == []

    outcome = drive_push_headless(world.instance, world.defs, world.engine, world.partner_id)

    assert outcome.success
    mat = outcome.get_asset_materialization_events()[0].step_materialization_data.materialization
    assert mat.metadata["dagster/row_count"].value == 0
    assert mat.metadata["unexplained"].value == 0
    # demo_payout was looked up in Xero itself (targeted pull), in one call.
    assert mat.metadata["payouts_checked_in_xero"].value == 1 and mat.metadata["xero_calls"].value == 1
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
    assert len(written_summary(world.engine, world.partner_id)) == 4
