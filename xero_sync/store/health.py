"""Partner health in the store: the facts per partner, run failures on the connection, and Xero
API calls per partner and day.

Bounded work: one grouped query per fact over all partners (no query per partner), so the health
asset costs the same handful of queries whatever the number of partners.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa

from xero_sync.store import partner_work
from xero_sync.store.schema import (
    outbox,
    partners,
    reconciliation_diffs,
    xero_api_calls,
    xero_connections,
)
from xero_sync.store.states import ConnectionStatus, OutboxStatus
from xero_sync.sync.failure_policy import Work, job_work
from xero_sync.sync.health import Failure, PartnerFacts

# Writes on their way to Xero; `waiting_accounts` waits for the partner's Set Up Accounts instead.
IN_FLIGHT_WRITES = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.UNKNOWN)


def _utc_day(now: dt.datetime) -> dt.date:
    return now.astimezone(dt.timezone.utc).date()


def load_facts(conn: sa.Connection, now: dt.datetime) -> list[PartnerFacts]:
    """One PartnerFacts per partner (ordered by partner id)."""
    o, d, a, c, p = outbox.c, reconciliation_diffs.c, xero_api_calls.c, xero_connections.c, partners.c
    by_status: dict[str, dict[str, int]] = defaultdict(dict)
    for row in conn.execute(sa.select(o.partner_id, o.status, sa.func.count())
                            .group_by(o.partner_id, o.status)):
        by_status[row[0]][row[1]] = int(row[2])
    oldest = dict(conn.execute(
        sa.select(o.partner_id, sa.func.min(o.created_at))
        .where(o.status.in_(IN_FLIGHT_WRITES)).group_by(o.partner_id)).all())
    # The latest reconciliation of each partner (partner_work); the stored diff rows only for a
    # diff computed before that record existed.
    reconciled = partner_work.reconciliations(conn)
    failures = partner_work.open_failures(conn)
    phases = partner_work.phase_successes(conn)
    diffs = {r[0]: (int(r[1] or 0), r[2]) for r in conn.execute(
        sa.select(d.partner_id,
                  sa.func.sum(sa.case((d.explained.is_(False), 1), else_=0)),
                  sa.func.max(d.computed_at))
        .group_by(d.partner_id))}
    calls = {r.partner_id: r for r in conn.execute(
        sa.select(a.partner_id, a.calls, a.day_remaining).where(a.day == _utc_day(now)))}
    rows = conn.execute(
        sa.select(p.partner_id, p.name, c.status, c.tenant_name, c.months_done, c.months_total,
                  c.last_sync_at, c.parked_until, c.last_failure_job, c.last_failure_at,
                  c.last_failure_message, c.shard)
        .select_from(partners.outerjoin(xero_connections, c.partner_id == p.partner_id))
        .order_by(p.partner_id)
    ).all()
    facts = []
    for r in rows:
        unexplained, computed_at = diffs.get(r.partner_id, (0, None))
        if r.partner_id in reconciled:
            unexplained = reconciled[r.partner_id].unexplained
            computed_at = reconciled[r.partner_id].computed_at
        today = calls.get(r.partner_id)
        facts.append(PartnerFacts(
            partner_id=r.partner_id, name=r.name, status=r.status or ConnectionStatus.NOT_CONNECTED.value,
            tenant_name=r.tenant_name, months_done=r.months_done or 0,
            months_total=r.months_total or 0, last_sync_at=r.last_sync_at,
            parked_until=r.parked_until, outbox_by_status=dict(by_status.get(r.partner_id, {})),
            oldest_pending_at=_aware(oldest.get(r.partner_id)), unexplained=unexplained,
            diff_computed_at=_aware(computed_at),
            api_calls_today=today.calls if today else 0,
            api_day_remaining=today.day_remaining if today else None,
            last_failure_job=r.last_failure_job, last_failure_at=r.last_failure_at,
            last_failure_message=r.last_failure_message, shard=r.shard or 0,
            failures=tuple(Failure(f.work.label(), f.job, f.failed_at, f.message)
                           for f in failures.get(r.partner_id, [])),
            phase_successes=phases.get(r.partner_id, {}),
        ))
    return facts


def _aware(value: dt.datetime | str | None) -> dt.datetime | None:
    """Aggregates (min/max) lose the column type on SQLite: give them back their UTC tzinfo."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value


# --- run failures on the connection --------------------------------------------------------

@dataclass(frozen=True)
class RunFailure:
    job: str
    at: dt.datetime
    message: str
    run_id: str | None


def record_run_failure(conn: sa.Connection, partner_id: str, failure: RunFailure,
                       works: list[Work] | None = None) -> bool:
    """Record a failure of `works` (default: the failed job itself) for the partner, per
    sync/failure_policy.py. False if the partner has no connection row."""
    return partner_work.record_failure(
        conn, partner_id, works or [job_work(failure.job)], job=failure.job, at=failure.at,
        message=failure.message, run_id=failure.run_id)


def clear_run_failure(conn: sa.Connection, partner_id: str, job: str, succeeded_at: dt.datetime) -> bool:
    """A later successful run of the same job clears the failure recorded for that job."""
    return bool(partner_work.clear_failures(conn, partner_id, [job_work(job)], succeeded_at))


def last_failure(conn: sa.Connection, partner_id: str) -> RunFailure | None:
    c = xero_connections.c
    row = conn.execute(sa.select(c.last_failure_job, c.last_failure_at, c.last_failure_message,
                                 c.last_failure_run_id).where(c.partner_id == partner_id)).first()
    if row is None or row.last_failure_at is None:
        return None
    return RunFailure(row.last_failure_job, row.last_failure_at, row.last_failure_message or "",
                      row.last_failure_run_id)


# --- Xero API calls per partner and day ----------------------------------------------------

def add_api_calls(conn: sa.Connection, partner_id: str, calls: int, now: dt.datetime,
                  day_remaining: int | None = None) -> None:
    """Add `calls` to the partner's count for `now`'s UTC day (atomic increment, so concurrent
    runs of different partners or a sensor tick never lose each other's calls)."""
    if calls <= 0 and day_remaining is None:
        return
    a = xero_api_calls.c
    day = _utc_day(now)
    values: dict[str, object] = {"calls": a.calls + max(calls, 0), "updated_at": now}
    if day_remaining is not None:
        values["day_remaining"] = day_remaining
    updated = conn.execute(sa.update(xero_api_calls)
                           .where(a.partner_id == partner_id, a.day == day).values(**values))
    if updated.rowcount:
        return
    savepoint = conn.begin_nested()
    try:
        conn.execute(sa.insert(xero_api_calls).values(
            partner_id=partner_id, day=day, calls=max(calls, 0), day_remaining=day_remaining,
            updated_at=now))
        savepoint.commit()
    except sa.exc.IntegrityError:  # another process inserted the day's row first: add to it
        savepoint.rollback()
        conn.execute(sa.update(xero_api_calls)
                     .where(a.partner_id == partner_id, a.day == day).values(**values))


def api_calls_on(conn: sa.Connection, partner_id: str, day: dt.date) -> int:
    a = xero_api_calls.c
    found = conn.execute(sa.select(a.calls).where(a.partner_id == partner_id, a.day == day)).scalar()
    return int(found or 0)
