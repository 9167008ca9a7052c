"""The app-wide Xero call budget, shared by every process through the platform store.

Xero limits the app to 10,000 calls a minute across all tenants, and each tenant to 60 a minute
and 5,000 a day, however many processes (runs, sensors, the web app) make them. Each call is
taken here first, in one short transaction: the counter of the current bucket of each window
(`rate_windows` rows: scope, bucket start, count) is incremented, and the call is refused (the
transaction rolled back, nothing counted) if a window would go over its limit.

Windows are counted over buckets (5 s for minutes, 1 h for days) and a call is admitted only if
the buckets from `period` before the current one's start hold fewer than the limit: whatever
window Xero counts (fixed from its first call, or rolling), any `period` of time then holds at
most `limit` of our calls, at the price of up to one bucket of capacity. Times come from the
caller's clock (the sandbox's in tests). Concurrent takers of a scope queue on the lock of its
current bucket's row (PostgreSQL) or on SQLite's single writer; each scope is one upsert whose
RETURNING also sums the window's other buckets, so a take is three statements and a commit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa

from xero_sync.store import bulk
from xero_sync.store.schema import rate_windows
from xero_sync.core.rate_limits import SharedRefusal

MINUTE = 60
DAY = 86_400
# Xero's app limit is 10,000 a minute; leave room for calls not taken here (e.g. a second app
# instance being rolled out) and for clock skew between processes.
DEFAULT_APP_MINUTE_LIMIT = 9_000
DEFAULT_TENANT_MINUTE_LIMIT = 60
DEFAULT_TENANT_DAY_LIMIT = 5_000


@dataclass(frozen=True, slots=True)
class Window:
    name: str  # SharedRefusal.scope
    limit: int
    period: int  # seconds
    bucket: int  # seconds; divides period


class StoreRateWindows:
    """A `xero.rate_budget.SharedBudget` backed by the `rate_windows` table."""

    def __init__(self, engine: sa.Engine, *, app_minute_limit: int = DEFAULT_APP_MINUTE_LIMIT,
                 tenant_minute_limit: int = DEFAULT_TENANT_MINUTE_LIMIT,
                 tenant_day_limit: int = DEFAULT_TENANT_DAY_LIMIT, app: str = "app") -> None:
        for name, value in (("app_minute_limit", app_minute_limit), ("tenant_minute_limit", tenant_minute_limit),
                            ("tenant_day_limit", tenant_day_limit)):
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        self.engine = engine
        self.app = app
        self.windows = (
            Window("app_minute", app_minute_limit, MINUTE, 5),
            Window("tenant_minute", tenant_minute_limit, MINUTE, 5),
            Window("tenant_day", tenant_day_limit, DAY, 3600),
        )

    def _scopes(self, tenant_id: str) -> list[tuple[str, Window]]:
        app, minute, day = self.windows
        # Always this order, so concurrent takers never wait on each other in a cycle; the app's
        # row, which every taker queues on, last, so it is held for the shortest time.
        return [(f"tenant:{tenant_id}:day", day), (f"tenant:{tenant_id}:minute", minute),
                (f"{self.app}:minute", app)]

    def take(self, tenant_id: str, now: float) -> SharedRefusal | None:
        with self.engine.connect() as conn:
            with conn.begin() as tx:
                first_in_bucket = False
                for scope, window in self._scopes(tenant_id):
                    refusal, in_bucket = _take_one(conn, scope, window, now)
                    if refusal is not None:
                        tx.rollback()
                        return refusal
                    first_in_bucket = first_in_bucket or (scope.startswith(f"{self.app}:") and in_bucket == 1)
                if first_in_bucket and _bucket_start(self.windows[0], now) % MINUTE == 0:
                    _forget_old(conn, now)  # once a minute, by whichever call opens it
        return None

    def used(self, tenant_id: str, now: float) -> dict[str, int]:
        """Calls counted in each window at `now` (for metadata and tests)."""
        with self.engine.connect() as conn:
            return {w.name: _count(conn, scope, w, now) for scope, w in self._scopes(tenant_id)}


def _bucket_start(window: Window, now: float) -> int:
    return int(math.floor(now / window.bucket)) * window.bucket


def _count(conn: sa.Connection, scope: str, window: Window, now: float) -> int:
    t = rate_windows.c
    since = _bucket_start(window, now) - window.period
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.sum(t.count), 0))
                            .where(t.scope == scope, t.window_start >= since)).scalar_one())


def _take_one(conn: sa.Connection, scope: str, window: Window, now: float) -> tuple[SharedRefusal | None, int]:
    """Count one call in `scope`'s current bucket, in one statement: (refusal if the window is
    over its limit, the bucket's count)."""
    t = rate_windows.c
    start = _bucket_start(window, now)
    since = start - window.period
    others = (sa.select(sa.func.coalesce(sa.func.sum(rate_windows.c.count), 0))
              .where(t.scope == scope, t.window_start >= since, t.window_start != start)
              .scalar_subquery())
    stmt = bulk.dialect_insert(conn, rate_windows).values(scope=scope, window_start=start, count=1)
    # The upsert locks the current bucket's row until commit: takers of a scope queue there.
    in_bucket, before = conn.execute(stmt.on_conflict_do_update(
        index_elements=["scope", "window_start"], set_={"count": t.count + 1},
    ).returning(t.count, others)).one()
    if before + in_bucket <= window.limit:
        return None, in_bucket
    oldest = conn.execute(sa.select(sa.func.min(t.window_start)).where(
        t.scope == scope, t.window_start >= since, t.count > 0)).scalar_one()
    # Room again once the oldest counted bucket has left the span.
    return SharedRefusal(window.name, max(1.0, oldest + window.period + window.bucket - now)), in_bucket


def _forget_old(conn: sa.Connection, now: float) -> None:
    """Drop buckets no window looks at any more."""
    t = rate_windows.c
    conn.execute(sa.delete(rate_windows).where(sa.or_(
        sa.and_(t.scope.like("%:minute"), t.window_start < now - 2 * MINUTE),
        sa.and_(t.scope.like("%:day"), t.window_start < now - 2 * DAY),
    )))
