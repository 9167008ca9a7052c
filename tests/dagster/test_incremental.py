"""After onboarding: Xero-side changes reach the platform on the next incremental run, an idle
run costs one call per entity, and a daily-limit 429 parks the partner until the window reopens."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import sqlalchemy as sa

from tests.dagster.conftest import make_world
from tests.dagster.test_onboarding import expected_invoices, platform_invoices
from tests.sandbox_fixtures import control
from xero_sync.demo.main import drive_headless
from xero_sync.store import connections, schema
from xero_sync.sensors.onboarding import new_connection_sensor

DAY = 86_400


def unpaid(org, skip=()):
    return (i for i in sorted(org.invoices.values(), key=lambda i: i.invoice_id)
            if i.type == "ACCREC" and i.status == "AUTHORISED" and not i.has_money_applied()
            and i.invoice_id not in skip)


def run_incremental(world) -> dg.ExecuteInProcessResult:
    job = world.defs.get_job_def("incremental_sync_job")
    result = job.execute_in_process(instance=world.instance, partition_key=world.partner_id)
    assert result.success
    return result


def test_xero_changes_reach_the_platform_on_the_next_incremental_run(world):
    assert drive_headless(world.instance, world.defs, world.engine, world.partner_id) == []
    org, tenant = world.org, world.tenant_id
    world.server.sandbox.clock.advance(DAY)  # the partner works in Xero the next day

    edited, part_paid, credited, voided = (i.invoice_id for i, _ in zip(unpaid(org), range(4)))
    new_due = (org.invoices[edited].due_date + dt.timedelta(days=14)).isoformat()
    control(world.server, "PATCH", f"/tenants/{tenant}/invoices/{edited}", {"due_date": new_due, "amount": "777.70"})
    control(world.server, "POST", f"/tenants/{tenant}/invoices/{part_paid}/payments", {"amount": "10.00"})
    cn_contact = org.invoices[credited].contact_id
    control(world.server, "POST", f"/tenants/{tenant}/credit-notes",
            {"contact_id": cn_contact, "amount": "5.00", "invoice_id": credited, "allocate": "5.00"})
    control(world.server, "POST", f"/tenants/{tenant}/invoices/{voided}/void", {})
    paid = next(i for i in org.invoices.values() if i.status == "PAID" and i.payment_ids)
    control(world.server, "DELETE", f"/tenants/{tenant}/payments/{paid.payment_ids[-1]}")
    archived_contact = org.invoices[edited].contact_id
    control(world.server, "POST", f"/tenants/{tenant}/contacts/{archived_contact}/archive", {})

    run_incremental(world)

    store = platform_invoices(world.engine, world.partner_id)
    expected = expected_invoices(org)
    assert {k: v for k, v in store.items() if k != voided} == expected
    assert store[edited][2] == 77770 and str(store[edited][3]) == new_due
    assert store[part_paid][0] == "partially_paid"
    assert store[paid.invoice_id][0] in ("unpaid", "partially_paid")
    with world.engine.begin() as conn:
        inv, cust = schema.invoices, schema.customers
        assert conn.execute(sa.select(inv.c.deleted_in_xero, inv.c.archived)
                            .where(inv.c.xero_invoice_id == voided)).one() == (True, False)
        assert conn.execute(sa.select(cust.c.deleted_in_xero, cust.c.archived)
                            .where(cust.c.xero_contact_id == archived_contact)).one() == (True, False)

    # Nothing changed since: one If-Modified-Since call per entity, nothing written.
    before_calls = world.calls()
    run_incremental(world)
    assert world.calls() - before_calls == 4
    assert platform_invoices(world.engine, world.partner_id) == store


def test_daily_limit_parks_the_partner_and_onboarding_resumes_after_the_window(sandbox_factory, db_url, tmp_path, monkeypatch):
    # Enough calls for the recent-months run, not for the history that follows.
    server = sandbox_factory(seed=5, invoices=400, months=36, minute_limit=100_000, day_limit=8)
    gen = make_world(server, db_url, tmp_path, monkeypatch)
    world = next(gen)
    try:
        failures = drive_headless(world.instance, world.defs, world.engine, world.partner_id)
        assert failures and "pending" in failures[-1]
        with world.engine.begin() as conn:
            c = connections.get_connection(conn, world.partner_id)
        assert c.status == "pending" and c.parked_until is not None
        assert c.parked_until > dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
        assert "daily" in (c.status_detail or "").lower()
        calls_when_parked = world.calls()

        # Parked: ticks request nothing and no call reaches Xero.
        for _ in range(3):
            with dg.build_sensor_context(instance=world.instance, definitions=world.defs,
                                         resources=world.defs.resources) as ctx:
                assert new_connection_sensor.evaluate_tick(ctx).run_requests == []
        assert world.calls() == calls_when_parked

        # A day passes on both clocks: Xero's window reopens and our parking expires.
        server.sandbox.clock.advance(DAY)
        server.sandbox.limits.day_limit = 5000
        with world.engine.begin() as conn:
            connections.park(conn, world.partner_id, dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1),
                             c.status_detail)
        assert drive_headless(world.instance, world.defs, world.engine, world.partner_id) == []
        with world.engine.begin() as conn:
            c = connections.get_connection(conn, world.partner_id)
        assert c.status == "connected" and c.parked_until is None
        assert platform_invoices(world.engine, world.partner_id) == expected_invoices(world.org)
    finally:
        gen.close()


def test_a_revoked_authorisation_marks_the_connection_needs_reauth(world):
    """The partner disconnected the app in Xero: the next run's refresh gets invalid_grant."""
    assert drive_headless(world.instance, world.defs, world.engine, world.partner_id) == []
    control(world.server, "POST", "/tokens/revoke", {"tenant_id": world.tenant_id})
    world.server.sandbox.clock.advance(31 * 60)  # the access token has expired: a refresh is due

    job = world.defs.get_job_def("incremental_sync_job")
    result = job.execute_in_process(instance=world.instance, partition_key=world.partner_id,
                                    raise_on_error=False)

    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert "demo-msp" in failure.message and "Traceback" not in failure.message
    with world.engine.begin() as conn:
        c = connections.get_connection(conn, world.partner_id)
    assert c.status == "needs_reauth"
    assert "reconnect" in c.status_detail.lower()
