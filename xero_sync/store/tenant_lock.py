"""One writer per tenant: a lock row in the platform store (`tenant_locks`), same on PostgreSQL
and SQLite.

Every run that calls Xero for a tenant (push, pull assets, incremental job) holds it, however the
run was launched (sensor, schedule, UI, backfill, CLI): a second run for the same tenant waits a
bounded time for it, then stops with `TenantBusy` (a clear message naming the holder).

The holder is alive while its heartbeat (wall time, renewed by a background thread every
HEARTBEAT_SECONDS in short transactions) is younger than TTL_SECONDS and, on this host, its
process exists. So a SIGKILLed holder on this host is replaced at once, one on another host once
its heartbeat is TTL_SECONDS old, and a live holder is never replaced however long Xero keeps it
waiting (a 429 with a long Retry-After, a slow answer): liveness is proven, not guessed from the
age of a row. Taking over is a compare-and-set on the row's owner, so two contenders never both win.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa

from xero_sync.store.schema import tenant_locks

TTL_SECONDS = 60.0
HEARTBEAT_SECONDS = 10.0
POLL_SECONDS = 0.5  # between tries while waiting for a busy tenant (bounded by `wait_seconds`)
HOST = socket.gethostname()[:255]


class TenantBusy(Exception):
    """Another live run holds the tenant's lock."""


class LockLost(Exception):
    """This run's lock was taken over (its heartbeat stalled past the TTL): it stops writing."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    try:  # a killed child not yet reaped by its parent is a zombie: dead for our purpose
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def holder_alive(row: sa.Row, now: dt.datetime, ttl: float = TTL_SECONDS) -> bool:
    if (now - row.heartbeat_at).total_seconds() > ttl:
        return False
    return row.host != HOST or _pid_alive(row.pid)


@dataclass
class TenantLock:
    """A held lock; `lost` is set if the heartbeat found it taken over (the holder then stops
    before its next write)."""

    engine: sa.Engine
    tenant_id: str
    owner: str
    purpose: str
    lost: threading.Event
    _stop: threading.Event
    _thread: threading.Thread | None = None

    def check(self) -> None:
        """Called before every write: a run that lost its lock sends nothing more."""
        if self.lost.is_set():
            raise LockLost(f"the lock on tenant {self.tenant_id} was taken over; this run stops")

    def heartbeat(self) -> bool:
        with self.engine.begin() as conn:
            kept = conn.execute(
                sa.update(tenant_locks)
                .where(tenant_locks.c.tenant_id == self.tenant_id, tenant_locks.c.owner == self.owner)
                .values(heartbeat_at=_now())
            ).rowcount == 1
        if not kept:
            self.lost.set()
        return kept

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                if not self.heartbeat():
                    return
            except sa.exc.SQLAlchemyError:  # the next beat tries again; the TTL has slack
                continue

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self.engine.begin() as conn:
            conn.execute(sa.delete(tenant_locks).where(
                tenant_locks.c.tenant_id == self.tenant_id, tenant_locks.c.owner == self.owner))


def try_acquire(engine: sa.Engine, tenant_id: str, purpose: str, owner: str) -> sa.Row | None:
    """Take the lock if free or its holder is dead; returns None on success, else the holder."""
    now = _now()
    values = dict(owner=owner, host=HOST, pid=os.getpid(), purpose=purpose[:200],
                  acquired_at=now, heartbeat_at=now)
    where = tenant_locks.c.tenant_id == tenant_id
    with engine.connect() as conn:
        current = conn.execute(sa.select(tenant_locks).where(where)).first()
    if current is None:
        try:
            with engine.begin() as conn:
                conn.execute(sa.insert(tenant_locks).values(tenant_id=tenant_id, **values))
            return None
        except sa.exc.IntegrityError:  # another contender inserted first
            with engine.connect() as conn:
                current = conn.execute(sa.select(tenant_locks).where(where)).first()
            if current is None:
                return try_acquire(engine, tenant_id, purpose, owner)
    if current.owner != owner and holder_alive(current, now):
        return current
    with engine.begin() as conn:  # compare-and-set: only one contender replaces this owner
        taken = conn.execute(
            sa.update(tenant_locks).where(where, tenant_locks.c.owner == current.owner).values(**values)
        ).rowcount
    return None if taken == 1 else current


def acquire(engine: sa.Engine, tenant_id: str, purpose: str, *, wait_seconds: float = 0.0,
            heartbeat: bool = True) -> TenantLock:
    """Hold the tenant's lock (waiting up to `wait_seconds`), or raise TenantBusy."""
    owner = f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
    deadline = time.monotonic() + wait_seconds
    while True:
        holder = try_acquire(engine, tenant_id, purpose, owner)
        if holder is None:
            break
        if time.monotonic() >= deadline:
            raise TenantBusy(
                f"tenant {tenant_id} is busy: {holder.purpose} (pid {holder.pid} on {holder.host}, "
                f"since {holder.acquired_at:%Y-%m-%d %H:%M:%S} UTC) holds its lock; this run "
                f"({purpose}) did not call Xero and can be run again once that one ends")
        time.sleep(POLL_SECONDS)  # a bounded wait for another process, not a test's synchronisation
    lock = TenantLock(engine, tenant_id, owner, purpose, threading.Event(), threading.Event())
    if heartbeat:
        lock._thread = threading.Thread(target=lock._beat, name=f"tenant-lock-{tenant_id}", daemon=True)
        lock._thread.start()
    return lock


@contextmanager
def tenant_lock(engine: sa.Engine, tenant_id: str, purpose: str, *,
                wait_seconds: float = 0.0) -> Iterator[TenantLock]:
    lock = acquire(engine, tenant_id, purpose, wait_seconds=wait_seconds)
    try:
        yield lock
    finally:
        lock.release()
