"""Cohort runs: the steady-state schedules request one run per cohort of a shard's due partners,
and a cohort run syncs its partners concurrently, each partner's failure kept to itself."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

import dagster as dg
import pytest
import sqlalchemy as sa

from tests.dagster.conftest import connect_partner
from tests.sandbox_fixtures import control, use_sandbox_settings
from xero_sync.assets.platform_records import platform_records
from xero_sync.assets.xero_records import xero_records
from xero_sync.config import Settings
from xero_sync.definitions import build_defs
from xero_sync.partitions import range_tags
from xero_sync.store import connections, schema
from xero_sync.store import health as health_store
from xero_sync.store.db import make_engine, upgrade
from xero_sync.resources.platform import PlatformResource
from xero_sync.schedules.sync import daily_reread_schedule_for, incremental_sync_schedule_for
from xero_sync.sensors.run_failures import (
    partner_for_run,
    partner_run_failure_sensor,
    partner_run_success_sensor,
)
from xero_sync.shards.layout import shard
from xero_sync.sync.failure_policy import asset_works
from xero_sync.sync.month_slices import add_months, month_start

TICK = dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.timezone.utc)
ASSETS = ("xero_contacts", "xero_invoices", "xero_payments", "xero_credit_notes",
          "platform_customers", "platform_invoices", "platform_payments")


def tmp_dagster_home():
    shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    return tempfile.TemporaryDirectory(dir=shm)


def evaluate(schedule, instance, platform, when=TICK) -> list[dg.RunRequest]:
    with dg.build_schedule_context(instance=instance, scheduled_execution_time=when,
                                   resources={"platform": platform}) as context:
        return list(schedule.evaluate_tick(context).run_requests or [])


def partners_of(request: dg.RunRequest) -> list[str]:
    [op] = request.run_config["ops"].values()
    return op["config"]["partners"]


def add_partner(conn, partner_id: str, status: str, shard_count: int = 1) -> None:
    """A partner linked to a (made-up) tenant, in `status`; no Xero call is needed to plan."""
    connections.ensure_partner(conn, partner_id, partner_id.title(), shard_count=shard_count)
    connections.start_connection(conn, partner_id, tenant_id=f"t-{partner_id}", tenant_name=partner_id,
                                 xero_connection_id=f"c-{partner_id}", token_set_id=None)
    if status != "pending":
        connections.set_status(conn, partner_id, status)


def test_schedules_request_one_run_per_cohort_of_the_shards_due_partners(sqlite_url, monkeypatch):
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    due = [f"p{i:02d}" for i in range(1, 6)]
    with engine.begin() as conn:
        for partner_id in [*due, "parked", "no-partition"]:
            add_partner(conn, partner_id, "connected")
        add_partner(conn, "pending", "pending")
        add_partner(conn, "lapsed", "needs_reauth")
        add_partner(conn, "other-shard", "connected", shard_count=2)  # shard 1 is the least filled
        connections.park(conn, "parked", TICK + dt.timedelta(hours=3), "Xero daily API limit reached")
        assert connections.get_connection(conn, "other-shard").shard == 1
    engine.dispose()
    monkeypatch.setenv("XERO_SYNC_COHORT_SIZE", "2")
    platform = PlatformResource(database_url=sqlite_url)

    with tmp_dagster_home() as home, dg.instance_for_test(temp_dir=home) as instance:
        instance.add_dynamic_partitions("partners", [*due, "parked", "pending", "lapsed"])
        instance.add_dynamic_partitions("partners_shard_1", ["other-shard"])
        incremental = evaluate(incremental_sync_schedule_for(shard(0)), instance, platform)
        reread = evaluate(daily_reread_schedule_for(shard(0)), instance, platform)
        again = evaluate(incremental_sync_schedule_for(shard(0)), instance, platform)
        other = evaluate(incremental_sync_schedule_for(shard(1)), instance, platform)

    assert [partners_of(r) for r in incremental] == [["p01", "p02"], ["p03", "p04"], ["p05"]]  # ceil(5/2)
    assert [r.run_key for r in incremental] == [f"incremental:20261125T0300:cohort-{i}-of-3" for i in (1, 2, 3)]
    assert [r.run_key for r in again] == [r.run_key for r in incremental]  # deterministic per tick
    assert [{k: v for k, v in r.tags.items() if k.startswith("xero/")} for r in incremental] == [
        {"xero/cohort": f"{i}-of-3", "xero/phase": "incremental", "xero/shard": "0"} for i in (1, 2, 3)]  # no partner, no tenant
    assert [partners_of(r) for r in reread] == [partners_of(r) for r in incremental]
    assert reread[0].run_key == "reread:20261125:cohort-1-of-3" and reread[0].tags["xero/phase"] == "reread"
    assert reread[0].run_config["ops"]["reread_cohort"]["config"]["months"] == ["2026-10-01", "2026-11-01"]
    assert [partners_of(r) for r in other] == [["other-shard"]]


# --- cohort runs against the sandbox -------------------------------------------------------------

@dataclass
class Three:
    server: object
    engine: sa.Engine
    instance: dg.DagsterInstance
    defs: dg.Definitions
    tenants: dict[str, str]

    def run(self, request: dg.RunRequest, job: str) -> dg.ExecuteInProcessResult:
        return self.defs.get_job_def(job).execute_in_process(
            instance=self.instance, run_config=request.run_config, tags=request.tags, raise_on_error=False)

    def schedule_requests(self, schedule) -> list[dg.RunRequest]:
        return evaluate(schedule, self.instance, self.defs.resources["platform"],
                        when=self.server.sandbox.clock.now())


@pytest.fixture
def three(sandbox_factory, db_url, tmp_path, monkeypatch) -> Iterator[Three]:
    """acme, beta and gamma connected to three small organisations (no onboarding: the re-read
    lands the recent months), with their partner partitions."""
    server = sandbox_factory(seed=3, invoices=60, months=3, tenants=3, minute_limit=100_000)
    use_sandbox_settings(monkeypatch, server, db_url, tmp_path / "home")
    upgrade(db_url)
    engine = make_engine(db_url)
    tenants = dict(zip(("acme", "beta", "gamma"), server.sandbox.orgs))
    for partner_id, tenant_id in tenants.items():
        connect_partner(Settings.from_env(), engine, partner_id, partner_id.title(), tenant_id)
        with engine.begin() as conn:
            connections.mark_connected(conn, partner_id)
    with tmp_dagster_home() as home, dg.instance_for_test(temp_dir=home) as instance:
        instance.add_dynamic_partitions("partners", list(tenants))
        yield Three(server, engine, instance, build_defs(database_url=db_url, sandbox_url=server.base_url),
                    tenants)
    engine.dispose()


def materializations(instance, run_id: str) -> dict[tuple[str, str], dict]:
    """(asset, partition) -> metadata of the run's materializations."""
    out = {}
    for asset in ASSETS:
        for record in instance.fetch_materializations(dg.AssetKey(asset), limit=1000).records:
            if record.run_id == run_id:
                out[(asset, record.partition_key)] = {k: v.value for k, v in
                                                      record.asset_materialization.metadata.items()}
    return out


def landed_invoice_ids(engine, partner_id: str) -> set[str]:
    with engine.connect() as conn:
        t = schema.xero_invoices.c
        return set(conn.execute(sa.select(t.invoice_id).where(t.partner_id == partner_id)).scalars())


def test_a_cohort_run_lands_every_partner_but_the_failing_one_and_records_its_failure(three: Three):
    world = three
    today = world.server.sandbox.clock.now().date()
    months = [add_months(month_start(today), -1), month_start(today)]
    keys = [f"{m:%Y-%m-%d}|{p}" for p in ("acme", "gamma") for m in months]

    # gamma's months through the assets first: what the cohort must report the same way.
    by_assets = dg.materialize([xero_records, platform_records], instance=world.instance,
                               resources=world.defs.resources, tags=range_tags("gamma", *months))
    assert by_assets.success
    asset_metadata = materializations(world.instance, by_assets.run_id)

    # beta's organisation has spent Xero's daily limit; acme carries an old failure of this job.
    control(world.server, "POST", "/faults", {"kind": "rate_limit", "problem": "day", "count": 1,
                                              "tenant_id": world.tenants["beta"], "retry_after": 3600})
    with world.engine.begin() as conn:
        health_store.record_run_failure(conn, "acme", health_store.RunFailure(
            "reread_cohort_job", dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1), "old", "r0"),
            works=asset_works(ASSETS, [f"{m:%Y-%m-%d}|acme" for m in months]))
    failures_cursor = _sensor_tick(world, None)
    successes_cursor = _sensor_tick(world, None, partner_run_success_sensor)

    [request] = world.schedule_requests(daily_reread_schedule_for(shard(0)))
    assert partners_of(request) == ["acme", "beta", "gamma"]
    result = world.run(request, "reread_cohort_job")

    # The run fails, naming beta only, after acme and gamma landed.
    assert not result.success
    [failure] = result.get_step_failure_events()
    data = failure.step_failure_data.user_failure_data
    assert data.description.startswith("1 of 3 partners failed (2 synced, 0 skipped): beta: partner beta:")
    assert data.metadata["failed_partners"].value == ["beta"]
    org_ids = {p: {i.invoice_id for i in world.server.sandbox.orgs[world.tenants[p]].invoices.values()
                   if i.date >= months[0]} for p in world.tenants}
    assert landed_invoice_ids(world.engine, "acme") == org_ids["acme"] and org_ids["acme"]
    assert landed_invoice_ids(world.engine, "beta") == set()

    # One materialization per partner, month and asset, with the assets' own metadata keys.
    cohort_metadata = materializations(world.instance, result.run_id)
    assert set(cohort_metadata) == {(a, k) for a in ASSETS for k in keys}
    for asset in ASSETS:
        for month in months:
            key = f"{month:%Y-%m-%d}|gamma"
            assert set(cohort_metadata[(asset, key)]) == set(asset_metadata[(asset, key)]), asset
            if asset.startswith("xero_"):
                assert cohort_metadata[(asset, key)]["records_pulled"] == asset_metadata[(asset, key)]["records_pulled"]
                assert cohort_metadata[(asset, key)]["unchanged"] == asset_metadata[(asset, key)]["records_pulled"]
    checks = [e.asset_check_evaluation_data for e in result.all_events
              if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert sorted((c.check_name, c.metadata["partner"].value, c.passed) for c in checks) == sorted(
        (name, p, True) for p in ("acme", "gamma")
        for name in ("totals_add_up", "no_orphan_invoices", "no_duplicate_invoices"))

    # beta's failure is on its connection (as the failure sensor writes it); acme's old one is cleared.
    with world.engine.begin() as conn:
        beta = health_store.last_failure(conn, "beta")
        assert health_store.last_failure(conn, "acme") is None
        assert connections.get_connection(conn, "beta").parked_until is not None
        assert partner_for_run(conn, world.instance.get_run_by_id(result.run_id).tags) is None
    assert (beta.job, beta.run_id) == ("reread_cohort_job", result.run_id)
    assert beta.message.startswith("reread_cohort: partner beta: ") and "daily" in beta.message.lower()
    assert "Traceback" not in beta.message

    # The failure sensor does not pin the cohort run's failure on anyone.
    _sensor_tick(world, failures_cursor)
    with world.engine.begin() as conn:
        assert health_store.last_failure(conn, "acme") is None and health_store.last_failure(conn, "gamma") is None
        assert health_store.last_failure(conn, "beta").run_id == result.run_id

    # 15 minutes later: an edit in acme's Xero arrives through the incremental cohort (beta,
    # parked until Xero's day resets, is not scheduled).
    world.server.sandbox.clock.advance(15 * 60)
    edited = next(i for i in sorted(world.server.sandbox.orgs[world.tenants["acme"]].invoices.values(),
                                    key=lambda i: i.invoice_id)
                  if i.type == "ACCREC" and i.status == "AUTHORISED" and not i.has_money_applied())
    control(world.server, "PATCH", f"/tenants/{world.tenants['acme']}/invoices/{edited.invoice_id}",
            {"amount": "777.70"})
    [request] = world.schedule_requests(incremental_sync_schedule_for(shard(0)))
    assert partners_of(request) == ["acme", "gamma"]
    result = world.run(request, "incremental_cohort_job")
    assert result.success
    with world.engine.connect() as conn:
        i = schema.invoices.c
        assert conn.execute(sa.select(i.total_minor).where(
            i.partner_id == "acme", i.xero_invoice_id == edited.invoice_id)).scalar_one() == 77_770
    touched = materializations(world.instance, result.run_id)
    key = f"{month_start(edited.date):%Y-%m-%d}|acme"
    assert touched[("xero_invoices", key)]["source"] == "incremental"
    assert ("platform_invoices", key) in touched

    # Once Xero's day resets, a one-partner re-read of beta's months clears what its cohort recorded.
    with world.engine.begin() as conn:
        connections.unpark(conn, "beta")
    single = world.defs.resolve_job_def("onboarding_job").execute_in_process(
        instance=world.instance, tags=range_tags("beta", *months))
    assert single.success
    _sensor_tick(world, successes_cursor, partner_run_success_sensor)
    with world.engine.begin() as conn:
        assert health_store.last_failure(conn, "beta") is None
    assert landed_invoice_ids(world.engine, "beta") == org_ids["beta"]


def test_a_failed_run_seen_after_a_later_cohort_success_of_the_same_work_stays_cleared(three: Three):
    """Seen: acme's incremental_sync_job run failed, the incremental cohort run then synced acme,
    and the failure sensor, ticking after both, recorded the failure anyway (it looked for later
    successes among runs of its own job only): acme showed failing until its next incremental sync.
    The store now holds the one rule: a later success of the same work clears, in either order."""
    world = three
    failures_cursor = _sensor_tick(world, None)
    successes_cursor = _sensor_tick(world, None, partner_run_success_sensor)
    control(world.server, "POST", "/faults", {"kind": "rate_limit", "problem": "day", "count": 1,
                                              "tenant_id": world.tenants["acme"], "retry_after": 60})
    failed = world.defs.get_job_def("incremental_sync_job").execute_in_process(
        instance=world.instance, partition_key="acme", raise_on_error=False)
    assert not failed.success
    with world.engine.begin() as conn:
        connections.unpark(conn, "acme")  # as if Xero's window had reopened

    [request] = world.schedule_requests(incremental_sync_schedule_for(shard(0)))
    assert "acme" in partners_of(request)
    assert world.run(request, "incremental_cohort_job").success
    _sensor_tick(world, successes_cursor, partner_run_success_sensor)
    _sensor_tick(world, failures_cursor)  # the failed run, seen only now
    with world.engine.connect() as conn:
        assert health_store.last_failure(conn, "acme") is None

    # A failure after the cohort's success is recorded as ever.
    control(world.server, "POST", "/faults", {"kind": "rate_limit", "problem": "day", "count": 1,
                                              "tenant_id": world.tenants["acme"], "retry_after": 60})
    again = world.defs.get_job_def("incremental_sync_job").execute_in_process(
        instance=world.instance, partition_key="acme", raise_on_error=False)
    assert not again.success
    _sensor_tick(world, failures_cursor)
    with world.engine.connect() as conn:
        assert health_store.last_failure(conn, "acme").run_id == again.run_id


def _sensor_tick(world: Three, cursor, sensor=partner_run_failure_sensor):
    # No `definitions`: in-process runs carry no code-location origin (see test_partner_health).
    with dg.build_sensor_context(instance=world.instance, cursor=cursor,
                                 resources={"platform": world.defs.resources["platform"]}) as context:
        return sensor.evaluate_tick(context).cursor
