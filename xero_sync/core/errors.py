"""Errors raised by the Xero client.

Each message says which call, which tenant, the HTTP status and Xero's own message, so a log line
or an asset failure is actionable without a traceback. No message ever contains a token.
"""

from __future__ import annotations

import datetime as dt


class XeroError(Exception):
    """Base for everything the Xero client raises."""

    def __init__(
        self,
        message: str,
        *,
        call: str | None = None,
        tenant_id: str | None = None,
        status: int | None = None,
        xero_message: str | None = None,
    ) -> None:
        self.call = call
        self.tenant_id = tenant_id
        self.status = status
        self.xero_message = xero_message
        parts = [message]
        where = ", ".join(
            p
            for p in (
                f"call {call}" if call else "",
                f"tenant {tenant_id}" if tenant_id else "",
                f"HTTP {status}" if status is not None else "",
            )
            if p
        )
        if where:
            parts.append(f"({where})")
        if xero_message:
            parts.append(f"Xero said: {xero_message}")
        super().__init__(" ".join(parts))


class DailyLimitReached(XeroError):
    """The tenant's daily call budget is spent; no call may be made before `resume_at`."""

    def __init__(self, tenant_id: str, resume_at: dt.datetime, *, call: str | None = None) -> None:
        self.resume_at = resume_at
        super().__init__(
            f"Xero daily call limit reached; resume at {resume_at.isoformat()}",
            call=call,
            tenant_id=tenant_id,
            status=429,
        )


class NeedsReauth(XeroError):
    """The refresh token was refused (invalid_grant) or a refreshed token still got 401."""


class TenantDisconnected(XeroError):
    """The organisation is no longer connected to the app (403 `AuthenticationUnsuccessful` or
    missing from /connections)."""


class XeroForbidden(XeroError):
    """A 403 that is not a lost connection: the app lacks a scope or permission for this
    endpoint (e.g. `AuthorizationUnsuccessful`, `insufficient_scope`). The connection stands;
    the partner (or the app's requested scopes) must grant access before this call can work."""


class XeroValidationError(XeroError):
    """Xero refused the request (400) with validation messages; retrying will not help."""

    def __init__(
        self,
        messages: list[str],
        elements: list[dict],
        *,
        call: str | None = None,
        tenant_id: str | None = None,
        status: int | None = 400,
    ) -> None:
        self.messages = messages
        self.elements = elements
        super().__init__(
            "Xero rejected the request",
            call=call,
            tenant_id=tenant_id,
            status=status,
            xero_message="; ".join(messages) or None,
        )


class XeroNotFound(XeroError):
    """Xero answered 404 for a resource."""


class XeroUnavailable(XeroError):
    """5xx, timeouts or connection errors persisted after the bounded retries."""


class OutcomeUnknown(XeroError):
    """A write was sent but its response was lost; look it up by reference before re-posting."""


class WriteInProgress(OutcomeUnknown):
    """Xero is still processing an earlier request with this Idempotency-Key (409): the write may
    yet be applied; ask again later with the same key, never with a new one."""


class MalformedXeroPayload(XeroError):
    """A payload we cannot parse: names the entity, the record id and the field."""

    def __init__(self, entity: str, record_id: str | None, field: str, detail: str = "") -> None:
        self.entity = entity
        self.record_id = record_id
        self.field = field
        msg = f"malformed Xero {entity} {record_id or '<no id>'}: field {field}"
        super().__init__(f"{msg} {detail}".strip())
