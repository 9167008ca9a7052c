"""Stored Xero webhook events: deduplicated, bounded per tenant, purged for unknown tenants.

- **Dedupe**: each event gets `dedupe_key` = sha256 of its fields (tenant, category, type,
  resource, eventDateUtc as sent). A replayed delivery, or Xero's retry of one we answered 5xx,
  inserts nothing new (`ON CONFLICT DO NOTHING` on the unique key).
- **Per tenant**: events are thin (ids only) and a webhook triggers a whole incremental sync of the
  partner, so past `TENANT_WINDOW_LIMIT` events for a tenant within `TENANT_WINDOW`, a delivery's
  events for that tenant collapse into its newest one per category: still one trigger, bounded rows.
- **Unknown tenants** (no connection row): kept `UNKNOWN_TENANT_TTL`, then purged.
- **Busy store**: `store_events` gives up after `BUSY_TIMEOUT_SECONDS` waiting for a lock
  (`StoreBusy`), so the receiver can answer 503 well within Xero's 5 s; Xero redelivers and the
  dedupe key makes the retry safe.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

import sqlalchemy as sa

from xero_sync.store.bulk import dialect_insert
from xero_sync.store.db import SQLITE_BUSY_TIMEOUT_MS
from xero_sync.store.schema import webhook_events, xero_connections

TENANT_WINDOW = dt.timedelta(hours=1)
TENANT_WINDOW_LIMIT = 1_000
UNKNOWN_TENANT_TTL = dt.timedelta(days=7)
BUSY_TIMEOUT_SECONDS = 2.0


class StoreBusy(RuntimeError):
    """The platform store stayed locked longer than BUSY_TIMEOUT_SECONDS; nothing was written."""


def dedupe_key(tenant_id: str, category: str, event_type: str, resource_id: str, event_date_raw: str) -> str:
    return hashlib.sha256("|".join((tenant_id, category, event_type, resource_id, event_date_raw)).encode()).hexdigest()


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _recent_counts(conn: sa.Connection, tenants: Sequence[str], since: dt.datetime) -> dict[str, int]:
    rows = conn.execute(
        sa.select(webhook_events.c.tenant_id, sa.func.count())
        .where(webhook_events.c.tenant_id.in_(tenants), webhook_events.c.received_at >= since)
        .group_by(webhook_events.c.tenant_id)
    )
    return {tenant: int(n) for tenant, n in rows}


def _bounded(rows: list[dict], counts: dict[str, int]) -> tuple[list[dict], int]:
    """Rows to store: a tenant over its window limit keeps its newest row per category only."""
    kept: list[dict] = []
    newest: dict[tuple[str, str], dict] = {}
    for row in rows:
        if counts.get(row["tenant_id"], 0) + 1 <= TENANT_WINDOW_LIMIT:
            counts[row["tenant_id"]] = counts.get(row["tenant_id"], 0) + 1
            kept.append(row)
            continue
        key = (row["tenant_id"], row["category"])
        if key not in newest or row["event_date"] >= newest[key]["event_date"]:
            newest[key] = row
    return kept + list(newest.values()), len(rows) - len(kept) - len(newest)


def _limit_waits(conn: sa.Connection, seconds: float) -> None:
    """Wait at most `seconds` for a lock in this transaction (then the backend raises)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(seconds * 1000)}ms'")
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = '{int(seconds * 1500)}ms'")
    else:
        conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(seconds * 1000)}")


def store_events(engine: sa.Engine, rows: list[dict], *, now: dt.datetime | None = None,
                 purge: bool = False, busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> tuple[int, int]:
    """Insert `rows` (each with `dedupe_key`); returns (rows new, rows collapsed by the tenant bound).

    Raises StoreBusy when a lock is held longer than `busy_timeout`: nothing is written then.
    With `purge`, unknown tenants' events older than UNKNOWN_TENANT_TTL go in the same transaction.
    """
    now = now or _utc_now()
    with engine.connect() as conn:
        try:
            if conn.dialect.name == "sqlite":  # a connection-wide setting: set it outside the transaction
                _limit_waits(conn, busy_timeout)
                conn.commit()
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    _limit_waits(conn, busy_timeout)
                stored, collapsed = 0, 0
                if rows:
                    counts = _recent_counts(conn, sorted({r["tenant_id"] for r in rows}), now - TENANT_WINDOW)
                    keep, collapsed = _bounded(rows, counts)
                    insert = dialect_insert(conn, webhook_events)
                    result = conn.execute(
                        insert.on_conflict_do_nothing(index_elements=["dedupe_key"]),
                        [{**r, "received_at": now} for r in keep],
                    )
                    stored = max(result.rowcount, 0)
                if purge:
                    purge_unknown_tenants(conn, now)
            return stored, collapsed
        except sa.exc.OperationalError as exc:
            if _is_lock_wait(exc):
                raise StoreBusy(f"platform store busy for over {busy_timeout:g} s") from None
            raise
        finally:
            if conn.dialect.name == "sqlite":
                conn.rollback()
                conn.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
                conn.commit()


def _is_lock_wait(exc: sa.exc.OperationalError) -> bool:
    text = str(exc.orig).lower()
    return ("database is locked" in text or "lock timeout" in text or "statement timeout" in text
            or "canceling statement" in text)


def purge_unknown_tenants(conn: sa.Connection, now: dt.datetime) -> int:
    """Delete events older than UNKNOWN_TENANT_TTL whose tenant no partner has connected."""
    known = sa.select(xero_connections.c.tenant_id).where(xero_connections.c.tenant_id.is_not(None))
    result = conn.execute(
        sa.delete(webhook_events)
        .where(webhook_events.c.received_at < now - UNKNOWN_TENANT_TTL)
        .where(webhook_events.c.tenant_id.not_in(known))
    )
    return result.rowcount
