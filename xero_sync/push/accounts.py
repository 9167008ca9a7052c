"""The partner's account setup for one push, and the one clearing contact stand-alone deposits and
payouts are booked against (found by name or created once with a fixed key)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from xero_sync.store.connections import Connection
from xero_sync.store.schema import xero_connections
from xero_sync.sync import ledger
from xero_sync.sync.ledger import AccountSetup
from xero_sync.xero.client import XeroClient

CLEARING_CONTACT_NAME = "Alternative payments (clearing)"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def account_setup(engine: sa.Engine, client: XeroClient, connection: Connection, *,
                  needs_chart: bool) -> AccountSetup:
    """The partner's account setup as the ledger needs it (codes from the chart only when a
    write needs them, and the clearing contact)."""
    c = connection
    codes: dict[str, str | None] = {}
    contact_id = c.clearing_contact_id
    if needs_chart and c.accounts_set_up:
        chart = client.accounts().records
        codes = {a.account_id: a.code for a in chart}
        contact_id = contact_id or clearing_contact(engine, client, connection)
    return AccountSetup(
        payments_account_id=c.payments_account_id,
        payments_account_code=codes.get(c.payments_account_id or ""),
        payments_account_is_bank=c.payments_account_is_bank,
        deposit_account_id=c.deposit_account_id,
        fees_account_id=c.fees_account_id,
        fees_account_code=codes.get(c.fees_account_id or ""),
        income_account_id=c.income_account_id,
        income_account_code=codes.get(c.income_account_id or ""),
        clearing_contact_id=contact_id,
        fees_as_separate_spend=c.fees_as_spend,
    )


def clearing_contact(engine: sa.Engine, client: XeroClient, connection: Connection) -> str:
    """The one contact stand-alone deposits and payouts are booked against: found by name or
    created once (deterministic key), then stored on the connection."""
    partner = connection.partner_id
    existing = [c for c in client.find_contacts(CLEARING_CONTACT_NAME)
                if c.status != "ARCHIVED"]
    contact_id = existing[0].contact_id if existing else client.create_contact(
        CLEARING_CONTACT_NAME, ledger.write_key(f"xs-{partner}-clearing-contact"))
    with engine.begin() as conn:
        conn.execute(
            sa.update(xero_connections)
            .where(xero_connections.c.partner_id == partner)
            .values(clearing_contact_id=contact_id, updated_at=_now())
        )
    return contact_id
