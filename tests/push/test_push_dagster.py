"""payment_outbox_sensor (evaluate_tick) and push_job against a real instance and the sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pytest
import sqlalchemy as sa

from tests.dagster.conftest import World, make_world
from tests.push.world import account_id, pull_all
from xero_sync.jobs.push import push_job
from xero_sync.core.money import from_minor
from xero_sync.store import connections, outbox
from xero_sync.events import api as events
from xero_sync.store.schema import invoices
from xero_sync.resources.platform import PlatformResource
from xero_sync.resources.xero import XeroResource
from xero_sync.sensors.outbox import payment_outbox_sensor
from tests.push.world import PAID_ON


@pytest.fixture
def world(sandbox_factory, db_url, tmp_path, monkeypatch) -> Iterator[World]:
    server = sandbox_factory(seed=5, invoices=150, months=12, minute_limit=100_000)
    yield from make_world(server, db_url, tmp_path, monkeypatch)


def _defs(world: World) -> dg.Definitions:
    return dg.Definitions(
        jobs=[push_job], sensors=[payment_outbox_sensor],
        resources={"platform": PlatformResource(database_url=world.db_url),
                   "xero": XeroResource(database_url=world.db_url, sandbox_url=world.server.base_url)},
    )


def _ready(world: World, payments: int) -> list[str]:
    """Pull, connect, set up accounts (non-bank payments account) and record payments."""
    with world.engine.begin() as conn:
        connection = connections.get_connection(conn, world.partner_id)
    pull_all(world.engine, XeroResource(sandbox_url=world.server.base_url).client_for(connection),
             world.partner_id)
    org = world.org
    with world.engine.begin() as conn:
        connections.mark_connected(conn, world.partner_id)
        connections.set_accounts(conn, world.partner_id,
                                 payments_account_id=account_id(org, "615"), payments_account_is_bank=False,
                                 deposit_account_id=account_id(org, "090"),
                                 fees_account_id=account_id(org, "404"),
                                 income_account_id=account_id(org, "200"))
        open_invoices = conn.execute(
            sa.select(invoices.c.invoice_id, invoices.c.outstanding_minor, invoices.c.currency)
            .where(invoices.c.partner_id == world.partner_id, invoices.c.outstanding_minor > 100,
                   invoices.c.xero_status == "AUTHORISED")
            .order_by(invoices.c.invoice_id).limit(payments)).all()
        ids = []
        for inv in open_invoices:
            pid = f"pay_{inv.invoice_id}"
            events.payment_taken(conn, partner_id=world.partner_id, payment_id=pid,
                                 invoice_id=inv.invoice_id,
                                 amount=from_minor(inv.outstanding_minor // 2, inv.currency),
                                 currency=inv.currency, paid_on=PAID_ON)
            ids.append(pid)
    return ids


def _tick(world: World, defs: dg.Definitions, cursor: str | None):
    with dg.build_sensor_context(
        instance=world.instance, instance_ref=world.instance.get_ref(), definitions=defs,
        cursor=cursor, resources={"platform": PlatformResource(database_url=world.db_url)},
    ) as context:
        return payment_outbox_sensor.evaluate_tick(context)


def test_sensor_requests_one_push_per_partner_and_the_run_writes_them(world: World) -> None:
    defs = _defs(world)
    paid = _ready(world, payments=20)
    world.instance.add_dynamic_partitions("partners", [world.partner_id])

    first = _tick(world, defs, None)

    assert len(first.run_requests) == 1
    request = first.run_requests[0]
    with world.engine.connect() as conn:
        max_id = max(r.outbox_id for r in outbox.pending(conn, partner_id=world.partner_id))
    assert request.partition_key == world.partner_id
    assert request.run_key == f"push:{world.partner_id}:{max_id}"
    assert request.tags["xero/tenant"] == world.tenant_id
    assert request.tags["xero/phase"] == "push"
    assert first.cursor == world.partner_id  # round-robin: the last partner looked at

    result = defs.get_job_def("push_job").execute_in_process(
        partition_key=world.partner_id, instance=world.instance, tags=request.tags)

    assert result.success
    summary = result.output_for_node("push_outbox")
    assert summary["written"] == len(paid) and summary["rejected"] == 0
    references = {p.reference for p in world.org.payments.values()}
    assert set(paid) <= references
    # Nothing new: no request, cursor unchanged.
    again = _tick(world, defs, first.cursor)
    assert again.run_requests == [] and again.cursor == first.cursor


def test_sensor_re_requests_partners_with_unknown_outcomes(world: World) -> None:
    defs = _defs(world)
    _ready(world, payments=3)
    world.instance.add_dynamic_partitions("partners", [world.partner_id])
    first = _tick(world, defs, None)
    with world.engine.begin() as conn:
        row = outbox.pending(conn, partner_id=world.partner_id)[0]
        outbox.claim(conn, [row.outbox_id])
        outbox.mark_unknown(conn, row.outbox_id, "answer lost")

    second = _tick(world, defs, first.cursor)

    assert len(second.run_requests) == 1
    assert ":unknown:" in second.run_requests[0].run_key
    assert second.cursor == first.cursor


def test_sensor_skips_partners_that_are_not_partitions_yet(world: World) -> None:
    defs = _defs(world)
    _ready(world, payments=2)

    result = _tick(world, defs, None)

    assert result.run_requests == []


def test_pushes_released_by_set_up_accounts_go_on_the_next_tick(world: World) -> None:
    """Issue 8, finding 5: released rows used to wait until they were 5 minutes old."""
    from xero_sync.commands.accounts import choose_accounts

    defs = _defs(world)
    paid = _ready(world, payments=2)
    with world.engine.begin() as conn:  # accounts not set up yet: the push parks the rows
        conn.execute(sa.update(connections.xero_connections).values(
            payments_account_id=None, deposit_account_id=None))
    world.instance.add_dynamic_partitions("partners", [world.partner_id])
    first = _tick(world, defs, None)
    assert len(first.run_requests) == 1
    result = defs.get_job_def("push_job").execute_in_process(
        partition_key=world.partner_id, instance=world.instance, tags=first.run_requests[0].tags)
    assert result.output_for_node("push_outbox")["waiting"] == 2
    assert _tick(world, defs, first.cursor).run_requests == []  # waiting: nothing to push

    with world.engine.connect() as conn:
        connection = connections.get_connection(conn, world.partner_id)
    client = XeroResource(database_url=world.db_url, sandbox_url=world.server.base_url).client_for(connection)
    _, released = choose_accounts(world.engine, client, world.partner_id,
                                  {"payments": "615", "deposit": "090"})
    assert released == 2

    after = _tick(world, defs, first.cursor)  # the very next tick, not 5 minutes later

    assert len(after.run_requests) == 1 and ":released:" in after.run_requests[0].run_key
    result = defs.get_job_def("push_job").execute_in_process(
        partition_key=world.partner_id, instance=world.instance, tags=after.run_requests[0].tags)
    assert result.output_for_node("push_outbox")["written"] == 2
    assert set(paid) <= {p.reference for p in world.org.payments.values()}
    assert _tick(world, defs, after.cursor).run_requests == []
