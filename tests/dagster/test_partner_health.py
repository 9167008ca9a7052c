"""partner_health through a real Dagster instance after the headless onboarding of two partners:
rows, the worst-first table, the checks naming the failing partner, API calls counted per day;
and the run-failure sensor putting a failed run on the connection and the Integrations card."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import sqlalchemy as sa

from tests.sandbox_fixtures import control
from xero_sync.assets.partner_health import COLUMNS, partner_health
from xero_sync.assets.reconciliation import reconciliation_diff
from xero_sync.store import connections, schema
from xero_sync.store import health as health_store
from xero_sync.store.schema import invoices, outbox
from xero_sync.sensors.run_failures import (
    partner_run_failure_sensor,
    partner_run_success_sensor,
)

CHECKS = ("connected_partners_synced_recently", "no_stale_pending_writes", "no_unexplained_differences")


def _materialize_health(world, **config):
    run_config = {"ops": {"partner_health": {"config": config}}} if config else None
    result = dg.materialize([partner_health], instance=world.instance, resources=world.defs.resources,
                            run_config=run_config)
    mat = result.get_asset_materialization_events()[0].step_materialization_data.materialization
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    return mat.metadata, checks


def _make_beta_unhealthy(world) -> None:
    """beta: no sync for 2 hours, a payment write pending for 45 minutes, and its dashboard
    disagreeing with Xero on one invoice (found by a real reconciliation_diff run)."""
    now = dt.datetime.now(dt.timezone.utc)
    with world.engine.begin() as conn:
        connections.touch_last_sync(conn, "beta", now - dt.timedelta(hours=2))
        conn.execute(sa.insert(outbox).values(
            partner_id="beta", kind="payment", subject_id="pay_beta_1", idempotency_key="xs-beta-payment-pay_beta_1",
            reference="pay_beta_1", payload={}, status="pending",
            created_at=now - dt.timedelta(minutes=45), updated_at=now - dt.timedelta(minutes=45)))
        invoice_id = conn.execute(sa.select(invoices.c.invoice_id).where(
            invoices.c.partner_id == "beta", invoices.c.outstanding_minor > 0).limit(1)).scalar_one()
        conn.execute(sa.update(invoices).where(invoices.c.invoice_id == invoice_id)
                     .values(outstanding_minor=invoices.c.outstanding_minor - 1))
    diff = dg.materialize([reconciliation_diff], instance=world.instance, partition_key="beta",
                          resources=world.defs.resources, raise_on_error=False)
    unexplained = diff.get_asset_materialization_events()[0].step_materialization_data.materialization
    assert unexplained.metadata["unexplained"].value >= 1


def test_health_rows_table_and_checks_for_a_healthy_and_an_unhealthy_partner(two_partners):
    world = two_partners
    assert world.onboarding_failures == []
    with world.engine.begin() as conn:
        assert {c.partner_id: c.status for c in connections.list_connections(conn)} == {
            "acme": "connected", "beta": "connected"}

    metadata, checks = _materialize_health(world)
    assert metadata["dagster/row_count"].value == 2
    assert all(checks[name].passed for name in CHECKS), {n: c.description for n, c in checks.items()}

    # Never reconciled is not "ok" (issue 20 item 1): evidence or attention.
    assert {r["partner"]: (r["verdict"], r["reconciled"]) for r in _rows(metadata)} == {
        "acme": ("attention", "never"), "beta": ("attention", "never")}

    _make_beta_unhealthy(world)
    assert dg.materialize([reconciliation_diff], instance=world.instance, partition_key="acme",
                          resources=world.defs.resources).success
    metadata, checks = _materialize_health(world)
    beta, acme = _rows(metadata)  # worst first
    assert (beta["partner"], beta["shard"], beta["verdict"], beta["status"]) == ("beta", 0, "failing", "connected")
    assert (acme["partner"], acme["shard"], acme["verdict"], acme["status"]) == ("acme", 0, "ok", "connected")
    assert "pending 1" in beta["outbox"] and beta["oldest pending"] == "45m"
    assert "last sync 2h 0m ago" in beta["problems"]
    assert beta["reconciled"].endswith(f"{beta['unexplained']} unexplained") and beta["unexplained"] >= 1
    assert metadata["partners_not_shown"].value == 0
    assert metadata["partners_by_verdict"].value == {"failing": 1, "attention": 0, "ok": 1, "not connected": 0}
    for name in CHECKS:
        assert not checks[name].passed, name
        assert checks[name].metadata["partners"].value == ["beta"]
        assert "beta" in checks[name].description and "acme" not in checks[name].description

    # N is configurable: 60 minutes tolerates the 45-minute-old write.
    _, checks = _materialize_health(world, pending_write_minutes=60)
    assert checks["no_stale_pending_writes"].passed


def test_api_calls_today_are_what_the_sandbox_counted_and_row_counts_are_the_tables(two_partners):
    world = two_partners
    for asset, table in (("xero_invoices", schema.xero_invoices), ("xero_contacts", schema.xero_contacts),
                         ("platform_invoices", schema.invoices), ("platform_payments", schema.payments)):
        # The newest materialization made by a run (the months before the first transaction are
        # recorded after the last run as runless, empty materializations without table figures).
        records = world.instance.fetch_materializations(dg.AssetKey(asset), limit=1000).records
        latest_run = next(r.event_log_entry for r in records if r.event_log_entry.run_id)
        with world.engine.begin() as conn:
            rows = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        assert rows > 0
        # A partition's row count is its own month's rows (issue 20), never the whole table.
        meta = {k: v.value for k, v in latest_run.asset_materialization.metadata.items()}
        own = meta.get("records_pulled", meta.get("inserted", 0) + meta.get("updated", 0) + meta.get("unchanged", 0))
        assert meta["dagster/row_count"] == own < rows, asset
    with world.engine.begin() as conn:
        facts = {f.partner_id: f for f in health_store.load_facts(conn, dt.datetime.now(dt.timezone.utc))}
    for partner_id, tenant_id in world.tenants.items():
        counted = world.server.sandbox.limits.calls(tenant_id)["total"]
        assert counted > 0
        assert facts[partner_id].api_calls_today == counted, partner_id
        assert facts[partner_id].api_day_remaining is not None


def _rows(metadata) -> list[dict]:
    """The health table's rows (a Dagster table: MetadataValue.table with its schema)."""
    table = metadata["health"]
    assert [c.name for c in table.schema.columns] == list(COLUMNS)
    return [dict(r.data) for r in table.records]


def _sensor_tick(world, sensor, cursor=None):
    # No `definitions`: runs executed in-process carry no code-location origin, and a run-status
    # sensor only matches runs of its own location (both None here, as in Dagster's own tests).
    with dg.build_sensor_context(instance=world.instance, cursor=cursor,
                                 resources={"platform": world.defs.resources["platform"]}) as context:
        result = sensor.evaluate_tick(context)
    return result.cursor


def test_a_failed_run_reaches_the_connection_and_the_card_and_a_later_success_clears_it(two_partners):
    world = two_partners
    job = world.defs.get_job_def("incremental_sync_job")
    failures_cursor = _sensor_tick(world, partner_run_failure_sensor)  # first tick: start from now
    successes_cursor = _sensor_tick(world, partner_run_success_sensor)

    def acme_hits_the_daily_limit():
        control(world.server, "POST", "/faults", {"kind": "rate_limit", "problem": "day", "count": 1,
                                                  "tenant_id": world.tenants["acme"], "retry_after": 60})
        run = job.execute_in_process(instance=world.instance, partition_key="acme", raise_on_error=False)
        assert not run.success
        with world.engine.begin() as conn:
            connections.unpark(conn, "acme")  # as if Xero's window had reopened
        return run

    # acme's run fails on Xero's daily limit: the failure sensor records it.
    acme_failed = acme_hits_the_daily_limit()
    failures_cursor = _sensor_tick(world, partner_run_failure_sensor, failures_cursor)
    with world.engine.begin() as conn:
        acme = health_store.last_failure(conn, "acme")
    assert (acme.job, acme.run_id) == ("incremental_sync_job", acme_failed.run_id)
    assert "daily" in acme.message.lower() and "Traceback" not in acme.message

    # Its next run succeeds: the success sensor clears the record. A run without a partner
    # (partner_health_job) ends in the same tick: nothing to do for it, and the tick still works.
    assert job.execute_in_process(instance=world.instance, partition_key="acme").success
    _materialize_health(world)
    successes_cursor = _sensor_tick(world, partner_run_success_sensor, successes_cursor)
    with world.engine.begin() as conn:
        assert health_store.last_failure(conn, "acme") is None

    # A failure the failure sensor sees only after a later success is not brought back.
    acme_hits_the_daily_limit()
    assert job.execute_in_process(instance=world.instance, partition_key="acme").success
    successes_cursor = _sensor_tick(world, partner_run_success_sensor, successes_cursor)
    failures_cursor = _sensor_tick(world, partner_run_failure_sensor, failures_cursor)
    with world.engine.begin() as conn:
        assert health_store.last_failure(conn, "acme") is None

    # beta's authorisation was revoked in Xero: its next run fails, and stays recorded.
    control(world.server, "POST", "/tokens/revoke", {"tenant_id": world.tenants["beta"]})
    world.server.sandbox.clock.advance(31 * 60)  # the access token has expired: a refresh is due
    failed = job.execute_in_process(instance=world.instance, partition_key="beta", raise_on_error=False,
                                    tags={"xero/tenant": world.tenants["beta"]})
    assert not failed.success
    _sensor_tick(world, partner_run_failure_sensor, failures_cursor)
    with world.engine.begin() as conn:
        beta = health_store.last_failure(conn, "beta")
    assert (beta.job, beta.run_id) == ("incremental_sync_job", failed.run_id)
    assert "beta" in beta.message and "reconnect" in beta.message.lower()
    assert "Traceback" not in beta.message and len(beta.message) <= 500

    # The Integrations card shows it to the partner.
    from xero_sync.web.app import create_app
    client = create_app(engine=world.engine).test_client()
    from tests.web.sign_in import dev_sign_in
    assert dev_sign_in(client, "beta", "Beta MSP").status_code == 302
    page = client.get("/integrations").text
    assert 'id="xero-last-failure"' in page and "incremental_sync_job" in page
    assert "reconnect" in page.split('id="xero-last-failure"')[1].split("</div>")[0].lower()

    metadata, _ = _materialize_health(world)
    beta_row = next(r for r in _rows(metadata) if r["partner"] == "beta")
    assert beta_row["failures"].startswith("incremental_sync_job [") and "needs re-authorisation" in beta_row["problems"]
