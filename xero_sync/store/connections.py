"""Partners and their Xero connection (SPEC section 3): the lifecycle, plan, progress, accounts.

Every function takes an open `sa.Connection`; the caller owns the transaction, so a status change
and whatever caused it commit together.

Lifecycle: not_connected -> pending -> connected; needs_reauth | disconnected from a connected
state (pending or connected: the tenant is linked in both); back to pending (or connected) on
reconnect. Setting the status it already has is a no-op (re-running a step changes nothing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, fields

import sqlalchemy as sa

from xero_sync.core import ids
from xero_sync.store import shards
from xero_sync.store.schema import partners, xero_connections, xero_token_sets
from xero_sync.store.states import ConnectionStatus
from xero_sync.config import Settings

_S = ConnectionStatus
LINKED = frozenset({_S.PENDING, _S.CONNECTED})
LOST = frozenset({_S.NEEDS_REAUTH, _S.DISCONNECTED})
_TRANSITIONS: dict[str, frozenset[str]] = {
    _S.NOT_CONNECTED: frozenset({_S.PENDING}),
    _S.PENDING: frozenset({_S.CONNECTED, _S.NEEDS_REAUTH, _S.DISCONNECTED}),
    _S.CONNECTED: frozenset({_S.NEEDS_REAUTH, _S.DISCONNECTED}),
    # Reconnecting: a refreshed token set brings it back; a lapsed partner may also disconnect.
    _S.NEEDS_REAUTH: frozenset({_S.PENDING, _S.CONNECTED, _S.DISCONNECTED}),
    _S.DISCONNECTED: frozenset({_S.PENDING, _S.CONNECTED}),
}


class ConnectionLifecycleError(Exception):
    """Base for connection lifecycle errors (the message says what and for which partner)."""


class UnknownPartner(ConnectionLifecycleError, LookupError):
    pass


class TenantAlreadyConnected(ConnectionLifecycleError):
    pass


class InvalidTransition(ConnectionLifecycleError):
    pass


@dataclass(frozen=True, slots=True)
class Connection:
    """One partner's `xero_connections` row."""

    partner_id: str
    tenant_id: str | None
    tenant_name: str | None
    xero_connection_id: str | None
    token_set_id: int | None
    status: str
    status_detail: str | None
    parked_until: dt.datetime | None
    base_currency: str | None
    first_month: dt.date | None
    months_total: int
    months_done: int
    payments_account_id: str | None
    payments_account_is_bank: bool | None
    deposit_account_id: str | None
    fees_account_id: str | None
    income_account_id: str | None
    clearing_contact_id: str | None
    fees_as_spend: bool
    connected_at: dt.datetime | None
    last_sync_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    shard: int = 0

    @property
    def accounts_set_up(self) -> bool:
        return bool(self.payments_account_id and self.deposit_account_id)

    @property
    def initial_sync_done(self) -> bool:
        return self.first_month is not None and self.months_done >= self.months_total

    def is_parked(self, now: dt.datetime) -> bool:
        return self.parked_until is not None and self.parked_until > now


_COLUMNS = [xero_connections.c[f.name] for f in fields(Connection)]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _row_to_connection(row: sa.Row) -> Connection:
    return Connection(**row._mapping)


def ensure_partner(conn: sa.Connection, partner_id: str, name: str, *,
                   shard_count: int | None = None) -> None:
    """Create the partner (and its not_connected connection row) if missing; renames otherwise.

    A new partner joins the least filled of `shard_count` shards (default: XERO_SYNC_SHARDS) and
    stays there (xero_sync.store.shards)."""
    ids.check_partner_id(partner_id)
    existing = conn.execute(sa.select(partners.c.name).where(partners.c.partner_id == partner_id)).first()
    if existing is None:
        conn.execute(sa.insert(partners).values(partner_id=partner_id, name=name))
    elif existing.name != name:
        conn.execute(sa.update(partners).where(partners.c.partner_id == partner_id).values(name=name))
    if get_connection(conn, partner_id) is None:
        if shard_count is None:
            shard_count = Settings.from_env().shard_count
        shard = shards.choose_for_new(conn, shard_count)
        conn.execute(sa.insert(xero_connections).values(partner_id=partner_id, status=_S.NOT_CONNECTED,
                                                        shard=shard))


def get_connection(conn: sa.Connection, partner_id: str) -> Connection | None:
    row = conn.execute(sa.select(*_COLUMNS).where(xero_connections.c.partner_id == partner_id)).first()
    return None if row is None else _row_to_connection(row)


def _require(conn: sa.Connection, partner_id: str) -> Connection:
    found = get_connection(conn, partner_id)
    if found is None:
        raise UnknownPartner(f"partner {partner_id!r} has no Xero connection row (call ensure_partner first)")
    return found


def require_connection(conn: sa.Connection, partner_id: str) -> Connection:
    """The partner's connection; UnknownPartner when it has no connection row."""
    return _require(conn, partner_id)


def connection_for_tenant(conn: sa.Connection, tenant_id: str) -> Connection | None:
    row = conn.execute(sa.select(*_COLUMNS).where(xero_connections.c.tenant_id == tenant_id)).first()
    return None if row is None else _row_to_connection(row)


def list_connections(conn: sa.Connection, statuses: Iterable[str] | None = None,
                     shard: int | None = None) -> list[Connection]:
    """Connections (in these statuses; of this shard), by partner id."""
    query = sa.select(*_COLUMNS).order_by(xero_connections.c.partner_id)
    if shard is not None:
        query = query.where(xero_connections.c.shard == shard)
    if statuses is not None:
        wanted = list(statuses)
        _check_statuses(wanted)
        query = query.where(xero_connections.c.status.in_(wanted))
    return [_row_to_connection(r) for r in conn.execute(query)]


def partner_ids(conn: sa.Connection) -> set[str]:
    """Every partner id with a connection row (in any shard)."""
    return set(conn.execute(sa.select(xero_connections.c.partner_id)).scalars())


def pending_slice(conn: sa.Connection, after: str | None, limit: int,
                  shard: int | None = None) -> list[Connection]:
    """Up to `limit` pending connections (of this shard), by partner id after `after`, wrapping
    to the start: round-robin, so with more pending partners than one tick handles, nobody starves."""
    c = xero_connections.c
    base = sa.select(*_COLUMNS).where(c.status == _S.PENDING).order_by(c.partner_id)
    if shard is not None:
        base = base.where(c.shard == shard)
    rows = list(conn.execute(base.where(c.partner_id > after).limit(limit))) if after else []
    if len(rows) < limit:
        seen = {r.partner_id for r in rows}
        head = base if after is None else base.where(c.partner_id <= after)
        rows += [r for r in conn.execute(head.limit(limit - len(rows))).all() if r.partner_id not in seen]
    return [_row_to_connection(r) for r in rows]


def _check_statuses(statuses: Iterable[str]) -> None:
    unknown = sorted(set(statuses) - set(ConnectionStatus))
    if unknown:
        raise ValueError(f"unknown connection status(es) {unknown}; expected {tuple(s.value for s in _S)}")


def drop_token_set(conn: sa.Connection, token_set_id: int | None) -> None:
    """Delete a token set no connection uses any more (replaced or disconnected): no stale
    credentials are kept at rest."""
    if token_set_id is None:
        return
    used = sa.select(xero_connections.c.partner_id).where(xero_connections.c.token_set_id == token_set_id)
    conn.execute(sa.delete(xero_token_sets).where(xero_token_sets.c.token_set_id == token_set_id,
                                                  ~sa.exists(used)))


def _update(conn: sa.Connection, partner_id: str, **values: object) -> Connection:
    conn.execute(
        sa.update(xero_connections)
        .where(xero_connections.c.partner_id == partner_id)
        .values(updated_at=_now(), **values)
    )
    return _require(conn, partner_id)


def start_connection(
    conn: sa.Connection,
    partner_id: str,
    *,
    tenant_id: str,
    tenant_name: str,
    xero_connection_id: str,
    token_set_id: int | None,
) -> Connection:
    """Link `tenant_id` to the partner after the partner confirmed the organisation.

    New link -> pending (initial sync to run). Reconnecting the same tenant after needs_reauth or
    disconnect goes straight back to connected if its initial sync had finished, else pending.
    Re-running for the tenant already linked only refreshes the ids (idempotent callback).
    """
    current = _require(conn, partner_id)
    holder = connection_for_tenant(conn, tenant_id)
    if holder is not None and holder.partner_id != partner_id:
        if holder.status != _S.DISCONNECTED:
            raise TenantAlreadyConnected(
                f"Xero organisation {tenant_name!r} ({tenant_id}) is already connected to partner "
                f"{holder.partner_id!r} (status {holder.status}); disconnect it there first"
            )
        # A disconnected partner no longer holds the tenant; release it (tenant_id is unique).
        _update(conn, holder.partner_id, tenant_id=None)

    same_tenant = current.tenant_id == tenant_id
    if current.status in LINKED and not same_tenant:
        raise InvalidTransition(
            f"partner {partner_id!r} is {current.status} with tenant {current.tenant_id}; "
            f"disconnect before connecting another organisation ({tenant_id})"
        )
    values: dict[str, object] = {
        "tenant_id": tenant_id,
        "tenant_name": tenant_name,
        "xero_connection_id": xero_connection_id,
        "token_set_id": token_set_id,
    }
    if current.status in LINKED:
        status = current.status
    elif same_tenant and current.initial_sync_done:
        status = _S.CONNECTED
    else:
        status = _S.PENDING
        if not same_tenant:
            # Another organisation: its history, plan and accounts are all different.
            values.update(
                first_month=None, months_total=0, months_done=0, base_currency=None,
                payments_account_id=None, payments_account_is_bank=None, deposit_account_id=None,
                fees_account_id=None, income_account_id=None, clearing_contact_id=None,
                connected_at=None,
            )
    if status != current.status:
        values["status_detail"] = None
    values["status"] = status
    savepoint = conn.begin_nested()
    try:
        result = _update(conn, partner_id, **values)
        if current.token_set_id != token_set_id:
            drop_token_set(conn, current.token_set_id)  # the reconnect's new pair replaces it
        savepoint.commit()
    except sa.exc.IntegrityError:
        # Lost a race with another partner linking the same tenant.
        savepoint.rollback()
        raise TenantAlreadyConnected(
            f"Xero organisation {tenant_name!r} ({tenant_id}) was just connected to another partner"
        ) from None
    return result


def set_status(conn: sa.Connection, partner_id: str, status: str, detail: str | None = None) -> Connection:
    """Move the partner's connection to `status` (InvalidTransition if SPEC 3 does not allow it)."""
    _check_statuses([status])
    current = _require(conn, partner_id)
    if status != current.status and status not in _TRANSITIONS[current.status]:
        raise InvalidTransition(
            f"partner {partner_id!r}: connection cannot go from {current.status} to {status}"
        )
    values: dict[str, object] = {"status": status, "status_detail": detail}
    if status == _S.CONNECTED and current.connected_at is None:
        values["connected_at"] = _now()
    if status == _S.DISCONNECTED:
        values["token_set_id"] = None
    result = _update(conn, partner_id, **values)
    if status == _S.DISCONNECTED:
        drop_token_set(conn, current.token_set_id)
    return result


def set_plan(conn: sa.Connection, partner_id: str, first_month: dt.date, months_total: int) -> Connection:
    """The initial sync's extent: from the organisation's first month, `months_total` partitions."""
    if months_total < 1:
        raise ValueError(f"partner {partner_id!r}: months_total must be >= 1, got {months_total}")
    _require(conn, partner_id)
    return _update(conn, partner_id, first_month=first_month.replace(day=1), months_total=months_total)


def record_progress(conn: sa.Connection, partner_id: str, months_done: int,
                    months_total: int | None = None) -> Connection:
    """Months of the initial sync done so far (clamped to 0..months_total).

    `months_total` may grow while onboarding runs (a new month starts); pass it to keep it true.
    """
    current = _require(conn, partner_id)
    total = current.months_total if months_total is None else months_total
    done = max(0, min(months_done, total))
    if (done, total) == (current.months_done, current.months_total):
        return current
    return _update(conn, partner_id, months_done=done, months_total=total)


def record_progress_many(conn: sa.Connection, progress: Iterable[tuple[str, int, int]]) -> None:
    """`record_progress` for many partners in one statement: (partner_id, months_done,
    months_total) each, done clamped to 0..total (the onboarding sensor's tick)."""
    rows = [{"pid": p, "done": max(0, min(done, total)), "total": total} for p, done, total in progress]
    if rows:
        c = xero_connections.c
        conn.execute(
            sa.update(xero_connections).where(c.partner_id == sa.bindparam("pid"))
            .values(months_done=sa.bindparam("done"), months_total=sa.bindparam("total"), updated_at=_now()),
            rows,
        )


def mark_connected(conn: sa.Connection, partner_id: str) -> Connection:
    """Every month of the initial sync succeeded: pending -> connected (no-op if already)."""
    return set_status(conn, partner_id, _S.CONNECTED)


def park(conn: sa.Connection, partner_id: str, until: dt.datetime, detail: str) -> Connection:
    """Daily call limit reached: no Xero calls for this tenant before `until`."""
    _require(conn, partner_id)
    return _update(conn, partner_id, parked_until=until, status_detail=detail)


def unpark(conn: sa.Connection, partner_id: str) -> Connection:
    current = _require(conn, partner_id)
    if current.parked_until is None:
        return current
    return _update(conn, partner_id, parked_until=None, status_detail=None)


def set_accounts(
    conn: sa.Connection,
    partner_id: str,
    *,
    payments_account_id: str,
    payments_account_is_bank: bool,
    deposit_account_id: str,
    fees_account_id: str | None = None,
    income_account_id: str | None = None,
    fees_as_spend: bool | None = None,
) -> Connection:
    """Store the Set Up Accounts choice (validated against Xero's chart by the caller) and release
    pushes that were waiting for it. `fees_as_spend` None keeps the partner's fees setting."""
    from xero_sync.store.outbox import release_waiting  # outbox imports nothing from here

    current = _require(conn, partner_id)
    if current.status != _S.CONNECTED:
        raise InvalidTransition(
            f"partner {partner_id!r} is {current.status}: accounts can be set up once connected"
        )
    if not payments_account_id or not deposit_account_id:
        raise ValueError(f"partner {partner_id!r}: payments and deposit accounts are both required")
    result = _update(
        conn, partner_id,
        payments_account_id=payments_account_id,
        payments_account_is_bank=payments_account_is_bank,
        deposit_account_id=deposit_account_id,
        fees_account_id=fees_account_id,
        income_account_id=income_account_id,
        **({} if fees_as_spend is None else {"fees_as_spend": bool(fees_as_spend)}),
    )
    release_waiting(conn, partner_id)
    return result


def set_base_currency(conn: sa.Connection, partner_id: str, currency: str) -> None:
    """The organisation's base currency as Xero last said (GET /Organisation BaseCurrency)."""
    c = xero_connections.c
    conn.execute(sa.update(xero_connections).where(c.partner_id == partner_id)
                 .values(base_currency=currency.strip().upper()[:3]))


def touch_last_sync(conn: sa.Connection, partner_id: str, at: dt.datetime | None = None) -> None:
    _require(conn, partner_id)
    _update(conn, partner_id, last_sync_at=at or _now())
