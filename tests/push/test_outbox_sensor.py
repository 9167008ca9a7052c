"""payment_outbox_sensor on its own: a bounded round-robin slice of partners with rows to write,
run keys that name the work (so asking again is deduplicated), stranded rows re-requested."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest
import sqlalchemy as sa

import xero_sync.sensors.outbox as sensor_module
from xero_sync.jobs.push import push_job
from xero_sync.store import connections
from xero_sync.store.schema import outbox
from xero_sync.resources.platform import PlatformResource
from xero_sync.push.settle import Timing
from xero_sync.resources.xero import XeroResource
from xero_sync.sensors.outbox import payment_outbox_sensor
from xero_sync.xero.retry import RetryPolicy

NAMES = ["p1", "p2", "p3", "p4", "p5"]


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("partners", NAMES)
        yield instance


@pytest.fixture
def store(store_engine):
    with store_engine.begin() as conn:
        for name in NAMES:
            connections.ensure_partner(conn, name, name.title())
            connections.start_connection(conn, name, tenant_id=f"t-{name}", tenant_name=name,
                                         xero_connection_id=f"c-{name}", token_set_id=None)
            connections.mark_connected(conn, name)
    return store_engine


def add_rows(engine, partner_id: str, n: int, status: str = "pending", age: dt.timedelta = dt.timedelta()) -> list[int]:
    when = dt.datetime.now(dt.timezone.utc) - age
    with engine.begin() as conn:
        start = conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one()
        return [
            conn.execute(sa.insert(outbox).values(
                partner_id=partner_id, kind="payment", subject_id=f"pay_{partner_id}_{start + i}",
                idempotency_key=f"key-{partner_id}-{start + i}", reference=f"ref-{start + i}", payload={},
                status=status, created_at=when, updated_at=when,
            )).inserted_primary_key[0]
            for i in range(n)
        ]


def tick(engine, instance, cursor: str | None = None) -> dg.SensorResult:
    platform = PlatformResource(database_url=engine.url.render_as_string(hide_password=False))
    defs = dg.Definitions(jobs=[push_job], sensors=[payment_outbox_sensor], resources={"platform": platform, "xero": XeroResource()})
    with dg.build_sensor_context(instance=instance, instance_ref=instance.get_ref(), cursor=cursor, definitions=defs,
                                 resources={"platform": platform}) as context:
        return payment_outbox_sensor.evaluate_tick(context)


def test_ticks_take_bounded_slices_round_robin_so_nobody_starves(store, instance, monkeypatch):
    monkeypatch.setattr(sensor_module, "MAX_PARTNERS_PER_TICK", 2)
    for name in NAMES:
        add_rows(store, name, 2)
    seen, cursor = [], None
    for _ in range(3):
        result = tick(store, instance, cursor)
        seen.append(sorted(r.partition_key for r in result.run_requests))
        cursor = result.cursor
    assert seen == [["p1", "p2"], ["p3", "p4"], ["p1", "p5"]]  # the third tick wraps around


def test_run_keys_name_the_work_so_asking_again_is_deduplicated(store, instance):
    ids = add_rows(store, "p1", 3)
    add_rows(store, "p2", 2, status="done")  # nothing to write
    first = tick(store, instance)
    assert [r.run_key for r in first.run_requests] == [f"push:p1:{ids[-1]}"]
    again = tick(store, instance, first.cursor)
    assert [r.run_key for r in again.run_requests] == [f"push:p1:{ids[-1]}"]  # same key: no new run
    newer = add_rows(store, "p1", 1)
    assert [r.run_key for r in tick(store, instance, again.cursor).run_requests] == [f"push:p1:{newer[0]}"]


def test_rows_left_pending_get_a_new_run_per_bucket(store, instance):
    ids = add_rows(store, "p3", 2, age=sensor_module.STRANDED_AFTER * 2)
    (request,) = tick(store, instance).run_requests
    assert request.run_key.startswith(f"push:p3:{ids[-1]}:stranded:")


def _set(engine, outbox_id: int, **values) -> None:
    with engine.begin() as conn:
        conn.execute(sa.update(outbox).where(outbox.c.outbox_id == outbox_id).values(**values))


def test_an_unknown_row_that_must_wait_gets_a_run_only_once_it_becomes_due(store, instance):
    """Issue 21: a row past Xero's key window but possibly still in flight waits (push/settle.py).
    Each waiting push bumped its updated_at, which was in the run key: a no-op push_job every tick
    for ~13 minutes. Now the wait asks for no run; the row's look-up time asks for exactly one."""
    now = dt.datetime.now(dt.timezone.utc)
    bounds = Timing(in_flight_seconds=RetryPolicy(None, None).longest_write_seconds(5 + 60))  # the client's
    sent = now - dt.timedelta(seconds=bounds.key_window_seconds + 60)  # key forgotten, maybe in flight
    (oid,) = add_rows(store, "p1", 1)
    _set(store, oid, status="unknown", ever_unknown=True, first_sent_at=sent, sent_at=sent,
         request_key="rk-1", updated_at=now - dt.timedelta(seconds=5))
    assert tick(store, instance).run_requests == []
    # A push that found it must wait releases it again (updated_at moves): still nothing to run.
    _set(store, oid, updated_at=now)
    assert tick(store, instance).run_requests == []

    # Due for its look-up: one run (once the last push's touch is UNKNOWN_RETRY_AFTER old), and
    # the same key until that run changes the row.
    due = now - dt.timedelta(seconds=bounds.in_flight_seconds + bounds.read_lag_seconds + 1)
    _set(store, oid, first_sent_at=due, sent_at=due)
    assert tick(store, instance).run_requests == []
    _set(store, oid, updated_at=now - sensor_module.UNKNOWN_RETRY_AFTER)
    (request,) = tick(store, instance).run_requests
    assert ":unknown:" in request.run_key
    assert [r.run_key for r in tick(store, instance).run_requests] == [request.run_key]


def test_an_unknown_row_inside_the_key_window_is_re_sent_every_30_seconds_not_every_tick(store, instance):
    """Ticks come every 5 s now; a row Xero keeps answering 409 for must not spend its sends faster
    than with the former 30-second interval."""
    now = dt.datetime.now(dt.timezone.utc)
    (oid,) = add_rows(store, "p2", 1)
    _set(store, oid, status="unknown", ever_unknown=True, first_sent_at=now - dt.timedelta(seconds=40),
         sent_at=now - dt.timedelta(seconds=40), request_key="rk-2", updated_at=now - dt.timedelta(seconds=5))
    assert tick(store, instance).run_requests == []  # touched by a push 5 s ago
    _set(store, oid, updated_at=now - sensor_module.UNKNOWN_RETRY_AFTER)
    (request,) = tick(store, instance).run_requests
    assert request.partition_key == "p2" and ":unknown:" in request.run_key


def test_a_payment_waits_for_one_daemon_loop_at_most_and_its_run_starts_no_step_process():
    """Issue 20: payment -> Xero p50 17.7 s, max 30.4 s, 0-30 s of it waiting for this sensor's
    30-second interval, then a step process to start. Now every daemon loop (5 s) ticks it, and
    push_job runs its one op in the run worker (bench/push_daemon.py measures the whole path)."""
    assert payment_outbox_sensor.minimum_interval_seconds < 5
    assert push_job.executor_def is dg.in_process_executor
