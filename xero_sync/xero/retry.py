"""THE retry policy for every Xero call (reads, writes, identity calls).

Rules, in one place:
- 429 minute / concurrent / appminute: sleep `Retry-After`, retry (bounded);
- 429 day: park the tenant and raise DailyLimitReached(resume_at = now + Retry-After) at once;
- 5xx, timeouts, connection errors: exponential backoff with full jitter (bounded), then
  XeroUnavailable;
- 401: refresh the token once (forced) and retry once; a second 401 is NeedsReauth;
- 403 whose body says `AuthenticationUnsuccessful`: TenantDisconnected; any other 403 (a missing
  scope or permission on one endpoint): XeroForbidden, the connection stands;
- 400: XeroValidationError; 404: XeroNotFound (callers may map to None);
- writes: a request that may have reached Xero but whose answer was lost (read timeout, dropped
  connection) is never replayed blindly: OutcomeUnknown, so the caller looks it up by reference;
  409 (the same Idempotency-Key still being processed) is WriteInProgress; a write waits out at
  most `max_write_retry_after` per 429, so `longest_write_seconds` bounds how long one write call
  can keep a request in flight (push/settle.py relies on it).
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import random
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import urllib3.exceptions as u3

from xero_sync.core.errors import (
    DailyLimitReached,
    NeedsReauth,
    OutcomeUnknown,
    TenantDisconnected,
    WriteInProgress,
    XeroError,
    XeroForbidden,
    XeroNotFound,
    XeroUnavailable,
    XeroValidationError,
)
from xero_sync.xero.rate_budget import RateBudget

DEFAULT_RETRY_AFTER = 60
# A write never waits longer than this on one 429: a longer Retry-After ends the call (the push
# resumes later), which keeps the longest possible write call, and so the time a lost write can
# still be in flight, bounded.
MAX_WRITE_RETRY_AFTER = 60.0


@dataclass(frozen=True)
class HttpAnswer:
    """A response from Xero, whatever its status. Header names are lower-cased."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def build(cls, status: int, headers: Mapping[str, str] | None, body: bytes | str | None):
        hdrs = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
        raw = body.encode() if isinstance(body, str) else (body or b"")
        return cls(int(status), hdrs, raw)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


# --- transport failures ---------------------------------------------------------------------

# Never reached Xero: safe to retry for any method.
_NOT_SENT = (u3.ConnectTimeoutError, u3.NewConnectionError, ConnectionRefusedError)
# May have reached Xero, answer lost.
_LOST = (
    u3.ReadTimeoutError,
    u3.ProtocolError,
    u3.TimeoutError,
    http.client.HTTPException,
    ConnectionError,
    socket.timeout,
)


def transport_kind(exc: BaseException) -> str | None:
    """'not_sent', 'lost' or None (not a transport failure)."""
    if isinstance(exc, u3.MaxRetryError) and exc.reason is not None:
        exc = exc.reason
    if isinstance(exc, _NOT_SENT):
        return "not_sent"
    if isinstance(exc, _LOST):
        return "lost"
    return None


# --- classifying answers --------------------------------------------------------------------


def xero_messages(body: bytes) -> tuple[list[str], list[dict]]:
    """Messages and elements from a Xero error body (validation, problem details or text)."""
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return ([text[:500]] if text else []), []
    if not isinstance(data, dict):
        return [text[:500]], []
    elements = [e for e in data.get("Elements") or [] if isinstance(e, dict)]
    messages: list[str] = []
    for el in elements:
        for ve in el.get("ValidationErrors") or []:
            if isinstance(ve, dict) and ve.get("Message"):
                messages.append(str(ve["Message"]))
    if not messages:
        for key in ("Detail", "Message", "error_description", "error", "Title"):
            if data.get(key):
                messages.append(str(data[key]))
                break
    return messages, elements


def retry_after_seconds(headers: Mapping[str, str]) -> float:
    raw = headers.get("retry-after")
    try:
        return max(0.0, float(raw)) if raw is not None else DEFAULT_RETRY_AFTER
    except ValueError:
        return DEFAULT_RETRY_AFTER


# Xero's 403 for a tenant this token may no longer reach (disconnected, deleted, access lost).
DISCONNECTED_DETAIL = "AuthenticationUnsuccessful"


def _authentication_gone(body: bytes) -> bool:
    """True when a 403 body is Xero's `Detail: AuthenticationUnsuccessful` problem."""
    try:
        data = json.loads(body.decode("utf-8", "replace"))
    except ValueError:
        return False
    detail = data.get("Detail") if isinstance(data, dict) else None
    return isinstance(detail, str) and detail.strip().startswith(DISCONNECTED_DETAIL)


def classify(answer: HttpAnswer) -> str:
    """What to do with a non-2xx answer: one of
    'rate_wait', 'day_limit', 'refresh', 'disconnected', 'forbidden', 'validation', 'not_found',
    'server', 'other'."""
    s = answer.status
    if s == 429:
        problem = answer.headers.get("x-rate-limit-problem", "").lower()
        return "day_limit" if problem == "day" else "rate_wait"
    if s == 401:
        return "refresh"
    if s == 403:
        return "disconnected" if _authentication_gone(answer.body) else "forbidden"
    if s == 400:
        return "validation"
    if s == 409:
        return "in_progress"
    if s == 404:
        return "not_found"
    if s >= 500 or s in (408,):
        return "server"
    return "other"


class RetryPolicy:
    def __init__(
        self,
        tenant_id: str | None,
        budget: RateBudget | None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        max_rate_waits: int = 5,
        max_server_attempts: int = 4,
        backoff_base: float = 1.0,
        backoff_cap: float = 30.0,
        rng: Callable[[], float] = random.random,
        max_write_retry_after: float = MAX_WRITE_RETRY_AFTER,
    ) -> None:
        self.max_write_retry_after = max_write_retry_after
        self.tenant_id = tenant_id
        self.budget = budget
        self.sleep = sleep
        self.clock = clock
        self.max_rate_waits = max_rate_waits
        self.max_server_attempts = max_server_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.rng = rng

    def longest_write_seconds(self, attempt_seconds: float) -> float:
        """The longest one write call can last, retries included, when each attempt is bounded by
        `attempt_seconds` (connect + read timeout): every attempt the policy allows (server
        retries, rate waits, one token refresh) plus every wait between them at its maximum."""
        attempts = self.max_server_attempts + self.max_rate_waits + 1
        waits = ((self.max_server_attempts - 1) * self.backoff_cap
                 + self.max_rate_waits * self.max_write_retry_after)
        return attempts * attempt_seconds + waits

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
        return self.rng() * min(self.backoff_cap, self.backoff_base * (2**attempt))

    def _wait(self, seconds: float) -> None:
        if self.budget is not None:
            self.budget.note_wait(seconds)
        self.sleep(seconds)

    def run(
        self,
        call: str,
        send: Callable[[], HttpAnswer],
        *,
        is_write: bool = False,
        refresh: Callable[[], None] | None = None,
    ) -> HttpAnswer:
        """Send with the policy; returns the 2xx answer or raises a XeroError."""
        rate_waits = server_failures = 0
        refreshed = False
        tenant = self.tenant_id
        while True:
            if self.budget is not None:
                self.budget.acquire()
            try:
                answer = send()
            except Exception as exc:  # noqa: BLE001 - classified below, re-raised otherwise
                kind = transport_kind(exc)
                if kind is None:
                    raise
                if kind == "lost" and is_write:
                    raise OutcomeUnknown(
                        f"the response to a write was lost ({type(exc).__name__}); "
                        "look it up by reference before sending again",
                        call=call,
                        tenant_id=tenant,
                    ) from None
                server_failures += 1
                if server_failures >= self.max_server_attempts:
                    raise XeroUnavailable(
                        f"Xero unreachable after {server_failures} attempts ({type(exc).__name__})",
                        call=call,
                        tenant_id=tenant,
                    ) from None
                self._wait(self.backoff(server_failures - 1))
                continue
            finally:
                if self.budget is not None:
                    self.budget.release()

            if self.budget is not None:
                self.budget.observe(answer.headers)
            if answer.ok:
                return answer

            action = classify(answer)
            messages, elements = xero_messages(answer.body)
            said = "; ".join(messages) or None
            if action == "rate_wait":
                rate_waits += 1
                if rate_waits > self.max_rate_waits:
                    raise XeroUnavailable(
                        f"still rate limited after {self.max_rate_waits} waits",
                        call=call, tenant_id=tenant, status=429, xero_message=said,
                    )
                wait = retry_after_seconds(answer.headers)
                if is_write and wait > self.max_write_retry_after:
                    raise XeroUnavailable(
                        f"rate limited with Retry-After {wait:g} s, longer than a write may wait "
                        f"({self.max_write_retry_after:g} s); the push resumes later",
                        call=call, tenant_id=tenant, status=429, xero_message=said,
                    )
                self._wait(wait)
                continue
            if action == "in_progress" and is_write:
                raise WriteInProgress(
                    "Xero is still processing an earlier request with this Idempotency-Key",
                    call=call, tenant_id=tenant, status=409, xero_message=said,
                )
            if action == "day_limit":
                resume = self.clock() + retry_after_seconds(answer.headers)
                resume_at = dt.datetime.fromtimestamp(resume, tz=dt.timezone.utc)
                if self.budget is not None:
                    self.budget.park_until(resume_at)
                raise DailyLimitReached(tenant or "", resume_at, call=call)
            if action == "refresh":
                if refresh is None or refreshed:
                    raise NeedsReauth(
                        "Xero refused the access token"
                        + (" after a refresh" if refreshed else ""),
                        call=call, tenant_id=tenant, status=401, xero_message=said,
                    )
                refresh()
                refreshed = True
                continue
            if action == "disconnected":
                raise TenantDisconnected(
                    "the organisation is no longer connected to this app",
                    call=call, tenant_id=tenant, status=403, xero_message=said,
                )
            if action == "forbidden":
                raise XeroForbidden(
                    "Xero refused this call for lack of a scope or permission; the connection stands",
                    call=call, tenant_id=tenant, status=403, xero_message=said,
                )
            if action == "validation":
                raise XeroValidationError(messages, elements, call=call, tenant_id=tenant)
            if action == "not_found":
                raise XeroNotFound("not found", call=call, tenant_id=tenant, status=404,
                                   xero_message=said)
            if action == "server":
                server_failures += 1
                if server_failures >= self.max_server_attempts:
                    raise XeroUnavailable(
                        f"Xero kept failing after {server_failures} attempts",
                        call=call, tenant_id=tenant, status=answer.status, xero_message=said,
                    )
                self._wait(self.backoff(server_failures - 1))
                continue
            raise XeroError("unexpected answer from Xero", call=call, tenant_id=tenant,
                            status=answer.status, xero_message=said)
