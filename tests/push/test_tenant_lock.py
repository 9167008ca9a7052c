"""The per-tenant lock in the platform store: one holder; a live holder is never replaced, a dead
one (process gone on this host, or heartbeat older than the TTL elsewhere) is replaced at once."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest
import sqlalchemy as sa

from xero_sync.store.schema import tenant_locks
from xero_sync.store import tenant_lock as tl


def _plant(engine: sa.Engine, *, host: str, pid: int, age_seconds: float) -> None:
    beat = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=age_seconds)
    with engine.begin() as conn:
        conn.execute(sa.insert(tenant_locks).values(
            tenant_id="t1", owner="someone", host=host, pid=pid, purpose="push of partner other",
            acquired_at=beat, heartbeat_at=beat))


def test_one_holder_at_a_time_and_released_on_exit(store_engine: sa.Engine) -> None:
    with tl.tenant_lock(store_engine, "t1", "push of partner acme") as held:
        with pytest.raises(tl.TenantBusy, match="push of partner acme .*holds its lock"):
            tl.acquire(store_engine, "t1", "pull of acme")
        assert held.heartbeat()  # a live holder keeps it
        other = tl.acquire(store_engine, "t2", "pull of beta")  # other tenants are independent
        other.release()
    tl.acquire(store_engine, "t1", "pull of acme").release()


def test_a_killed_holder_on_this_host_is_replaced_at_once(store_engine: sa.Engine) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    _plant(store_engine, host=tl.HOST, pid=int(gone.stdout), age_seconds=0)
    lock = tl.acquire(store_engine, "t1", "push of partner acme")
    with store_engine.connect() as conn:
        assert conn.execute(sa.select(tenant_locks.c.owner)).scalar_one() == lock.owner
    lock.release()


@pytest.mark.parametrize("age, busy", [(tl.TTL_SECONDS - 5, True), (tl.TTL_SECONDS + 5, False)])
def test_a_holder_elsewhere_is_alive_until_its_heartbeat_is_older_than_the_ttl(
        store_engine: sa.Engine, age: float, busy: bool) -> None:
    _plant(store_engine, host="another-host", pid=1, age_seconds=age)
    if busy:
        with pytest.raises(tl.TenantBusy, match="another-host"):
            tl.acquire(store_engine, "t1", "push of partner acme")
    else:
        tl.acquire(store_engine, "t1", "push of partner acme").release()


def test_a_holder_whose_lock_was_taken_stops_writing(store_engine: sa.Engine) -> None:
    lock = tl.acquire(store_engine, "t1", "push of partner acme", heartbeat=False)
    with store_engine.begin() as conn:  # taken over (its heartbeat had stalled past the TTL)
        conn.execute(sa.update(tenant_locks).values(owner="successor"))
    assert not lock.heartbeat()
    with pytest.raises(tl.LockLost):
        lock.check()
