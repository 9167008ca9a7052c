"""The Xero module card: what the partner sees about their connection, read from the platform store."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from xero_sync.store import connections
from xero_sync.store import health as health_store
from xero_sync.store.schema import customers, invoices, outbox
from xero_sync.store.states import ConnectionStatus, ConnectionStatus as C
from xero_sync.store.states import OutboxStatus

STATUS_LABELS: dict[str, str] = {
    C.NOT_CONNECTED: "Not connected",
    C.PENDING: "Pending",
    C.CONNECTED: "Connected",
    C.NEEDS_REAUTH: "Needs re-authorisation",
    C.DISCONNECTED: "Disconnected",
}
CAN_CONNECT = frozenset({C.NOT_CONNECTED, C.DISCONNECTED, C.NEEDS_REAUTH})
CAN_DISCONNECT = frozenset({C.PENDING, C.CONNECTED})


@dataclass(frozen=True)
class XeroCard:
    status: str
    label: str
    tenant_name: str | None
    months_done: int
    months_total: int
    last_sync_at: dt.datetime | None
    problem: str | None  # status_detail: what the partner must do, in words
    parked_until: dt.datetime | None  # daily limit reached: no Xero calls before this
    flagged_invoices: int  # deleted/voided in Xero, not archived here yet
    flagged_customers: int
    waiting_pushes: int  # payments/payouts waiting for Set Up Accounts
    accounts_set_up: bool
    # The last failed sync or push run (cleared when the same job later succeeds).
    last_failure: health_store.RunFailure | None = None

    @property
    def can_connect(self) -> bool:
        return self.status in CAN_CONNECT

    @property
    def can_set_up_accounts(self) -> bool:
        return self.status == ConnectionStatus.CONNECTED

    @property
    def can_disconnect(self) -> bool:
        return self.status in CAN_DISCONNECT

    @property
    def progress(self) -> str | None:
        if self.months_total <= 0:
            return None
        return f"{self.months_done} of {self.months_total} months synced"


def _count(conn: sa.Connection, query: sa.Select) -> int:
    return int(conn.execute(query).scalar_one())


def load_card(conn: sa.Connection, partner_id: str, now: dt.datetime | None = None) -> XeroCard:
    now = now or dt.datetime.now(dt.timezone.utc)
    c = connections.get_connection(conn, partner_id)
    if c is None:
        return XeroCard(C.NOT_CONNECTED.value, STATUS_LABELS[C.NOT_CONNECTED], None, 0, 0, None, None, None,
                        0, 0, 0, False)
    flagged = lambda table: _count(conn, sa.select(sa.func.count()).select_from(table).where(  # noqa: E731
        table.c.partner_id == partner_id, table.c.deleted_in_xero.is_(True), table.c.archived.is_(False)))
    waiting = _count(conn, sa.select(sa.func.count()).select_from(outbox).where(
        outbox.c.partner_id == partner_id, outbox.c.status == OutboxStatus.WAITING_ACCOUNTS))
    return XeroCard(
        status=c.status,
        label=STATUS_LABELS.get(c.status, c.status),
        tenant_name=c.tenant_name,
        months_done=c.months_done,
        months_total=c.months_total,
        last_sync_at=c.last_sync_at,
        problem=c.status_detail,
        parked_until=c.parked_until if c.is_parked(now) else None,
        flagged_invoices=flagged(invoices),
        flagged_customers=flagged(customers),
        waiting_pushes=waiting,
        accounts_set_up=c.accounts_set_up,
        last_failure=health_store.last_failure(conn, partner_id),
    )
