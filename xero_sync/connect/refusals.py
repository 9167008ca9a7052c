"""A run's Xero calls for one partner: under its tenant's lock, and Xero's refusals recorded on
its connection (plain functions: no Dagster).

A daily-limit 429 parks the partner (no further calls until Xero's window reopens; the sensors
skip parked partners), a refused refresh token asks the partner to re-authorise, a 403
`AuthenticationUnsuccessful` marks the connection disconnected (a 403 for a missing scope does
not). The refusal then goes on as `XeroRefused`, naming the partner; the Dagster glue
(glue/failures.py) turns it, `PartnerParked` and `TenantBusy` into a clear `dg.Failure`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sqlalchemy as sa

from xero_sync.store import connections
from xero_sync.store.connections import Connection
from xero_sync.store.tenant_lock import acquire
from xero_sync.core.errors import (
    DailyLimitReached,
    MalformedXeroPayload,
    NeedsReauth,
    TenantDisconnected,
    XeroError,
    XeroForbidden,
    XeroUnavailable,
)
from xero_sync.store.states import ConnectionStatus

PULL_LOCK_WAIT_SECONDS = 120.0  # a push holds a tenant for seconds; a pull waits that out

# Errors only the partner can fix: the connection's status and what the Integrations page says.
_PARTNER_MUST_ACT = {
    NeedsReauth: (ConnectionStatus.NEEDS_REAUTH, "Xero refused our authorisation; reconnect Xero from the Integrations page"),
    TenantDisconnected: (
        ConnectionStatus.DISCONNECTED,
        "the Xero organisation is no longer connected; reconnect from the Integrations page",
    ),
}


class SyncStopped(Exception):
    """A partner's run stopped for a reason that is not a defect; the message says which."""

    def __init__(self, message: str, partner_id: str) -> None:
        super().__init__(message)
        self.partner_id = partner_id


class PartnerParked(SyncStopped):
    """The partner is parked (Xero's daily limit): no call is made until it is unparked."""


class XeroRefused(SyncStopped):
    """Xero refused or failed a call (`error`); the connection already says so where the
    partner must act (parked, needs_reauth, disconnected)."""

    def __init__(self, connection: Connection, error: XeroError) -> None:
        super().__init__(f"partner {connection.partner_id}: {error}", connection.partner_id)
        self.tenant_id = connection.tenant_id
        self.error = error


@contextlib.contextmanager
def recording_refusals(engine: sa.Engine, connection: Connection) -> Iterator[None]:
    """Xero's refusals inside the block become connection state, then `XeroRefused`."""
    partner = connection.partner_id
    try:
        yield
    except DailyLimitReached as exc:
        with engine.begin() as conn:
            connections.park(
                conn, partner, exc.resume_at,
                f"Xero daily API limit reached; syncing resumes at {exc.resume_at:%Y-%m-%d %H:%M} UTC",
            )
        raise XeroRefused(connection, exc) from exc
    except (NeedsReauth, TenantDisconnected) as exc:
        status, detail = _PARTNER_MUST_ACT[type(exc)]
        with engine.begin() as conn:
            current = connections.get_connection(conn, partner)
            if current is not None and current.status != status:
                connections.set_status(conn, partner, status, detail)
        raise XeroRefused(connection, exc) from exc
    except (XeroForbidden, MalformedXeroPayload, XeroUnavailable) as exc:
        # XeroForbidden: a missing scope on one endpoint; the connection stands (not "disconnected").
        raise XeroRefused(connection, exc) from exc


@contextlib.contextmanager
def held_tenant(engine: sa.Engine, connection: Connection, purpose: str,
                wait_seconds: float | None = None) -> Iterator[None]:
    """Hold the tenant's lock (store/tenant_lock.py) around a run's Xero calls; a tenant another
    live run is writing to or reading from raises `TenantBusy`, saying who holds it."""
    lock = acquire(engine, connection.tenant_id or connection.partner_id, purpose,
                   wait_seconds=PULL_LOCK_WAIT_SECONDS if wait_seconds is None else wait_seconds)
    try:
        yield None
    finally:
        lock.release()


@contextlib.contextmanager
def xero_calls(engine: sa.Engine, connection: Connection, purpose: str,
               wait_seconds: float | None = None) -> Iterator[None]:
    """`held_tenant` and `recording_refusals` around a run's Xero calls."""
    with held_tenant(engine, connection, purpose, wait_seconds), recording_refusals(engine, connection):
        yield None
