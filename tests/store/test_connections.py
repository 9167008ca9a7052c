"""Partners and Xero connections: lifecycle (SPEC 3), tenant uniqueness, plan, accounts."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from xero_sync.store import connections as cx
from xero_sync.store import outbox
from xero_sync.store.schema import invoices, partners

UTC = dt.timezone.utc


def _start(conn, partner="acme", tenant="t-1"):
    return cx.start_connection(conn, partner, tenant_id=tenant, tenant_name=f"Org {tenant}",
                               xero_connection_id=f"xc-{tenant}", token_set_id=None)


def _connect(conn, partner="acme", tenant="t-1"):
    cx.ensure_partner(conn, partner, partner.title())
    _start(conn, partner, tenant)
    cx.set_plan(conn, partner, dt.date(2023, 1, 1), 15)
    cx.record_progress(conn, partner, 15)
    return cx.mark_connected(conn, partner)


def test_ensure_partner_is_idempotent_and_starts_not_connected(store_engine):
    with store_engine.begin() as conn:
        cx.ensure_partner(conn, "acme", "Acme")
        cx.ensure_partner(conn, "acme", "Acme MSP")
        assert conn.execute(sa.select(partners.c.name)).scalars().all() == ["Acme MSP"]
        found = cx.get_connection(conn, "acme")
    assert found.status == "not_connected" and found.tenant_id is None
    assert found.created_at.tzinfo == UTC


def test_connect_flow_pending_then_connected(store_engine):
    with store_engine.begin() as conn:
        cx.ensure_partner(conn, "acme", "Acme")
        started = _start(conn)
        assert (started.status, started.tenant_id, started.xero_connection_id) == ("pending", "t-1", "xc-t-1")
        assert cx.connection_for_tenant(conn, "t-1").partner_id == "acme"
        cx.set_plan(conn, "acme", dt.date(2023, 1, 17), 15)
        progressed = cx.record_progress(conn, "acme", 20)
        assert (progressed.first_month, progressed.months_total, progressed.months_done) == (dt.date(2023, 1, 1), 15, 15)
        connected = cx.mark_connected(conn, "acme")
    assert connected.status == "connected" and connected.connected_at is not None


def test_tenant_connected_to_another_partner_is_refused(store_engine):
    with store_engine.begin() as conn:
        _connect(conn, "acme", "t-1")
        cx.ensure_partner(conn, "beta", "Beta")
        with pytest.raises(cx.TenantAlreadyConnected, match="already connected to partner 'acme'"):
            _start(conn, "beta", "t-1")
        assert cx.get_connection(conn, "beta").status == "not_connected"


def test_tenant_of_a_disconnected_partner_can_be_taken(store_engine):
    with store_engine.begin() as conn:
        _connect(conn, "acme", "t-1")
        cx.set_status(conn, "acme", "disconnected", "partner disconnected")
        cx.ensure_partner(conn, "beta", "Beta")
        assert _start(conn, "beta", "t-1").status == "pending"
        assert cx.get_connection(conn, "acme").tenant_id is None


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ([], "connected"),  # not_connected -> connected skips pending
        ([], "needs_reauth"),
        (["pending", "connected"], "not_connected"),
        (["pending", "disconnected"], "needs_reauth"),
    ],
)
def test_invalid_transitions_are_refused(store_engine, path, bad):
    with store_engine.begin() as conn:
        cx.ensure_partner(conn, "acme", "Acme")
        for status in path:
            cx.set_status(conn, "acme", status)
        before = cx.get_connection(conn, "acme").status
        with pytest.raises(cx.InvalidTransition, match=f"from {before} to {bad}"):
            cx.set_status(conn, "acme", bad)
        assert cx.get_connection(conn, "acme").status == before


def test_valid_transitions_and_detail(store_engine):
    with store_engine.begin() as conn:
        _connect(conn)
        lost = cx.set_status(conn, "acme", "needs_reauth", "Reconnect Xero: the refresh token was rejected")
        assert (lost.status, lost.status_detail) == ("needs_reauth", "Reconnect Xero: the refresh token was rejected")
        assert cx.set_status(conn, "acme", "needs_reauth", "again").status == "needs_reauth"  # same: no-op
        assert cx.set_status(conn, "acme", "disconnected").status == "disconnected"
        with pytest.raises(ValueError, match="unknown connection status"):
            cx.set_status(conn, "acme", "bogus")


def test_reconnect_same_tenant_after_sync_goes_back_to_connected(store_engine):
    with store_engine.begin() as conn:
        _connect(conn)
        cx.set_status(conn, "acme", "needs_reauth", "reauth")
        again = _start(conn)
        assert (again.status, again.status_detail, again.months_done) == ("connected", None, 15)


def test_reconnect_other_tenant_restarts_pending_with_fresh_plan(store_engine):
    with store_engine.begin() as conn:
        _connect(conn)
        cx.set_accounts(conn, "acme", payments_account_id="a", payments_account_is_bank=False, deposit_account_id="b")
        cx.set_status(conn, "acme", "disconnected")
        again = _start(conn, tenant="t-2")
        assert (again.status, again.tenant_id, again.months_total, again.payments_account_id) == ("pending", "t-2", 0, None)


def test_switching_tenant_while_connected_is_refused(store_engine):
    with store_engine.begin() as conn:
        _connect(conn)
        with pytest.raises(cx.InvalidTransition, match="disconnect before"):
            _start(conn, tenant="t-2")
        assert _start(conn).status == "connected"  # same tenant again: idempotent


def test_unknown_partner(store_engine):
    with store_engine.begin() as conn, pytest.raises(cx.UnknownPartner, match="'ghost'"):
        _start(conn, "ghost")


def test_list_connections_by_status(store_engine):
    with store_engine.begin() as conn:
        _connect(conn, "acme", "t-1")
        cx.ensure_partner(conn, "beta", "Beta")
        _start(conn, "beta", "t-2")
        cx.ensure_partner(conn, "gamma", "Gamma")
        assert [c.partner_id for c in cx.list_connections(conn)] == ["acme", "beta", "gamma"]
        assert [c.partner_id for c in cx.list_connections(conn, ["pending", "connected"])] == ["acme", "beta"]


def test_park_unpark_and_touch(store_engine):
    until = dt.datetime(2024, 3, 2, tzinfo=UTC)
    with store_engine.begin() as conn:
        _connect(conn)
        parked = cx.park(conn, "acme", until, "Xero daily limit reached")
        assert parked.parked_until == until and parked.is_parked(until - dt.timedelta(seconds=1))
        assert not parked.is_parked(until)
        assert cx.unpark(conn, "acme").parked_until is None
        cx.touch_last_sync(conn, "acme", until)
        assert cx.get_connection(conn, "acme").last_sync_at == until


def test_set_accounts_requires_connected_and_releases_waiting_writes(store_engine):
    with store_engine.begin() as conn:
        cx.ensure_partner(conn, "acme", "Acme")
        _start(conn)
        with pytest.raises(cx.InvalidTransition, match="once connected"):
            cx.set_accounts(conn, "acme", payments_account_id="a", payments_account_is_bank=True, deposit_account_id="b")
        cx.set_plan(conn, "acme", dt.date(2024, 1, 1), 1)
        cx.record_progress(conn, "acme", 1)
        cx.mark_connected(conn, "acme")
        inv = conn.execute(sa.insert(invoices).values(
            partner_id="acme", source="xero", xero_invoice_id="x1", currency="USD",
            issue_date=dt.date(2024, 1, 5), total_minor=1000, outstanding_minor=1000, status="unpaid",
        ).returning(invoices.c.invoice_id)).scalar_one()
        oid = outbox.record_payment(conn, payment_id="pay_1", partner_id="acme", invoice_id=inv,
                                    amount_minor=1000, fee_minor=0, currency="USD", paid_on=dt.date(2024, 1, 9))
        outbox.mark_waiting_accounts(conn, oid)
        assert outbox.pending(conn) == []
        done = cx.set_accounts(conn, "acme", payments_account_id="a", payments_account_is_bank=True,
                               deposit_account_id="b", fees_account_id="f")
        assert done.accounts_set_up and done.fees_account_id == "f" and done.income_account_id is None
        assert [r.outbox_id for r in outbox.pending(conn)] == [oid]
