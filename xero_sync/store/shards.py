"""Which shard each partner is in, and moves between shards (xero_sync.shards).

A partner joins the least filled shard when it is created (`connections.ensure_partner`) and
stays there: only `move` (the `xero-sync shards move|rebalance` commands) changes it, recording
the move so that the old shard's sensor removes the partner's partition and the new shard's
sensor adds it and reports the months already landed. No Xero I/O here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from xero_sync.store.schema import shard_moves, xero_connections
from xero_sync.sync import shard_plan as plan


class UnknownPartnerShard(LookupError):
    pass


@dataclass(frozen=True)
class PendingMove:
    move_id: int
    partner_id: str
    from_shard: int
    to_shard: int
    moved_at: dt.datetime


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def counts(conn: sa.Connection) -> dict[int, int]:
    """Partners per shard (shards with none are absent)."""
    c = xero_connections.c
    return dict(conn.execute(sa.select(c.shard, sa.func.count()).group_by(c.shard)).all())


def members(conn: sa.Connection) -> dict[int, list[str]]:
    c = xero_connections.c
    found: dict[int, list[str]] = {}
    for shard, partner_id in conn.execute(sa.select(c.shard, c.partner_id).order_by(c.partner_id)):
        found.setdefault(shard, []).append(partner_id)
    return found


# Partners created at once (consents in parallel at a go-live) must each count after the others'
# inserts, or they all pick the same "least filled" shard. On PostgreSQL a transaction-scoped
# advisory lock serializes count-and-insert until the creating transaction ends; SQLite has one
# writer at a time, and `ensure_partner` has written (taken the write lock) before it counts.
ASSIGN_LOCK = int.from_bytes(b"xs:shard", "big") >> 1  # a fixed bigint key for pg_advisory_xact_lock


def choose_for_new(conn: sa.Connection, shard_count: int) -> int:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(ASSIGN_LOCK)))
    return plan.choose(counts(conn), shard_count)


def shard_of(conn: sa.Connection, partner_id: str) -> int:
    found = conn.execute(sa.select(xero_connections.c.shard)
                         .where(xero_connections.c.partner_id == partner_id)).scalar()
    if found is None:
        raise UnknownPartnerShard(f"partner {partner_id!r} is not registered (no connection row)")
    return found


def move(conn: sa.Connection, partner_id: str, to_shard: int) -> PendingMove | None:
    """Move a partner to `to_shard` (None when it is there already). Its data stays where it is:
    the platform store is keyed by partner, not by shard. An earlier move not yet completed by
    the sensors is superseded: its departure still happens, its arrival is not reported."""
    if to_shard < 0:
        raise ValueError(f"shard must be >= 0, got {to_shard}")
    current = shard_of(conn, partner_id)
    if current == to_shard:
        return None
    now = _now()
    m = shard_moves.c
    conn.execute(sa.update(shard_moves)
                 .where(m.partner_id == partner_id, m.arrived_at.is_(None))
                 .values(arrived_at=now))
    # Back to a shard that has not removed its partition yet: it keeps it.
    conn.execute(sa.update(shard_moves)
                 .where(m.partner_id == partner_id, m.from_shard == to_shard, m.departed_at.is_(None))
                 .values(departed_at=now))
    conn.execute(sa.update(xero_connections).where(xero_connections.c.partner_id == partner_id)
                 .values(shard=to_shard, updated_at=now))
    move_id = conn.execute(sa.insert(shard_moves).values(
        partner_id=partner_id, from_shard=current, to_shard=to_shard, moved_at=now)
        .returning(m.move_id)).scalar_one()
    return PendingMove(move_id, partner_id, current, to_shard, now)


def _pending(conn: sa.Connection, where, limit: int) -> list[PendingMove]:
    m = shard_moves.c
    rows = conn.execute(sa.select(m.move_id, m.partner_id, m.from_shard, m.to_shard, m.moved_at)
                        .where(where).order_by(m.move_id).limit(limit)).all()
    return [PendingMove(*r) for r in rows]


def departures(conn: sa.Connection, shard: int, limit: int = 100) -> list[PendingMove]:
    """Partners that left `shard` whose partition it has not removed yet (oldest first)."""
    m = shard_moves.c
    return _pending(conn, sa.and_(m.from_shard == shard, m.departed_at.is_(None)), limit)


def arrivals(conn: sa.Connection, shard: int, limit: int = 50) -> list[PendingMove]:
    """Partners that joined `shard` whose partition and history it has not reported yet."""
    m = shard_moves.c
    return _pending(conn, sa.and_(m.to_shard == shard, m.arrived_at.is_(None)), limit)


def mark_departed(conn: sa.Connection, move_ids: list[int], shard: int) -> None:
    """Done leaving: every pending departure of these moves' partners from `shard`."""
    if move_ids:
        m = shard_moves.c
        conn.execute(sa.update(shard_moves).where(m.move_id.in_(move_ids), m.from_shard == shard)
                     .values(departed_at=_now()))


def mark_arrived(conn: sa.Connection, move_ids: list[int]) -> None:
    if move_ids:
        conn.execute(sa.update(shard_moves).where(shard_moves.c.move_id.in_(move_ids))
                     .values(arrived_at=_now()))
