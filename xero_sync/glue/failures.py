"""The project's errors of a partner's run as clear Dagster failures (no traceback).

The service layer (connect/refusals.py) has already recorded what Xero's refusal means for the
connection (parked, needs_reauth, disconnected); this says what happened and what happens next.
What only the partner or Xero's clock can fix (daily limit, re-authorisation, disconnection, a
missing scope) never allows a retry.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import dagster as dg

from xero_sync.connect.refusals import PartnerParked, XeroRefused
from xero_sync.store.tenant_lock import TenantBusy
from xero_sync.core.errors import (
    DailyLimitReached,
    MalformedXeroPayload,
    NeedsReauth,
    TenantDisconnected,
    XeroForbidden,
    XeroUnavailable,
)


def xero_failure(refused: XeroRefused) -> dg.Failure:
    partner, exc = refused.partner_id, refused.error
    if isinstance(exc, DailyLimitReached):
        return dg.Failure(
            description=f"partner {partner}: {exc}. Parked until then; the sensors resume it.",
            metadata={"resume_at": exc.resume_at.isoformat(), "tenant_id": refused.tenant_id},
            allow_retries=False,
        )
    if isinstance(exc, (NeedsReauth, TenantDisconnected)):
        return dg.Failure(description=f"partner {partner}: {exc}", allow_retries=False)
    if isinstance(exc, XeroForbidden):
        return dg.Failure(
            description=f"partner {partner}: Xero refused this call for lack of a scope or "
                        f"permission; the connection is unchanged: {exc}",
            allow_retries=False,
        )
    if isinstance(exc, MalformedXeroPayload):
        # Xero's answer will not change on a retry: not retried.
        return dg.Failure(description=f"partner {partner}: malformed Xero payload: {exc}",
                          allow_retries=False)
    if isinstance(exc, XeroUnavailable):
        # Transient: the step is retried in the same run by its RetryPolicy
        # (glue/retry_policies.py; dagster.yaml's run retries leave step failures alone).
        return dg.Failure(description=f"partner {partner}: Xero unavailable: {exc}")
    return dg.Failure(description=str(refused))


@contextlib.contextmanager
def xero_failures() -> Iterator[None]:
    """Xero's refusals (`XeroRefused`) inside the block as `dg.Failure`."""
    try:
        yield
    except XeroRefused as refused:
        raise xero_failure(refused) from None


@contextlib.contextmanager
def sync_failures() -> Iterator[None]:
    """Every way a partner's pull or reconciliation stops as `dg.Failure`: Xero's refusals, a
    parked partner, a tenant another live run holds. None is retried by the step's RetryPolicy:
    a busy tenant was already waited for (connect/refusals.py) and the failure names the holder;
    the next tick or schedule pulls the partner again."""
    try:
        with xero_failures():
            yield
    except PartnerParked as parked:
        raise dg.Failure(str(parked)) from None
    except TenantBusy as busy:
        raise dg.Failure(description=str(busy), allow_retries=False) from None
