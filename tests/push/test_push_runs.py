"""Push runs through Dagster (issue 9): one writer per tenant however a run is launched, pushes
only for connected partners, attempts capped visibly, and bad partner rows skipped by every
sensor. Real instance, real sensors (evaluate_tick), the sandbox over HTTP, SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterator

import dagster as dg
import pytest
import sqlalchemy as sa

from tests.dagster.conftest import World, make_world
from tests.push.test_push_dagster import _defs, _ready, _tick
from tests.push.world import pull_all
from xero_sync.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, XeroEndpoints
from xero_sync.store import connections, outbox
from xero_sync.reconciliation import diffs
from xero_sync.store.outbox import MAX_ATTEMPTS
from xero_sync.store.schema import outbox as outbox_table
from xero_sync.store.schema import partners, xero_connections
from xero_sync.store.token_cipher import TokenCipher
from xero_sync.push.engine import push_partner
from xero_sync.resources.platform import PlatformResource
from xero_sync.resources.xero import XeroResource
from xero_sync.sync import reconcile
from xero_sync.xero.client import XeroClient
from xero_sync.xero.oauth import OAuthApp
from xero_sync.xero.rate_budget import RateBudget
from tests.sandbox_fixtures import control

NO_WAIT = {"ops": {"push_outbox": {"config": {"lock_wait_seconds": 0.0}}}}


@pytest.fixture
def world(sandbox_factory, db_url, tmp_path, monkeypatch) -> Iterator[World]:
    server = sandbox_factory(seed=5, invoices=150, months=12, minute_limit=100_000)
    yield from make_world(server, db_url, tmp_path, monkeypatch)


def _run(world: World, defs: dg.Definitions, tags: dict | None = None):
    return defs.get_job_def("push_job").execute_in_process(
        partition_key=world.partner_id, instance=world.instance, tags=tags or {},
        run_config=NO_WAIT)


def _in_xero(world: World) -> Counter:
    return Counter(p.reference for p in world.org.payments.values())  # deleted ones included


def _diff(world: World):
    with world.engine.connect() as conn:
        connection = connections.get_connection(conn, world.partner_id)
    pull_all(world.engine, XeroResource(sandbox_url=world.server.base_url).client_for(connection),
             world.partner_id)
    with world.engine.connect() as conn:
        return reconcile.diff(diffs.load_reconcile_input(conn, world.partner_id, {}))


class HeldSleep:
    """A client `sleep` (public configuration) that moves the sandbox clock as a real wait would,
    then holds the caller until the test lets it go: a push stuck in a 200 s Retry-After."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.entered = threading.Event()
        self.go = threading.Event()
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.world.server.sandbox.clock.advance(seconds)
        self.entered.set()
        assert self.go.wait(30), "the test never released the held push"


def _client(world: World, sleep) -> XeroClient:
    with world.engine.connect() as conn:
        connection = connections.get_connection(conn, world.partner_id)
    clock = world.server.sandbox.clock
    resource = XeroResource(sandbox_url=world.server.base_url)
    store = resource.token_store()
    endpoints = XeroEndpoints.for_base(world.server.base_url)
    return XeroClient(endpoints=endpoints, tenant_id=world.tenant_id, token_store=store,
                      token_set_id=connection.token_set_id,
                      oauth_app=OAuthApp(endpoints, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
                      budget=RateBudget(world.tenant_id, clock=clock.time, sleep=sleep),
                      clock=clock.time, sleep=sleep)


def test_overlapping_push_runs_under_a_long_retry_after_write_each_payment_once(world: World) -> None:
    defs = _defs(world)
    paid = _ready(world, payments=20)
    world.instance.add_dynamic_partitions("partners", [world.partner_id])
    control(world.server, "POST", "/faults", {"tenant_id": world.tenant_id, "kind": "rate_limit",
                                             "count": 1, "retry_after": 50, "method": "PUT",
                                             "path_prefix": "/Payments"})
    held = HeldSleep(world)
    result: dict = {}
    pusher_a = threading.Thread(target=lambda: result.update(
        a=push_partner(world.engine, _client(world, held), world.partner_id)), daemon=True)
    pusher_a.start()
    assert held.entered.wait(20), "push A never reached Xero's 429"

    # While A waits out Retry-After (holding its rows and the tenant lock), a new payment arrives,
    # the sensor launches a push, and someone launches one by hand (no tags at all).
    with world.engine.begin() as conn:
        inv = conn.execute(sa.text(
            "select invoice_id, outstanding_minor, currency from invoices where partner_id=:p and "
            "source='xero' and outstanding_minor > 100 and xero_status='AUTHORISED' "
            "order by invoice_id desc limit 1"), {"p": world.partner_id}).one()
        outbox.record_payment(conn, payment_id="pay_late", partner_id=world.partner_id,
                              invoice_id=inv.invoice_id, amount_minor=inv.outstanding_minor // 3,
                              fee_minor=0, currency=inv.currency, paid_on=dt.date(2026, 11, 10))
    tick = _tick(world, defs, None)
    assert len(tick.run_requests) == 1
    by_sensor = _run(world, defs, tick.run_requests[0].tags)
    by_hand = _run(world, defs)
    for run in (by_sensor, by_hand):
        assert run.success
        skipped = run.output_for_node("push_outbox")
        assert skipped == {}, skipped
    logs = [e.message for e in world.instance.all_logs(by_hand.run_id) if e.message]
    assert any("holds its lock" in m for m in logs), logs
    in_xero = _in_xero(world)
    assert not any(in_xero[p] for p in [*paid, "pay_late"]), "a second writer wrote while A held the tenant"
    with world.engine.connect() as conn:
        sending = conn.execute(sa.select(sa.func.count()).where(
            outbox_table.c.status == "sending")).scalar_one()
    assert sending == 20  # A's rows were never taken over while A was alive

    held.go.set()
    pusher_a.join(30)
    assert result["a"].written == 20 and held.waits == [50]
    # The late payment goes out with the next push (the sensor finds it stranded, or a new tick).
    assert _run(world, defs, tick.run_requests[0].tags).success

    in_xero = _in_xero(world)
    assert {p: in_xero[p] for p in [*paid, "pay_late"]} == {p: 1 for p in [*paid, "pay_late"]}
    diff = _diff(world)
    assert diff.empty, diff.to_string()


def _set_status(world: World, status: str, **extra) -> None:
    with world.engine.begin() as conn:
        conn.execute(sa.update(xero_connections)
                     .where(xero_connections.c.partner_id == world.partner_id)
                     .values(status=status, **extra))


@pytest.mark.parametrize("state", ["disconnected", "needs_reauth", "parked"])
def test_finding_5_partners_without_a_working_connection_get_no_push_runs(world: World, state: str) -> None:
    defs = _defs(world)
    paid = _ready(world, payments=3)
    world.instance.add_dynamic_partitions("partners", [world.partner_id])
    if state == "parked":
        _set_status(world, "connected", parked_until=dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=3))
    else:
        _set_status(world, state)

    cursor = None
    for _ in range(3):  # tick after tick: no run, the rows wait visibly, attempts do not rise
        tick = _tick(world, defs, cursor)
        assert tick.run_requests == []
        cursor = tick.cursor
    with world.engine.connect() as conn:
        rows = outbox.pending(conn, partner_id=world.partner_id)
    assert len(rows) == 3 and all(r.attempts == 0 for r in rows)

    _set_status(world, "connected", parked_until=None)  # the connection is back
    tick = _tick(world, defs, None)
    assert len(tick.run_requests) == 1
    assert _run(world, defs, tick.run_requests[0].tags).success
    assert all(_in_xero(world)[p] == 1 for p in paid)


def test_attempts_are_capped_with_a_visible_state(world: World) -> None:
    _ready(world, payments=2)
    with world.engine.begin() as conn:
        conn.execute(sa.update(outbox_table).values(status="unknown", attempts=MAX_ATTEMPTS,
                                                    error="answer lost", ever_unknown=True))
    report = push_partner(world.engine, _client(world, world.server.sandbox.clock.sleep),
                          world.partner_id)
    assert report.held == 2 and report.calls == 0
    with world.engine.connect() as conn:
        rows = conn.execute(sa.select(outbox_table.c.status, outbox_table.c.error)).all()
    assert {r.status for r in rows} == {"held"}
    assert all(f"sent {MAX_ATTEMPTS} times" in r.error for r in rows)
    defs = _defs(world)
    world.instance.add_dynamic_partitions("partners", [world.partner_id])
    assert _tick(world, defs, None).run_requests == []  # held rows launch nothing

    # A person checked Xero: one row is resumed (settled again, look-up first), one cancelled.
    from xero_sync.commands.cli import main

    url = world.engine.url.render_as_string(hide_password=False)
    with world.engine.connect() as conn:
        resumed, cancelled = conn.execute(sa.select(outbox_table.c.outbox_id).order_by("outbox_id")).scalars()
    assert main(["outbox", "--database-url", url, "resume", str(resumed), "--note", "not in Xero"]) == 0
    assert main(["outbox", "--database-url", url, "cancel", str(cancelled), "--note", "paid by hand"]) == 0
    assert main(["outbox", "--database-url", url, "resume", str(cancelled), "--note", "again"]) == 2
    with world.engine.connect() as conn:
        rows = {r.outbox_id: r for r in conn.execute(sa.select(outbox_table))}
    assert (rows[resumed].status, rows[resumed].attempts, rows[resumed].error) == ("unknown", 0, "resumed: not in Xero")
    assert rows[cancelled].status == "cancelled"
    world.server.sandbox.clock.advance(3600)  # long past any original's flight and read lag
    push_partner(world.engine, _client(world, world.server.sandbox.clock.sleep), world.partner_id)
    in_xero = _in_xero(world)
    assert in_xero[rows[resumed].reference] == 1 and in_xero[rows[cancelled].reference] == 0


def test_finding_6_a_bad_partner_row_is_skipped_by_every_sensor(world: World) -> None:
    from xero_sync.sensors.onboarding import new_connection_sensor
    from xero_sync.sensors.webhooks import xero_webhook_sensor
    from xero_sync.store.schema import webhook_events

    defs = _defs(world)
    _ready(world, payments=2)
    world.instance.add_dynamic_partitions("partners", [world.partner_id])
    with world.engine.begin() as conn:  # a row written before ids were validated
        conn.execute(sa.insert(partners).values(partner_id="evil|x", name="evil"))
        conn.execute(sa.insert(xero_connections).values(partner_id="evil|x", status="pending",
                                                        tenant_id="t-evil"))
        conn.execute(sa.insert(outbox_table).values(
            partner_id="evil|x", kind="payment", subject_id="p1", idempotency_key="k-evil",
            reference="p1", payload={}, status="pending"))
        conn.execute(sa.insert(webhook_events).values(
            tenant_id="t-evil", category="INVOICE", event_type="UPDATE", resource_id="r",
            event_date=dt.datetime.now(dt.timezone.utc)))
        # a good partner still onboarding
        conn.execute(sa.update(xero_connections).where(
            xero_connections.c.partner_id == world.partner_id).values(status="pending"))
    resources = {"platform": PlatformResource(database_url=world.db_url)}

    with dg.build_sensor_context(instance=world.instance, definitions=defs, resources=resources) as ctx:
        onboarding = new_connection_sensor(ctx)
    assert [r.tags["xero/partner"] for r in onboarding.run_requests] == [world.partner_id]
    _set_status(world, "connected")
    push_tick = _tick(world, defs, None)
    assert [r.partition_key for r in push_tick.run_requests] == [world.partner_id]
    with dg.build_sensor_context(instance=world.instance, definitions=defs, resources=resources) as ctx:
        hooks = xero_webhook_sensor(ctx)
    assert hooks.run_requests == []


def test_finding_6_invalid_partner_ids_are_refused_where_partners_are_created(world: World) -> None:
    from xero_sync.commands.cli import main
    from xero_sync.connect.flow import ConnectError, confirm
    from xero_sync.xero.oauth import Connection as XeroConnection
    from xero_sync.core.tokens import TokenSet

    assert main(["connect", "--sandbox", "--partner", "evil|x"]) != 0
    with pytest.raises(ConnectError, match="evil"):
        confirm(world.engine, TokenCipher(TokenCipher.generate_key()), partner_id="evil|x",
                partner_name="evil", token_set=TokenSet("a", "r", dt.datetime.now(dt.timezone.utc), ""),
                organisation=XeroConnection("id", world.tenant_id, "Org", "ORGANISATION", None))
    with world.engine.connect() as conn:
        assert conn.execute(sa.select(partners.c.partner_id)
                            .where(partners.c.partner_id == "evil|x")).first() is None


def test_a_pull_run_for_a_tenant_another_run_holds_fails_cleanly_naming_the_holder(
        world: World, monkeypatch) -> None:
    from xero_sync.connect import refusals
    from xero_sync.store.tenant_lock import acquire

    _set_status(world, "connected")
    world.instance.add_dynamic_partitions("partners", [world.partner_id])
    monkeypatch.setattr(refusals, "PULL_LOCK_WAIT_SECONDS", 0.0)
    calls = world.calls()
    holder = acquire(world.engine, world.tenant_id, "push of partner demo-msp (test)")
    try:
        result = world.defs.get_job_def("incremental_sync_job").execute_in_process(
            partition_key=world.partner_id, instance=world.instance, raise_on_error=False)
    finally:
        holder.release()
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "holds its lock" in failure.event_specific_data.error.message
    assert "push of partner demo-msp (test)" in failure.event_specific_data.error.message
    assert world.calls() == calls  # not one Xero call while another run held the tenant

    again = world.defs.get_job_def("incremental_sync_job").execute_in_process(
        partition_key=world.partner_id, instance=world.instance)
    assert again.success
