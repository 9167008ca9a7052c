"""Turn Xero client errors into connection state and clear Dagster failures.

A daily-limit 429 parks the partner (no further calls until Xero's window reopens; the sensors
skip parked partners), a refused refresh token asks the partner to re-authorise, a 403
`AuthenticationUnsuccessful` marks the connection disconnected (a 403 for a missing scope does not). Each becomes a `dg.Failure` whose description says what happened and what
happens next, instead of a traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import dagster as dg

from xero_sync.platform import connections
from xero_sync.platform.connections import Connection
from xero_sync.resources.platform import PlatformResource
from xero_sync.xero.errors import (
    DailyLimitReached,
    MalformedXeroPayload,
    NeedsReauth,
    TenantDisconnected,
    XeroForbidden,
    XeroUnavailable,
)


# Errors only the partner can fix: the connection's status and what the Integrations page says.
_PARTNER_MUST_ACT = {
    NeedsReauth: ("needs_reauth", "Xero refused our authorisation; reconnect Xero from the Integrations page"),
    TenantDisconnected: (
        "disconnected",
        "the Xero organisation is no longer connected; reconnect from the Integrations page",
    ),
}


@contextlib.contextmanager
def xero_failures(platform: PlatformResource, connection: Connection) -> Iterator[None]:
    partner = connection.partner_id
    try:
        yield
    except DailyLimitReached as exc:
        with platform.begin() as conn:
            connections.park(
                conn, partner, exc.resume_at,
                f"Xero daily API limit reached; syncing resumes at {exc.resume_at:%Y-%m-%d %H:%M} UTC",
            )
        raise dg.Failure(
            description=f"partner {partner}: {exc}. Parked until then; the sensors resume it.",
            metadata={"resume_at": exc.resume_at.isoformat(), "tenant_id": connection.tenant_id},
            allow_retries=False,
        ) from None
    except (NeedsReauth, TenantDisconnected) as exc:
        status, detail = _PARTNER_MUST_ACT[type(exc)]
        with platform.begin() as conn:
            current = connections.get_connection(conn, partner)
            if current is not None and current.status != status:
                connections.set_status(conn, partner, status, detail)
        raise dg.Failure(description=f"partner {partner}: {exc}", allow_retries=False) from None
    except XeroForbidden as exc:
        # A missing scope on one endpoint: the connection stands (not "disconnected").
        raise dg.Failure(
            description=f"partner {partner}: Xero refused this call for lack of a scope or "
                        f"permission; the connection is unchanged: {exc}",
            allow_retries=False,
        ) from None
    except MalformedXeroPayload as exc:
        # Xero's answer will not change on a retry: not retried.
        raise dg.Failure(description=f"partner {partner}: malformed Xero payload: {exc}",
                         allow_retries=False) from None
    except XeroUnavailable as exc:
        # Transient: the step is retried in the same run by its RetryPolicy
        # (jobs/retry_policies.py; dagster.yaml's run retries leave step failures alone).
        raise dg.Failure(description=f"partner {partner}: Xero unavailable: {exc}") from None


PULL_LOCK_WAIT_SECONDS = 120.0  # a push holds a tenant for seconds; a pull waits that out


@contextlib.contextmanager
def held_tenant(platform: PlatformResource, connection: Connection, purpose: str,
                wait_seconds: float | None = None) -> Iterator[None]:
    """Hold the tenant's lock (push/tenant_lock.py) around a run's Xero calls; a tenant another
    live run is writing to or reading from fails this run cleanly, saying who holds it."""
    from xero_sync.push.tenant_lock import TenantBusy, acquire

    try:
        lock = acquire(platform.engine, connection.tenant_id or connection.partner_id, purpose,
                       wait_seconds=PULL_LOCK_WAIT_SECONDS if wait_seconds is None else wait_seconds)
    except TenantBusy as busy:
        raise dg.Failure(description=str(busy), allow_retries=True) from None
    try:
        yield None
    finally:
        lock.release()
