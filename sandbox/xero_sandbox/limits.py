"""Xero's rate limits, enforced per tenant and per app on the sandbox clock.

Per tenant: `concurrent_limit` calls in flight, `minute_limit` calls per minute, `day_limit` calls
per day; per app: `app_minute_limit` calls per minute. Windows are fixed: a window opens at the
first call after the previous one closed and lasts 60 s (86,400 s for the day), so a frozen clock
crosses a window with `clock.advance(60)`. Xero does not document rolling vs fixed; fixed windows
make `Retry-After` exact and tests deterministic.

A call refused here is *not* counted as a made call (Xero counts only calls it answered); it is
counted in `rejected`. The order of checks puts `day` first because it is the limit a client must
treat differently (park the tenant for hours instead of waiting a minute).
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from dataclasses import dataclass, field

from xero_sandbox.clock import Clock

MINUTE = 60.0
DAY = 86_400.0
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class _Window:
    """A fixed window counter: opens at the first call after it closed."""

    __slots__ = ("length", "start", "count")

    def __init__(self, length: float) -> None:
        self.length = length
        self.start: float | None = None
        self.count = 0

    def _roll(self, now: float) -> None:
        if self.start is None or now >= self.start + self.length:
            self.start, self.count = now, 0

    def used(self, now: float) -> int:
        self._roll(now)
        return self.count

    def retry_after(self, now: float) -> int:
        assert self.start is not None
        return max(1, math.ceil(self.start + self.length - now))

    def add(self, now: float) -> None:
        self._roll(now)
        self.count += 1


@dataclass
class TenantCalls:
    """What one tenant has used, for the 429 logic and for tests (`/_sandbox/calls`)."""

    minute: _Window = field(default_factory=lambda: _Window(MINUTE))
    day: _Window = field(default_factory=lambda: _Window(DAY))
    in_flight: int = 0
    total: int = 0
    rejected: int = 0
    rejected_by_problem: Counter = field(default_factory=Counter)
    by_endpoint: Counter = field(default_factory=Counter)


@dataclass(frozen=True)
class Decision:
    """The limiter's answer for one call: allowed (problem None) or a 429 to send."""

    problem: str | None
    retry_after: int
    headers: dict[str, str]

    @property
    def allowed(self) -> bool:
        return self.problem is None


def endpoint_key(method: str, path: str) -> str:
    """`GET /api.xro/2.0/Invoices/{id}`: ids folded so counts group by endpoint."""
    return f"{method} {_GUID.sub('{id}', path)}"


class RateLimits:
    def __init__(
        self,
        clock: Clock,
        *,
        day_limit: int = 5000,
        minute_limit: int = 60,
        concurrent_limit: int = 5,
        app_minute_limit: int = 10_000,
    ) -> None:
        self.clock = clock
        self.day_limit = day_limit
        self.minute_limit = minute_limit
        self.concurrent_limit = concurrent_limit
        self.app_minute_limit = app_minute_limit
        self._lock = threading.Lock()
        self._tenants: dict[str, TenantCalls] = {}
        self._app_minute = _Window(MINUTE)

    def _tenant(self, tenant_id: str) -> TenantCalls:
        return self._tenants.setdefault(tenant_id, TenantCalls())

    def acquire(self, tenant_id: str | None, method: str, path: str) -> Decision:
        """Count a call if every limit allows it; the caller must `release()` an allowed call."""
        now = self.clock.time()
        with self._lock:
            app_used = self._app_minute.used(now)
            if tenant_id is None:
                if app_used >= self.app_minute_limit:
                    return Decision("appminute", self._app_minute.retry_after(now), self._app_headers(now))
                self._app_minute.add(now)
                return Decision(None, 0, self._app_headers(now))
            calls = self._tenant(tenant_id)
            problem, retry_after = None, 0
            if calls.day.used(now) >= self.day_limit:
                problem, retry_after = "day", calls.day.retry_after(now)
            elif app_used >= self.app_minute_limit:
                problem, retry_after = "appminute", self._app_minute.retry_after(now)
            elif calls.minute.used(now) >= self.minute_limit:
                problem, retry_after = "minute", calls.minute.retry_after(now)
            elif calls.in_flight >= self.concurrent_limit:
                # Xero does not document a Retry-After for concurrency; one second is what it sends.
                problem, retry_after = "concurrent", 1
            if problem is not None:
                calls.rejected += 1
                calls.rejected_by_problem[problem] += 1
            else:
                calls.minute.add(now)
                calls.day.add(now)
                self._app_minute.add(now)
                calls.in_flight += 1
                calls.total += 1
                calls.by_endpoint[endpoint_key(method, path)] += 1
            return Decision(problem, retry_after, self._tenant_headers(calls, now))

    def release(self, tenant_id: str) -> None:
        with self._lock:
            calls = self._tenant(tenant_id)
            calls.in_flight = max(0, calls.in_flight - 1)

    def record_rejection(self, tenant_id: str, problem: str) -> None:
        """An injected 429 (faults) counts as rejected, like a real one."""
        with self._lock:
            calls = self._tenant(tenant_id)
            calls.rejected += 1
            calls.rejected_by_problem[problem] += 1

    def headers(self, tenant_id: str | None) -> dict[str, str]:
        now = self.clock.time()
        with self._lock:
            if tenant_id is None:
                return self._app_headers(now)
            return self._tenant_headers(self._tenant(tenant_id), now)

    def _app_headers(self, now: float) -> dict[str, str]:
        return {
            "X-AppMinLimit-Remaining": str(max(0, self.app_minute_limit - self._app_minute.used(now)))
        }

    def _tenant_headers(self, calls: TenantCalls, now: float) -> dict[str, str]:
        return {
            "X-DayLimit-Remaining": str(max(0, self.day_limit - calls.day.used(now))),
            "X-MinLimit-Remaining": str(max(0, self.minute_limit - calls.minute.used(now))),
            **self._app_headers(now),
        }

    def calls(self, tenant_id: str) -> dict:
        """Counters for one tenant: total made, in flight, rejected (by problem), by endpoint."""
        now = self.clock.time()
        with self._lock:
            c = self._tenant(tenant_id)
            return {
                "total": c.total,
                "in_flight": c.in_flight,
                "rejected": c.rejected,
                "rejected_by_problem": dict(c.rejected_by_problem),
                "by_endpoint": dict(c.by_endpoint),
                "minute_used": c.minute.used(now),
                "day_used": c.day.used(now),
            }

    def all_calls(self) -> dict[str, dict]:
        with self._lock:
            tenant_ids = list(self._tenants)
        return {tenant_id: self.calls(tenant_id) for tenant_id in tenant_ids}
