"""Partner health's evidence in the store: failures per partner and work, each phase's last
success, and the latest reconciliation per partner (the rules: sync/failure_policy.py).

`work_failed` and `work_succeeded` are the one way a partner's failure or success is recorded,
whoever saw it: the run-status sensors (runs of one partner), the cohort jobs (each partner of a
cohort run) and the reconciliation (its check). The rule "only a later success of the same work
clears a failure" lives here and in failure_policy.Work.covers, nowhere else, whatever order the
reports arrive in: successes are remembered for SUCCESS_MEMORY, so a failure reported after a
later success of the same work (the failure sensor ticks behind the cohort runs) stays cleared.

Every write is an upsert guarded in the database (`UPDATE ... WHERE <time> <= new`, then an
INSERT in a savepoint that falls back to the guarded UPDATE when another writer inserted first),
so concurrent runs, sensor ticks and cohort threads never lose a newer fact to an older one.
The connection's `last_failure_*` columns (the Integrations card) mirror the partner's latest
failure still open, refreshed in the same transaction under the connection's row lock.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import overload

import sqlalchemy as sa

from xero_sync.store.schema import (
    outbox,
    partner_failures,
    partner_phase_successes,
    partner_reconciliations,
    partner_work_successes,
    xero_connections,
)
from xero_sync.store.states import ConnectionStatus, OutboxStatus
from xero_sync.sync.failure_policy import Work, job_work
from xero_sync.sync.health import safe_failure_message


# How long a success is remembered against failures reported late: far beyond the sensors' lag.
SUCCESS_MEMORY = dt.timedelta(days=2)


@dataclass(frozen=True)
class OpenFailure:
    work: Work
    job: str
    failed_at: dt.datetime
    message: str
    run_id: str | None


@dataclass(frozen=True)
class Reconciliation:
    computed_at: dt.datetime
    differences: int
    unexplained: int
    run_id: str | None


@overload
def _aware(value: dt.datetime) -> dt.datetime: ...
@overload
def _aware(value: dt.datetime | None) -> dt.datetime | None: ...
def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value


def _upsert(conn: sa.Connection, table: sa.Table, keys: Mapping[str, object],
            values: Mapping[str, object], newer: str) -> None:
    """Insert the row, or update it when `values[newer]` is at least as new as the stored one."""
    where = [table.c[k] == v for k, v in keys.items()]
    guarded = sa.update(table).where(*where, table.c[newer] <= values[newer]).values(**values)
    if conn.execute(guarded).rowcount:
        return
    if conn.execute(sa.select(table.c[newer]).where(*where)).first() is not None:
        return  # a newer fact is stored: keep it
    savepoint = conn.begin_nested()
    try:
        conn.execute(sa.insert(table).values(**keys, **values))
        savepoint.commit()
    except sa.exc.IntegrityError:  # inserted by another writer meanwhile: the newer one wins
        savepoint.rollback()
        conn.execute(guarded)


def _lock_connection(conn: sa.Connection, partner_id: str) -> bool:
    """Serialize a partner's failure bookkeeping on its connection row (False: no connection)."""
    c = xero_connections.c
    query = sa.select(c.partner_id).where(c.partner_id == partner_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query).first() is not None


def _refresh_connection(conn: sa.Connection, partner_id: str) -> None:
    """The connection's last_failure_* = the partner's latest open failure (or none)."""
    f, c = partner_failures.c, xero_connections.c
    latest = conn.execute(
        sa.select(f.job, f.failed_at, f.message, f.run_id)
        .where(f.partner_id == partner_id).order_by(f.failed_at.desc(), f.work).limit(1)).first()
    values = ({"last_failure_job": None, "last_failure_at": None, "last_failure_message": None,
               "last_failure_run_id": None} if latest is None else
              {"last_failure_job": latest.job, "last_failure_at": latest.failed_at,
               "last_failure_message": latest.message, "last_failure_run_id": latest.run_id})
    conn.execute(sa.update(xero_connections).where(c.partner_id == partner_id).values(**values))


def record_failure(conn: sa.Connection, partner_id: str, works: Iterable[Work], *, job: str,
                   at: dt.datetime, message: str, run_id: str | None) -> bool:
    """The partner's failure of each work (an older failure arriving late never replaces a newer
    one). False if the partner has no connection row."""
    if not _lock_connection(conn, partner_id):
        return False
    for work in works:
        _upsert(conn, partner_failures,
                {"partner_id": partner_id, "work": work.name, "first_month": work.first_month,
                 "last_month": work.last_month},
                {"job": job[:200], "failed_at": at, "message": message, "run_id": run_id},
                newer="failed_at")
    _refresh_connection(conn, partner_id)
    return True


def clear_failures(conn: sa.Connection, partner_id: str, works: Iterable[Work],
                   succeeded_at: dt.datetime) -> int:
    """A success of `works` at `succeeded_at` clears the partner's earlier failures it covers
    (failure_policy.Work.covers); returns how many were cleared."""
    f = partner_failures.c
    works = list(works)
    names = sorted({w.name for w in works})
    if not names or not _lock_connection(conn, partner_id):
        return 0
    rows = conn.execute(sa.select(f.work, f.first_month, f.last_month).where(
        f.partner_id == partner_id, f.work.in_(names), f.failed_at <= succeeded_at)).all()
    cleared = [r for r in rows
               if any(w.covers(Work(r.work, r.first_month, r.last_month)) for w in works)]
    for r in cleared:
        conn.execute(sa.delete(partner_failures).where(
            f.partner_id == partner_id, f.work == r.work, f.first_month == r.first_month,
            f.last_month == r.last_month, f.failed_at <= succeeded_at))
    if cleared:
        _refresh_connection(conn, partner_id)
    return len(cleared)


def work_failed(conn: sa.Connection, partner_id: str, works: Iterable[Work], *, job: str,
                at: dt.datetime, message: str, run_id: str | None) -> bool:
    """The partner failed `works` at `at` in a run of `job`: each is recorded as open, with the
    message masked and bounded (sync.health.safe_failure_message), unless a success of the same
    work at or after `at` was already recorded. False: no connection row."""
    works = list(works)
    if not _lock_connection(conn, partner_id):
        return False
    s = partner_work_successes.c
    later = [Work(r.work, r.first_month, r.last_month) for r in conn.execute(
        sa.select(s.work, s.first_month, s.last_month).where(
            s.partner_id == partner_id, s.work.in_(sorted({w.name for w in works})), s.succeeded_at >= at))]
    still = [w for w in works if not any(done.covers(w) for done in later)]
    if not still:
        return True
    return record_failure(conn, partner_id, still, job=job, at=at, message=safe_failure_message(message),
                          run_id=run_id)


def work_succeeded(conn: sa.Connection, partner_id: str, works: Iterable[Work], *, phase: str,
                   at: dt.datetime, job: str | None = None) -> int:
    """The partner did `works` at `at` (in a run of `job`, when a run): the failures of the same
    work up to then are cleared (with `job`, also a failure recorded by job, as before failures
    were kept per work) and `phase` notes its success. Returns how many failures were cleared."""
    works = [*works, *([job_work(job)] if job else [])]
    if _lock_connection(conn, partner_id):
        for work in works:
            _upsert(conn, partner_work_successes,
                    {"partner_id": partner_id, "work": work.name, "first_month": work.first_month,
                     "last_month": work.last_month}, {"succeeded_at": at}, newer="succeeded_at")
        s = partner_work_successes.c
        conn.execute(sa.delete(partner_work_successes).where(
            s.partner_id == partner_id, s.succeeded_at < at - SUCCESS_MEMORY))
    cleared = clear_failures(conn, partner_id, works, at)
    record_phase_success(conn, partner_id, phase, at)
    return cleared


def open_failures(conn: sa.Connection) -> dict[str, list[OpenFailure]]:
    """partner_id -> its open failures, newest first (one query for every partner)."""
    f = partner_failures.c
    found: dict[str, list[OpenFailure]] = defaultdict(list)
    for r in conn.execute(sa.select(partner_failures).order_by(f.partner_id, f.failed_at.desc())):
        found[r.partner_id].append(OpenFailure(Work(r.work, r.first_month, r.last_month), r.job,
                                               _aware(r.failed_at), r.message, r.run_id))
    return dict(found)


def record_phase_success(conn: sa.Connection, partner_id: str, phase: str, at: dt.datetime) -> None:
    _upsert(conn, partner_phase_successes, {"partner_id": partner_id, "phase": phase[:32]},
            {"succeeded_at": at}, newer="succeeded_at")


def phase_successes(conn: sa.Connection) -> dict[str, dict[str, dt.datetime]]:
    """partner_id -> phase -> when it last succeeded."""
    p = partner_phase_successes.c
    found: dict[str, dict[str, dt.datetime]] = defaultdict(dict)
    for r in conn.execute(sa.select(p.partner_id, p.phase, p.succeeded_at)):
        found[r.partner_id][r.phase] = _aware(r.succeeded_at)
    return dict(found)


def record_reconciliation(conn: sa.Connection, partner_id: str, result: Reconciliation) -> None:
    """The partner's latest reconciliation (an older result finishing late never replaces it)."""
    _upsert(conn, partner_reconciliations, {"partner_id": partner_id},
            {"computed_at": result.computed_at, "differences": result.differences,
             "unexplained": result.unexplained, "run_id": result.run_id}, newer="computed_at")


def reconciliations(conn: sa.Connection) -> dict[str, Reconciliation]:
    return {row.partner_id: Reconciliation(_aware(row.computed_at), row.differences, row.unexplained,
                                           row.run_id)
            for row in conn.execute(sa.select(partner_reconciliations))}


def reconciled_at(conn: sa.Connection, partner_id: str) -> Reconciliation | None:
    r = partner_reconciliations.c
    row = conn.execute(sa.select(partner_reconciliations).where(r.partner_id == partner_id)).first()
    return None if row is None else Reconciliation(_aware(row.computed_at), row.differences,
                                                   row.unexplained, row.run_id)


def failing_reconciliations(conn: sa.Connection, shard: int | None = None) -> dict[str, int]:
    """partner_id -> unexplained differences, for partners (of `shard`) whose latest
    reconciliation has any."""
    r, c = partner_reconciliations.c, xero_connections.c
    query = (sa.select(r.partner_id, r.unexplained)
             .join(xero_connections, c.partner_id == r.partner_id).where(r.unexplained > 0))
    if shard is not None:
        query = query.where(c.shard == shard)
    return {row.partner_id: int(row.unexplained) for row in conn.execute(query)}


@dataclass(frozen=True)
class SettledWrites:
    partner_id: str
    tenant_id: str | None
    written_at: dt.datetime  # when the partner's last written outbox row was sent
    last_outbox_id: int


def reconciliations_due_after_writes(conn: sa.Connection, shard: int, now: dt.datetime,
                                     settle: dt.timedelta, look_back: dt.timedelta,
                                     limit: int) -> list[SettledWrites]:
    """The shard's connected partners whose last written outbox row (done, sent within
    `look_back`) is past the settle bound (sent before now - settle) and whose latest
    reconciliation did not see it settled (none, or computed before written_at + settle).
    One grouped query over the recent done rows; at most `limit` partners, oldest write first."""
    o, c, r = outbox.c, xero_connections.c, partner_reconciliations.c
    sent = sa.func.coalesce(o.sent_at, o.updated_at, type_=o.sent_at.type)
    writes = (sa.select(o.partner_id, sa.func.max(sent).label("written_at"),
                        sa.func.max(o.outbox_id).label("last_outbox_id"))
              .where(o.status == OutboxStatus.DONE, sent > now - look_back)
              .group_by(o.partner_id).subquery())
    rows = conn.execute(
        sa.select(writes.c.partner_id, writes.c.written_at, writes.c.last_outbox_id, c.tenant_id,
                  r.computed_at)
        .join(xero_connections, c.partner_id == writes.c.partner_id)
        .outerjoin(partner_reconciliations, r.partner_id == writes.c.partner_id)
        .where(c.shard == shard, c.status == ConnectionStatus.CONNECTED)
        .order_by(writes.c.written_at, writes.c.partner_id)
    ).all()
    due = []
    for row in rows:
        written = _aware(row.written_at)
        reconciled = _aware(row.computed_at)
        if written > now - settle:
            continue  # not settled yet: Xero may still be showing less than was written
        if reconciled is None or reconciled < written + settle:
            due.append(SettledWrites(row.partner_id, row.tenant_id, written, int(row.last_outbox_id)))
        if len(due) >= limit:
            break
    return due
