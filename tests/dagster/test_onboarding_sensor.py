"""new_connection_sensor on its own: progress from the store's landed months (not Dagster's
materializations of every partner), a bounded round-robin slice per tick, in-flight runs and
attempts read for the slice only; a complete partner is finalized by the finalize_onboarding_job
run the tick requests (the tick itself writes no materialization)."""

from __future__ import annotations

import datetime as dt
import uuid

import dagster as dg
import pytest
import sqlalchemy as sa

import xero_sync.sensors.onboarding as sensor_module
from xero_sync.jobs.finalize_onboarding import finalize_onboarding_job
from xero_sync.partitions import HISTORY_START, partition_key
from xero_sync.store import connections, onboarding_progress
from xero_sync.store.schema import partner_months
from xero_sync.resources.platform import PlatformResource
from xero_sync.sensors.onboarding import new_connection_sensor
from xero_sync.sync.month_slices import add_months, month_start, months_in, recent_months
from xero_sync.sync.onboarding import HISTORY_PRIORITY, RECENT_PRIORITY

TODAY = dt.date.today()
CURRENT = month_start(TODAY)
FIRST = add_months(CURRENT, -30)  # 31 months: recent 12 + one history chunk of 19


def pending(engine, partner_id: str, first_month: dt.date | None = None) -> None:
    with engine.begin() as conn:
        connections.ensure_partner(conn, partner_id, partner_id.title())
        connections.start_connection(conn, partner_id, tenant_id=f"t-{partner_id}", tenant_name=partner_id,
                                     xero_connection_id=f"c-{partner_id}", token_set_id=None)
        if first_month is not None:
            connections.set_plan(conn, partner_id, first_month, 1)


def land(engine, partner_id: str, months) -> None:
    with engine.begin() as conn:
        onboarding_progress.record_landed(conn, partner_id, months)


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def tick(engine, instance, cursor: str | None = None) -> dg.SensorResult:
    platform = PlatformResource(database_url=engine.url.render_as_string(hide_password=False))
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"platform": platform}) as context:
        return new_connection_sensor.evaluate_tick(context)


def by_partner(result: dg.SensorResult) -> dict[str, dg.RunRequest]:
    """The onboarding range runs requested, by partner."""
    return {r.tags["xero/partner"]: r for r in result.run_requests if r.job_name == "onboarding_job"}


def finalizing(result: dg.SensorResult) -> list[dg.RunRequest]:
    return [r for r in result.run_requests if r.job_name == "finalize_onboarding_job"]


def run_finalize(engine, instance, request: dg.RunRequest) -> None:
    """What the daemon does with a finalize request: one finalize_onboarding_job run."""
    platform = PlatformResource(database_url=engine.url.render_as_string(hide_password=False))
    assert finalize_onboarding_job.execute_in_process(
        instance=instance, run_config=request.run_config, tags=request.tags, resources={"platform": platform}).success


def status(engine, partner_id: str) -> connections.Connection:
    with engine.begin() as conn:
        return connections.get_connection(conn, partner_id)


def test_progress_comes_from_months_landed_in_the_store(store_engine, instance):
    instance.add_dynamic_partitions("partners", ["done", "half"])
    pending(store_engine, "done", FIRST)
    pending(store_engine, "half", FIRST)
    land(store_engine, "done", months_in(FIRST, add_months(CURRENT, 1)))
    land(store_engine, "half", recent_months(TODAY, 12))

    result = tick(store_engine, instance)
    # "done" has every planned month in the store: the tick requests its finalize run and writes
    # nothing itself; the run records the months before its first transaction materialized-empty,
    # in Dagster's event log, and connects it.
    assert not instance.get_materialized_partitions(dg.AssetKey("xero_invoices"))
    assert status(store_engine, "done").status == "pending"
    [request] = finalizing(result)
    assert request.tags["xero/partner"] == "done" and request.run_key == "finalize:done:0"
    run_finalize(store_engine, instance, request)
    empty = {k for k in instance.get_materialized_partitions(dg.AssetKey("xero_invoices")) if k.endswith("|done")}
    assert empty == {str(partition_key("done", m)) for m in months_in(HISTORY_START, FIRST)}
    record = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("platform_payments"), asset_partitions=[min(empty)]),
        limit=5).records
    assert len(record) == 1 and record[0].asset_materialization.metadata["records_pulled"].value == 0
    assert not result.asset_events  # nothing left for the daemon to write one event at a time
    # A second tick has nothing to finalize; the same run again writes nothing twice.
    assert not finalizing(tick(store_engine, instance, result.cursor))
    run_finalize(store_engine, instance, request)
    assert len(instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("platform_payments"), asset_partitions=[min(empty)]),
        limit=5).records) == 1

    # No Dagster materialization of a landed month exists at all: the store alone says what has
    # landed.
    assert status(store_engine, "done").status == "connected"
    assert (status(store_engine, "done").months_done, status(store_engine, "done").months_total) == (31, 31)
    half = status(store_engine, "half")
    assert half.status == "pending" and (half.months_done, half.months_total) == (12, 31)
    requests = by_partner(result)
    assert set(requests) == {"half"}
    tags = requests["half"].tags
    assert int(tags["dagster/priority"]) == HISTORY_PRIORITY
    assert tags["dagster/asset_partition_range_start"].startswith(f"{FIRST:%Y-%m-%d}|")
    assert result.dynamic_partitions_requests == []  # both partitions exist


def test_a_new_partner_gets_its_partition_and_the_recent_months_first(store_engine, instance):
    pending(store_engine, "fresh")
    result = tick(store_engine, instance)
    assert [list(r.partition_keys) for r in result.dynamic_partitions_requests] == [["fresh"]]
    request = by_partner(result)["fresh"]
    assert int(request.tags["dagster/priority"]) == RECENT_PRIORITY
    assert request.run_key == f"onboard:fresh:recent:{min(recent_months(TODAY, 12)):%Y-%m}:{CURRENT:%Y-%m}:0"


def test_ticks_take_bounded_slices_round_robin_so_nobody_starves(store_engine, instance, monkeypatch):
    monkeypatch.setattr(sensor_module, "PARTNERS_PER_TICK", 2)
    names = ["p1", "p2", "p3", "p4", "p5"]
    instance.add_dynamic_partitions("partners", names)
    for name in names:
        pending(store_engine, name)

    seen, cursor = [], None
    for _ in range(3):
        result = tick(store_engine, instance, cursor)
        assert len(result.run_requests) == 2
        seen.append(sorted(by_partner(result)))
        cursor = result.cursor

    assert seen == [["p1", "p2"], ["p3", "p4"], ["p1", "p5"]]  # the third tick wraps around
    assert cursor == "p1"


def test_in_flight_runs_and_spent_attempts_hold_back_only_their_partner(store_engine, instance):
    instance.add_dynamic_partitions("partners", ["busy", "tired", "free"])
    for name in ("busy", "tired", "free"):
        pending(store_engine, name)
    first = by_partner(tick(store_engine, instance))
    instance.add_run(dg.DagsterRun(job_name="__ASSET_JOB", run_id=str(uuid.uuid4()),
                                   status=dg.DagsterRunStatus.STARTED, tags=first["busy"].tags))
    for _ in range(sensor_module.MAX_ATTEMPTS):
        instance.add_run(dg.DagsterRun(job_name="__ASSET_JOB", run_id=str(uuid.uuid4()),
                                       status=dg.DagsterRunStatus.FAILURE, tags=first["tired"].tags))

    again = by_partner(tick(store_engine, instance))

    assert set(again) == {"free"}


def test_landing_a_month_twice_keeps_one_row(store_engine):
    pending(store_engine, "acme")
    land(store_engine, "acme", [CURRENT, CURRENT, add_months(CURRENT, -1)])
    land(store_engine, "acme", [CURRENT])
    with store_engine.begin() as conn:
        rows = conn.execute(sa.select(partner_months.c.month).where(partner_months.c.partner_id == "acme")).all()
    assert sorted(r.month for r in rows) == [add_months(CURRENT, -1), CURRENT]


def test_a_tick_requests_a_bounded_number_of_empty_months_and_the_next_goes_on(store_engine, instance,
                                                                               monkeypatch):
    """Many partners completing together (a go-live): a tick requests finalize runs for at most
    EMPTY_EVENTS_PER_TICK empty months, which connect the partners it finished; the next tick
    requests the rest, and nobody's months are written twice."""
    per_partner = 7 * len(months_in(HISTORY_START, FIRST))  # seven partner x month assets
    monkeypatch.setattr(sensor_module, "EMPTY_EVENTS_PER_TICK", per_partner)
    instance.add_dynamic_partitions("partners", ["a", "b"])
    for partner_id in ("a", "b"):
        pending(store_engine, partner_id, FIRST)
        land(store_engine, partner_id, months_in(FIRST, add_months(CURRENT, 1)))

    first = tick(store_engine, instance)
    assert [r.tags["xero/partner"] for r in finalizing(first)] == ["a"]
    for request in finalizing(first):
        run_finalize(store_engine, instance, request)
    assert [status(store_engine, p).status for p in ("a", "b")] == ["connected", "pending"]
    second = tick(store_engine, instance, first.cursor)
    assert [r.tags["xero/partner"] for r in finalizing(second)] == ["b"]
    for request in finalizing(second):
        run_finalize(store_engine, instance, request)
    assert [status(store_engine, p).status for p in ("a", "b")] == ["connected", "connected"]
    first_empty = str(partition_key("a", HISTORY_START))
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("xero_contacts"), asset_partitions=[first_empty]),
        limit=5).records
    assert len(records) == 1
    for partner_id in ("a", "b"):
        done = {k for k in instance.get_materialized_partitions(dg.AssetKey("platform_invoices"))
                if k.endswith(f"|{partner_id}")}
        assert done == {str(partition_key(partner_id, m)) for m in months_in(HISTORY_START, FIRST)}


def test_a_partition_added_by_hand_for_an_unknown_partner_is_removed_never_onboarded(store_engine, instance):
    """Issue 20: the Materialize dialog's "Add a partition" created a partner that does not exist.
    A partner partition with no connection row is deleted by the next tick and gets no run."""
    pending(store_engine, "real", FIRST)
    instance.add_dynamic_partitions("partners", ["ghost", "real"])
    result = tick(store_engine, instance)
    assert "ghost" not in by_partner(result) and "real" in by_partner(result)
    deletes = [r for r in result.dynamic_partitions_requests if isinstance(r, dg.DeleteDynamicPartitionsRequest)]
    assert [(r.partitions_def_name, list(r.partition_keys)) for r in deletes] == [("partners", ["ghost"])]
