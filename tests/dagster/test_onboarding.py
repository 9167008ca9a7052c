"""Initial sync through a real Dagster instance: recent months first, then history, to Connected,
with the platform store matching the sandbox's organisation exactly."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import sqlalchemy as sa

from xero_sync.assets.platform_records import platform_records
from xero_sync.assets.xero_records import xero_records
from xero_sync.demo.main import drive_headless
from xero_sync.core.money import to_minor
from xero_sync.partitions import partition_key
from xero_sync.store import connections, onboarding_progress, schema
from xero_sync.sync.month_slices import add_months, month_start, months_in, recent_months
from xero_sync.sync.onboarding import HISTORY_PRIORITY, RECENT_PRIORITY
from xero_sync.sync.rules import platform_status


def expected_invoices(org) -> dict[str, tuple]:
    """What the dashboard must show for every approved sales invoice in the organisation."""
    out = {}
    for inv in org.invoices.values():
        if inv.type == "ACCREC" and inv.status in ("AUTHORISED", "PAID"):
            due = to_minor(inv.amount_due, inv.currency_code)
            total = to_minor(inv.total, inv.currency_code)
            out[inv.invoice_id] = (platform_status(due, total), due, total, inv.due_date, inv.currency_code)
    return out


def platform_invoices(engine, partner_id) -> dict[str, tuple]:
    t = schema.invoices
    with engine.begin() as conn:
        rows = conn.execute(
            sa.select(t.c.xero_invoice_id, t.c.status, t.c.outstanding_minor, t.c.total_minor, t.c.due_date, t.c.currency)
            .where(t.c.partner_id == partner_id)
        ).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def onboarding_runs(instance, job_name: str | None = "onboarding_job"):
    """The onboarding phase's runs, oldest first: the range runs (job_name), or all of them (None)."""
    runs = instance.get_runs(filters=dg.RunsFilter(job_name=job_name, tags={"xero/phase": "onboarding"}))
    return sorted(runs, key=lambda r: instance.get_run_record_by_id(r.run_id).create_timestamp)


def test_initial_sync_goes_recent_first_then_history_and_matches_the_organisation(world):
    failures = drive_headless(world.instance, world.defs, world.engine, world.partner_id)
    assert failures == []

    runs = onboarding_runs(world.instance)
    assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    # Then one run that finalizes (empty months recorded, partner connected), after every range.
    phase = onboarding_runs(world.instance, job_name=None)
    assert [r.job_name for r in phase] == ["onboarding_job"] * len(runs) + ["finalize_onboarding_job"]
    ranges = [
        (r.tags["dagster/asset_partition_range_start"].split("|")[0],
         r.tags["dagster/asset_partition_range_end"].split("|")[0], int(r.tags["dagster/priority"]))
        for r in runs
    ]
    recent = sorted(recent_months(dt.date.today()))
    assert ranges[0] == (f"{recent[0]}", f"{recent[-1]}", RECENT_PRIORITY)
    history = ranges[1:]
    assert history, "3 years of history need history runs"
    assert all(p == HISTORY_PRIORITY for _, _, p in history)
    starts = [s for s, _, _ in history]
    assert starts == sorted(starts, reverse=True), "history goes newest chunk first"

    with world.engine.begin() as conn:
        c = connections.get_connection(conn, world.partner_id)
    assert c.status == "connected"
    assert c.months_done == c.months_total > 12
    assert c.first_month == month_start(world.org.first_transaction_date())
    with world.engine.begin() as conn:  # the runs recorded every month they landed
        landed = onboarding_progress.landed_months(conn, [world.partner_id])[world.partner_id]
    assert landed == set(months_in(c.first_month, add_months(month_start(dt.date.today()), 1)))

    assert platform_invoices(world.engine, world.partner_id) == expected_invoices(world.org)
    assert platform_payments(world.engine, world.partner_id) == expected_payments(world.org)


def expected_payments(org) -> dict[str, tuple]:
    """Every live Xero payment on an approved sales invoice, whatever month it is dated in."""
    synced = expected_invoices(org)
    return {
        f"xero_{p.payment_id}": (to_minor(p.amount, org.invoices[p.invoice_id].currency_code), p.date)
        for p in org.payments.values()
        if p.invoice_id in synced and p.status == "AUTHORISED"
    }


def platform_payments(engine, partner_id) -> dict[str, tuple]:
    t = schema.payments
    with engine.begin() as conn:
        rows = conn.execute(
            sa.select(t.c.payment_id, t.c.amount_minor, t.c.paid_on)
            .where(t.c.partner_id == partner_id, t.c.source == "xero", t.c.status == "succeeded")
        ).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def test_rerunning_a_partition_changes_nothing(world):
    assert drive_headless(world.instance, world.defs, world.engine, world.partner_id) == []
    before = platform_invoices(world.engine, world.partner_id)
    month = recent_months(dt.date.today())[3]
    result = dg.materialize(
        [xero_records, platform_records], instance=world.instance,
        partition_key=str(partition_key(world.partner_id, month)), resources=world.defs.resources,
    )
    assert result.success
    for mat in result.get_asset_materialization_events():
        meta = mat.step_materialization_data.materialization.metadata
        assert meta["inserted"].value == 0, mat.asset_key
        assert meta["updated"].value == 0, mat.asset_key
        if mat.asset_key.to_user_string() in ("xero_invoices", "platform_invoices"):
            assert meta["preview"].value.startswith("| number |"), meta["preview"].value
    assert platform_invoices(world.engine, world.partner_id) == before


def test_a_backfill_of_a_month_range_re_pulls_exactly_those_months(world):
    """A UI backfill (single-run policy) over months of one partner reads one window per entity."""
    from urllib.parse import parse_qs

    assert drive_headless(world.instance, world.defs, world.engine, world.partner_id) == []
    since = len(world.server.sandbox.requests.entries(world.tenant_id))
    first, last = dt.date(2025, 3, 1), dt.date(2025, 5, 1)
    result = dg.materialize(
        [xero_records, platform_records], instance=world.instance, resources=world.defs.resources,
        tags={"dagster/asset_partition_range_start": str(partition_key(world.partner_id, first)),
              "dagster/asset_partition_range_end": str(partition_key(world.partner_id, last))},
    )
    assert result.success
    reads = [e for e in world.server.sandbox.requests.entries(world.tenant_id)[since:] if e["method"] == "GET"]
    wheres = {e["path"].rsplit("/", 1)[-1]: parse_qs(e["query"])["where"][0] for e in reads}
    assert wheres["Invoices"] == "Date>=DateTime(2025,03,01)&&Date<DateTime(2025,06,01)"
    assert wheres["Payments"] == wheres["CreditNotes"] == wheres["Invoices"]
    assert wheres["Contacts"] == "UpdatedDateUTC>=DateTime(2025,03,01)&&UpdatedDateUTC<DateTime(2025,06,01)"
    assert len(reads) == 4  # one page each: a 3-month window of a small organisation
    materialized = {e.partition for e in result.get_asset_materialization_events()}
    assert {p.split("|")[0] for p in materialized} == {"2025-03-01", "2025-04-01", "2025-05-01"}


def test_a_future_dated_invoice_belongs_to_the_current_month_partition(world):
    """Xero allows invoices dated ahead; the current month's window is open at the end."""
    from tests.sandbox_fixtures import control

    assert drive_headless(world.instance, world.defs, world.engine, world.partner_id) == []
    contact = next(iter(world.org.contacts))
    ahead = (month_start(dt.date.today()) + dt.timedelta(days=75)).isoformat()
    created = control(world.server, "POST", f"/tenants/{world.tenant_id}/invoices",
                      {"contact_id": contact, "amount": "321.00", "date": ahead})
    current = str(partition_key(world.partner_id, month_start(dt.date.today())))
    result = dg.materialize([xero_records, platform_records], instance=world.instance,
                            partition_key=current, resources=world.defs.resources)
    assert result.success
    store = platform_invoices(world.engine, world.partner_id)
    assert store == expected_invoices(world.org)
    assert store[created["InvoiceID"]][2] == 32100
