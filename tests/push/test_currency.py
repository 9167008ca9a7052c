"""Issue 17 item 5: money in the right currency. A CAD organisation taking USD and CAD payments
(common for Canadian MSPs), each through its own payout: the base currency is read from Xero
(GET /Organisation) and stored, the payments account is never checked by adding minor units of
different currencies, and a real difference is still caught. The real client over HTTP to the
sandbox (which books a USD payment in a CAD organisation at its CurrencyRate), SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.push.test_reconciliation_payouts import connected_world
from tests.push.world import PAID_ON, World
from tests.sandbox_fixtures import control
from xero_sync.store import connections
from xero_sync.events import api as events
from xero_sync.store.schema import invoices, outbox, xero_connections, xero_payments
from xero_sync.pulls.months import pull_months
from xero_sync.sync.month_slices import month_start


@pytest.fixture
def world(sandbox_factory, store_engine, monkeypatch, tmp_path) -> World:
    server = sandbox_factory(invoices=120, currency="CAD")
    return connected_world(server, store_engine, monkeypatch, tmp_path, payments_code="615")


def _usd_invoice(world: World) -> int:
    """An approved USD invoice in the CAD organisation, pulled into Alternative."""
    contact = next(c for c in world.org.contacts.values() if c.is_customer and c.status == "ACTIVE")
    created = world.org.create_invoice(
        contact_id=contact.contact_id, date=PAID_ON - dt.timedelta(days=5), due_date=PAID_ON + dt.timedelta(days=25),
        status="AUTHORISED",
        currency_code="USD", number="USD-0001",
        lines=[{"Description": "Services", "Quantity": 1, "UnitAmount": Decimal("500.00"), "AccountCode": "200"}])
    world.pull()
    with world.engine.connect() as conn:
        return conn.execute(sa.select(invoices.c.invoice_id).where(
            invoices.c.xero_invoice_id == created.invoice_id)).scalar_one()


def test_base_currency_is_read_at_connect_and_on_every_re_read(world: World):
    with world.engine.begin() as conn:  # as a fresh connection: nothing known yet
        conn.execute(sa.update(xero_connections).values(base_currency=None))
        connection = connections.get_connection(conn, world.partner_id)
    month = month_start(world.clock.now().date())
    pull_months(world.engine, world.client(), connection, [month])  # the first run after connect
    with world.engine.connect() as conn:
        connection = connections.get_connection(conn, world.partner_id)
    assert connection.base_currency == "CAD"
    world.org.currency = "USD"  # (Xero lets an organisation change it only before any transaction)
    pull_months(world.engine, world.client(), connection, [month])  # an ordinary onboarding run: not read
    with world.engine.connect() as conn:
        assert connections.get_connection(conn, world.partner_id).base_currency == "CAD"
    pull_months(world.engine, world.client(), connection, [month], read_organisation=True)  # the daily re-read
    with world.engine.connect() as conn:
        assert connections.get_connection(conn, world.partner_id).base_currency == "USD"


def test_a_cad_organisation_with_usd_and_cad_payments_through_one_payout_each(world: World):
    assert world.org.currency == "CAD"
    usd_invoice = _usd_invoice(world)
    cad = next(i for i in world.open_invoices() if i.currency == "CAD")
    with world.engine.begin() as conn:
        events.payment_taken(conn, partner_id=world.partner_id, payment_id="pay_cad", invoice_id=cad.invoice_id,
                             amount=Decimal("120.00"), currency="CAD", paid_on=PAID_ON)
        events.payment_taken(conn, partner_id=world.partner_id, payment_id="pay_usd", invoice_id=usd_invoice,
                             amount=Decimal("200.00"), currency="USD", paid_on=PAID_ON)
    world.push_until_quiet()
    # Xero booked the USD payment at its rate: 200.00 USD is 273.97 CAD in the payments account,
    # and the landed payment carries that rate (the write's answer, landed by the push).
    (usd_payment,) = [p for p in world.org.payments.values() if p.reference == "pay_usd"]
    assert usd_payment.currency_rate == Decimal("0.730000")
    with world.engine.connect() as conn:
        rate = conn.execute(sa.select(xero_payments.c.currency_rate).where(
            xero_payments.c.payment_id == usd_payment.payment_id)).scalar_one()
    assert Decimal(rate) == Decimal("0.73")

    # Received, not paid out yet: the balance is checked in CAD, the USD payment at its rate.
    received = world.diff(as_of=PAID_ON)
    assert received.empty, received.to_dict("records")
    world.org.create_manual_journal(narration="by hand", date=PAID_ON, lines=[
        {"AccountCode": "615", "LineAmount": Decimal("-30.00"), "Description": "moved"},
        {"AccountCode": "404", "LineAmount": Decimal("30.00"), "Description": "moved"}])
    moved = world.diff(as_of=PAID_ON)
    (row,) = moved.loc[moved["kind"] == "payments_account_balance_mismatch"].itertuples()
    assert (row.currency, row.platform_minor - row.xero_minor, row.explained) == ("CAD", 3000, False)
    world.org.create_manual_journal(narration="put back", date=PAID_ON, lines=[
        {"AccountCode": "615", "LineAmount": Decimal("30.00"), "Description": "back"},
        {"AccountCode": "404", "LineAmount": Decimal("-30.00"), "Description": "back"}])

    # One payout each: the USD payout moves money out at a rate we do not read back, and the diff
    # says so plainly instead of comparing (no false difference).
    with world.engine.begin() as conn:
        events.payout_sent(conn, partner_id=world.partner_id, payout_id="po_cad", currency="CAD",
                           payment_ids=["pay_cad"], fees=Decimal("2.50"), paid_out_on=PAID_ON)
        events.payout_sent(conn, partner_id=world.partner_id, payout_id="po_usd", currency="USD",
                           payment_ids=["pay_usd"], fees=Decimal("4.00"), paid_out_on=PAID_ON)
    world.push_until_quiet()
    assert set(world.statuses()) == {"done"}, world.statuses()
    diff = world.diff(as_of=PAID_ON)
    assert not diff.loc[~diff["explained"].astype(bool)].to_dict("records")
    assert "payments_account_balance_mismatch" not in set(diff["kind"])
    (said,) = diff.loc[diff["kind"] == "payments_account_unverified"].itertuples()
    assert said.explained and said.action.startswith("review")
    assert "base currency (CAD)" in said.detail and "payouts in USD" in said.detail

    # A real difference is still caught: our CAD payment deleted in Xero.
    with world.engine.connect() as conn:
        ids = conn.execute(sa.select(outbox.c.xero_ids).where(outbox.c.subject_id == "pay_cad")).scalar_one()
    control(world.server, "DELETE", f"/tenants/{world.tenant_id}/payments/{ids['PaymentID']}")
    after = world.diff(as_of=PAID_ON)
    missing = after.loc[after["kind"] == "payment_missing_in_xero"]
    assert list(missing["subject_id"]) == ["pay_cad"] and not missing["explained"].any()


def test_a_single_currency_organisation_is_still_checked_in_its_currency(world: World):
    cad = [i for i in world.open_invoices() if i.currency == "CAD"][:2]
    with world.engine.begin() as conn:
        for n, inv in enumerate(cad):
            events.payment_taken(conn, partner_id=world.partner_id, payment_id=f"pay_{n}",
                                 invoice_id=inv.invoice_id, amount=Decimal("50.00"), currency="CAD",
                                 paid_on=PAID_ON)
    world.push_until_quiet()
    clean = world.diff(as_of=PAID_ON)
    assert clean.empty, clean.to_dict("records")
    # Someone moves 30.00 out of the payments account in Xero by hand (a journal we never made).
    world.org.create_manual_journal(narration="by hand", date=PAID_ON, lines=[
        {"AccountCode": "615", "LineAmount": Decimal("-30.00"), "Description": "moved"},
        {"AccountCode": "404", "LineAmount": Decimal("30.00"), "Description": "moved"}])
    after = world.diff(as_of=PAID_ON)
    (row,) = after.loc[after["kind"] == "payments_account_balance_mismatch"].itertuples()
    assert (row.currency, row.platform_minor - row.xero_minor, row.explained) == ("CAD", 3000, False)
