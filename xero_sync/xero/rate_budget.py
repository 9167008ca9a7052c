"""Per-tenant call budget: pace requests under Xero's minute, concurrent and day limits.

One `RateBudget` per tenant is shared by every client of that tenant in the process (see
`budget_for`). It counts our own calls in a sliding minute, believes Xero's `X-*-Remaining`
headers when they are lower than our count, never lets more than `concurrent_limit` calls be in
flight, and refuses calls while the tenant is parked after a daily-limit 429. Time is injected
(`clock`, `sleep`), so tests run on a fake or frozen clock without real waiting.

Across processes, an optional `SharedBudget` (see `share`) takes each call from counters every
process sees (the app's minute and the tenant's minute and day): the platform store implements
it (store.rate_windows), injected by the Dagster resource; this module knows only the protocol
(`core.rate_limits`).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from xero_sync.core.errors import DailyLimitReached
from xero_sync.core.rate_limits import SharedBudget

MINUTE = 60.0


def _header_int(headers: Mapping[str, str] | None, name: str) -> int | None:
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    raw = lowered.get(name.lower())
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


class RateBudget:
    def __init__(
        self,
        tenant_id: str,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        minute_limit: int = 60,
        concurrent_limit: int = 5,
        reserve: int = 2,
    ) -> None:
        self.tenant_id = tenant_id
        self._clock = clock
        self._sleep = sleep
        self.minute_limit = minute_limit
        self.concurrent_limit = concurrent_limit
        # Keep a few calls of the minute in hand for other processes sharing the tenant.
        self.reserve = reserve
        self._cond = threading.Condition()
        self._starts: deque[float] = deque()  # our call start times within the last minute
        self._in_flight = 0
        self._calls = 0
        self._waited = 0.0
        self._min_remaining: int | None = None
        self._low_until: float | None = None  # set while Xero reports the minute nearly spent
        self._day_remaining: int | None = None
        self._app_min_remaining: int | None = None
        self._parked_until: float | None = None
        self._shared: SharedBudget | None = None
        self._shared_waits = 0

    def share(self, shared: SharedBudget | None) -> None:
        """Also take every call from `shared` (counters across processes); None stops it."""
        with self._cond:
            self._shared = shared

    # --- pacing -----------------------------------------------------------------------------

    def _minute_wait(self, now: float) -> float:
        """Seconds to wait before another call fits in the minute window (0 if it fits now)."""
        while self._starts and self._starts[0] <= now - MINUTE:
            self._starts.popleft()
        allowed = max(1, self.minute_limit - self.reserve)
        wait = 0.0
        if len(self._starts) >= allowed:
            wait = self._starts[0] + MINUTE - now
        if self._low_until is not None and now < self._low_until:
            # Xero says the minute is (nearly) spent, maybe by another process: wait until the
            # window that the header described has certainly reopened.
            wait = max(wait, self._low_until - now)
        return max(0.0, wait)

    def acquire(self) -> None:
        """Block until a call may start; raises DailyLimitReached while the tenant is parked."""
        while True:
            with self._cond:
                now = self._clock()
                if self._parked_until is not None and now < self._parked_until:
                    raise DailyLimitReached(
                        self.tenant_id,
                        dt.datetime.fromtimestamp(self._parked_until, tz=dt.timezone.utc),
                    )
                while self._in_flight >= self.concurrent_limit:
                    self._cond.wait()
                now = self._clock()
                wait = self._minute_wait(now)
                shared = self._shared
                if wait <= 0:
                    self._in_flight += 1  # hold the slot while the shared budget is asked
                    if shared is None:
                        self._starts.append(now)
                        self._calls += 1
                        return
            if wait <= 0 and shared is not None:  # shared is None returned above
                # Outside the lock: the shared budget is I/O (a store round trip).
                try:
                    refusal = shared.take(self.tenant_id, now)
                except BaseException:
                    self.release()
                    raise
                with self._cond:
                    if refusal is None:
                        self._starts.append(now)
                        self._calls += 1
                        return
                    self._in_flight -= 1
                    self._cond.notify()
                    self._shared_waits += 1
                    if refusal.is_daily:
                        self._parked_until = max(now + refusal.retry_after, self._parked_until or 0.0)
                        continue  # raises DailyLimitReached above: park, do not sleep for hours
                    wait = refusal.retry_after
            with self._cond:
                self._waited += wait
            # Sleep outside the lock so other threads can release and observe meanwhile.
            self._sleep(wait)

    def release(self) -> None:
        with self._cond:
            self._in_flight = max(0, self._in_flight - 1)
            self._cond.notify()

    @contextmanager
    def slot(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def note_wait(self, seconds: float) -> None:
        """Record time slept outside acquire() (Retry-After), for the metadata."""
        with self._cond:
            self._waited += max(0.0, seconds)

    # --- what Xero tells us -----------------------------------------------------------------

    def observe(self, headers: Mapping[str, str] | None) -> None:
        minute = _header_int(headers, "X-MinLimit-Remaining")
        day = _header_int(headers, "X-DayLimit-Remaining")
        app = _header_int(headers, "X-AppMinLimit-Remaining")
        with self._cond:
            if minute is not None:
                self._min_remaining = minute
                now = self._clock()
                while self._starts and self._starts[0] <= now - MINUTE:
                    self._starts.popleft()
                # The window the header counts opened no later than our oldest call in it.
                self._low_until = (
                    (self._starts[0] if self._starts else now) + MINUTE
                    if minute <= self.reserve
                    else None
                )
            if day is not None:
                self._day_remaining = day
            if app is not None:
                self._app_min_remaining = app

    def park_until(self, resume_at: dt.datetime | float) -> None:
        """No call for this tenant before `resume_at` (daily limit reached)."""
        ts = resume_at.timestamp() if isinstance(resume_at, dt.datetime) else float(resume_at)
        with self._cond:
            self._parked_until = max(ts, self._parked_until or 0.0)

    def unpark(self) -> None:
        """Forget a daily-limit park (the connection's own parking, in the store, decided the
        window has reopened; the store is the source of truth across processes)."""
        with self._cond:
            self._parked_until = None

    @property
    def parked_until(self) -> dt.datetime | None:
        with self._cond:
            if self._parked_until is None or self._clock() >= self._parked_until:
                return None
            return dt.datetime.fromtimestamp(self._parked_until, tz=dt.timezone.utc)

    def snapshot(self) -> dict:
        """Plain values for run metadata."""
        parked = self.parked_until
        with self._cond:
            return {
                "calls": self._calls,
                "minute_remaining": self._min_remaining,
                "day_remaining": self._day_remaining,
                "app_minute_remaining": self._app_min_remaining,
                "waited_seconds": round(self._waited, 3),
                "shared_budget_waits": self._shared_waits,
                "parked_until": parked.isoformat() if parked else None,
            }


_registry: dict[tuple, RateBudget] = {}
_registry_lock = threading.Lock()


def budget_for(
    tenant_id: str,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    **limits: int,
) -> RateBudget:
    """The process-wide budget for a tenant (one per tenant and clock).

    Keyed by the clock too, so test sandboxes with their own frozen clocks never share state;
    in production every client uses time.time and so shares one budget per tenant.
    """
    key = (tenant_id, clock)
    with _registry_lock:
        budget = _registry.get(key)
        if budget is None:
            budget = _registry[key] = RateBudget(tenant_id, clock=clock, sleep=sleep, **limits)
        return budget
