"""Claiming a partner's outbox rows for one push, under the tenant lock (tenant_lock.py).

Only the holder of the tenant's lock claims. So a row found `sending` under another owner when
the lock is taken was left by a pusher that is gone (its lock was free or taken over from a dead
holder): it becomes `unknown` and is settled by settle.py's timing, from the moment its request
was last sent, not from when it was noticed. A `sending` row is never taken from a live pusher.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from xero_sync.store import outbox
from xero_sync.store.outbox import MAX_ATTEMPTS, OutboxRow
from xero_sync.store.schema import outbox as outbox_table
from xero_sync.store.states import OutboxStatus


def recover_orphans(engine: sa.Engine, partner_id: str, owner: str) -> int:
    """`sending` rows of a pusher that is gone -> unknown (or pending if never sent)."""
    o = outbox_table.c
    with engine.begin() as conn:
        ids = conn.execute(
            sa.select(o.outbox_id).where(o.partner_id == partner_id, o.status == OutboxStatus.SENDING,
                                         sa.or_(o.claimed_by.is_(None), o.claimed_by != owner))
        ).scalars().all()
        for outbox_id in ids:
            outbox.release(conn, outbox_id, "the push that sent it stopped before recording the outcome")
    return len(ids)


def claim(engine: sa.Engine, partner_id: str, owner: str, limit: int) -> tuple[list[OutboxRow], int]:
    """Claim up to `limit` rows (oldest first); rows already sent MAX_ATTEMPTS times are `held`
    instead. Returns the claimed rows and how many were held."""
    with engine.begin() as conn:
        candidates = outbox.pending(conn, partner_id=partner_id, limit=limit)
        worn = [r for r in candidates if r.attempts >= MAX_ATTEMPTS]
        for r in worn:
            outbox.mark_held(conn, r.outbox_id, f"sent {r.attempts} times without settling; last: "
                             f"{r.error or 'no answer'}. Check Xero, then re-queue or cancel it")
        rows = outbox.claim(conn, [r.outbox_id for r in candidates if r not in worn], owner)
    return rows, len(worn)


def release_unsettled(engine: sa.Engine, outbox_ids: Sequence[int], reason: str) -> int:
    """Rows of a stopping push still `sending` -> unknown if sent, pending if not."""
    o = outbox_table.c
    with engine.begin() as conn:
        stuck = conn.execute(
            sa.select(o.outbox_id).where(o.outbox_id.in_(list(outbox_ids)), o.status == OutboxStatus.SENDING)
        ).scalars().all()
        for outbox_id in stuck:
            outbox.release(conn, outbox_id, reason)
    return len(stuck)
