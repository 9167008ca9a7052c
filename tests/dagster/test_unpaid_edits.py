"""SPEC section 2, three-way rule for unpaid-invoice edits, through real Dagster runs against the
sandbox: the daily re-read (the schedule's own cohort run request, executed) keeps an edit made in
Alternative, brings an edit made in Xero, and when both changed takes Xero's value and lists the
conflict in the reconciliation diff."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import dagster as dg
import pytest
import sqlalchemy as sa

from tests.dagster.conftest import World, make_world
from tests.sandbox_fixtures import control
from xero_sync.assets.platform_records import platform_records
from xero_sync.assets.reconciliation import reconciliation_diff
from xero_sync.assets.xero_records import xero_records
from xero_sync.demo.main import drive_headless
from xero_sync.events import api as events
from xero_sync.store import schema
from xero_sync.reconciliation.diffs import latest_diff
from xero_sync.schedules.sync import daily_reread_schedule
from xero_sync.sync.month_slices import add_months, month_start


@pytest.fixture
def world(sandbox_factory, db_url, tmp_path, monkeypatch) -> Iterator[World]:
    server = sandbox_factory(seed=11, invoices=120, months=3, minute_limit=100_000)
    yield from make_world(server, db_url, tmp_path, monkeypatch)


def daily_reread(world: World) -> None:
    """The daily re-read schedule's cohort run for the partner, run as the schedule would."""
    now = world.server.sandbox.clock.now()
    with dg.build_schedule_context(instance=world.instance, scheduled_execution_time=now,
                                   resources=world.defs.resources) as ctx:
        (request,) = daily_reread_schedule.evaluate_tick(ctx).run_requests
    assert request.run_config["ops"]["reread_cohort"]["config"]["partners"] == [world.partner_id]
    result = world.defs.get_job_def("reread_cohort_job").execute_in_process(
        instance=world.instance, run_config=request.run_config, tags=request.tags)
    assert result.success


def platform_row(world: World, xero_invoice_id: str) -> sa.Row:
    i = schema.invoices.c
    with world.engine.connect() as conn:
        return conn.execute(
            sa.select(i.invoice_id, i.total_minor, i.outstanding_minor, i.due_date, i.edit_conflict)
            .where(i.partner_id == world.partner_id, i.xero_invoice_id == xero_invoice_id)
        ).one()


def test_daily_reread_applies_the_three_way_rule(world: World):
    assert drive_headless(world.instance, world.defs, world.engine, world.partner_id) == []
    org, tenant = world.org, world.tenant_id
    since = add_months(month_start(world.server.sandbox.clock.now().date()), -1)
    alt_only, xero_only, both = [
        inv.invoice_id for inv in sorted(org.invoices.values(), key=lambda i: i.invoice_id)
        if inv.type == "ACCREC" and inv.status == "AUTHORISED" and not inv.has_money_applied()
        and inv.date >= since
    ][:3]
    before = {x: platform_row(world, x) for x in (alt_only, xero_only, both)}
    alt_due = before[alt_only].due_date + dt.timedelta(days=30)

    # Alternative edits two invoices; Xero edits two (one of them the same as Alternative's).
    events.invoice_edited(world.engine, partner_id=world.partner_id,
                          invoice_id=before[alt_only].invoice_id, amount="123.45", due_date=alt_due)
    events.invoice_edited(world.engine, partner_id=world.partner_id,
                          invoice_id=before[both].invoice_id, amount="111.11")
    world.server.sandbox.clock.advance(3600)
    for xid in (xero_only, both):
        control(world.server, "PATCH", f"/tenants/{tenant}/invoices/{xid}", {"amount": "777.70"})

    daily_reread(world)

    kept = platform_row(world, alt_only)
    assert (kept.total_minor, kept.outstanding_minor, kept.due_date, kept.edit_conflict) == (
        12_345, 12_345, alt_due, None)
    came = platform_row(world, xero_only)
    assert (came.total_minor, came.outstanding_minor, came.edit_conflict) == (77_770, 77_770, None)
    won = platform_row(world, both)
    assert (won.total_minor, won.outstanding_minor) == (77_770, 77_770)
    assert "amount edited in Alternative" in won.edit_conflict

    # A second re-read changes nothing: the Alternative edit still stands.
    daily_reread(world)
    assert platform_row(world, alt_only) == kept

    # The diff lists the conflict for review (explained) and explains the kept edit.
    diff = dg.materialize([xero_records, platform_records, reconciliation_diff],
                          selection=["reconciliation_diff"], partition_key=world.partner_id,
                          instance=world.instance, resources=world.defs.resources)
    assert diff.success
    (check,) = diff.get_asset_check_evaluations()
    assert check.passed
    with world.engine.connect() as conn:
        rows = latest_diff(conn, world.partner_id)
    listed = rows.loc[rows["kind"] == "unpaid_edit_conflict"]
    assert listed["subject_id"].tolist() == [str(won.invoice_id)]
    assert listed["action"].tolist() == ["review"] and listed["explained"].all()
    edited = rows.loc[rows["subject_id"] == str(kept.invoice_id)]
    assert edited["kind"].tolist() == ["balance_mismatch"] and edited["explained"].all()

    # Editing the invoice again in Alternative (after review) clears the listed conflict.
    events.invoice_edited(world.engine, partner_id=world.partner_id, invoice_id=won.invoice_id,
                          due_date=won.due_date + dt.timedelta(days=1))
    assert platform_row(world, both).edit_conflict is None
