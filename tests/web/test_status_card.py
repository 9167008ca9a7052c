"""The Xero module card: status labels, progress, last sync, and what needs the partner."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from xero_sync.store import connections
from xero_sync.store.schema import customers, invoices
from xero_sync.store.token_store import REAUTH_DETAIL, mark_needs_reauth


def test_pending_card_shows_progress_and_refreshes_itself(web):
    client = web.client("acme")
    web.connect(client)
    with web.engine.begin() as conn:
        connections.set_plan(conn, "acme", dt.date(2025, 6, 1), 18)
        connections.record_progress(conn, "acme", 12)
    page = client.get("/integrations").text
    assert "12 of 18 months synced" in page and "(last 12 months first, then history)" in page
    assert '<meta http-equiv="refresh"' in page
    assert 'id="set-up-accounts"' not in page and 'id="disconnect"' in page


def test_connected_card_shows_last_sync_limits_and_flags(web):
    client = web.client("acme")
    web.connect(client)
    until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=5)
    with web.engine.begin() as conn:
        connections.mark_connected(conn, "acme")
        connections.touch_last_sync(conn, "acme", dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.timezone.utc))
        connections.park(conn, "acme", until, "Xero's daily API limit was reached for your organisation.")
        ids = []
        for i, flagged in enumerate((True, True, False)):
            ids.append(conn.execute(sa.insert(customers).values(
                partner_id="acme", source="xero", xero_contact_id=f"c{i}", name=f"C{i}",
                deleted_in_xero=flagged)).inserted_primary_key[0])
        for i, (flagged, archived) in enumerate(((True, False), (True, True), (False, False))):
            conn.execute(sa.insert(invoices).values(
                partner_id="acme", source="xero", xero_invoice_id=f"i{i}", customer_id=ids[0], currency="USD",
                issue_date=dt.date(2026, 11, 1), total_minor=100, outstanding_minor=100, status="unpaid",
                deleted_in_xero=flagged, archived=archived))
    page = " ".join(client.get("/integrations").text.split())  # as a reader sees it
    assert 'id="xero-status">Connected<' in page and '<meta http-equiv="refresh"' not in page
    assert "Last sync: 2026-11-20 09:30 UTC" in page
    assert "daily API limit" in page and f"resumes after {until:%Y-%m-%d %H:%M} UTC" in page
    assert "awaiting manual archiving: 1 invoice(s), 2 customer(s)" in page
    assert 'id="set-up-accounts"' in page and "Set up accounts so payments" in page


def test_needs_reauth_card_offers_connect(web):
    client = web.client("acme")
    web.connect(client)
    mark_needs_reauth(web.engine, web.connection("acme").token_set_id, REAUTH_DETAIL)
    page = client.get("/integrations").text
    assert "Needs re-authorisation" in page and REAUTH_DETAIL.split(":")[0] in page
    assert 'id="connect"' in page and 'id="disconnect"' not in page
    # Reconnecting the same organisation brings it back.
    web.connect(client)
    assert web.connection("acme").status in {"pending", "connected"}
