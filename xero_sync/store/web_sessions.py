"""Who may be signed in to the Integrations page, kept in the store (web/sessions.py uses it).

- A session generation per partner: a session cookie names the generation it was issued at;
  `end_sessions` (sign-out, Disconnect) bumps it, so every earlier cookie of the partner opens
  nothing, whatever its signature or expiry says.
- The single-use id (`jti`) of every sign-in assertion exchanged: `use_assertion` inserts it and
  the primary key decides, so a replay is refused even when both copies arrive at once.

Every function takes an open `sa.Connection`; the caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from xero_sync.store.bulk import dialect_insert
from xero_sync.store.schema import partner_sessions, signin_assertions


def use_assertion(conn: sa.Connection, jti: str, partner_id: str, expires_at: dt.datetime) -> bool:
    """Record assertion `jti` as used; False when it was used before (a replay: refuse it).

    Ids of assertions expired a day ago go at the same time (they could not be accepted anyway)."""
    inserted = conn.execute(
        dialect_insert(conn, signin_assertions)
        .values(jti=jti, partner_id=partner_id, expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=["jti"])
        .returning(signin_assertions.c.jti)
    ).first() is not None
    now = dt.datetime.now(dt.timezone.utc)
    conn.execute(sa.delete(signin_assertions).where(signin_assertions.c.expires_at < now - dt.timedelta(days=1)))
    return inserted


def current_generation(conn: sa.Connection, partner_id: str) -> int:
    """The partner's session generation (its row is created at 0 if missing)."""
    conn.execute(
        dialect_insert(conn, partner_sessions).values(partner_id=partner_id, generation=0)
        .on_conflict_do_nothing(index_elements=["partner_id"])
    )
    return int(conn.execute(sa.select(partner_sessions.c.generation)
                            .where(partner_sessions.c.partner_id == partner_id)).scalar_one())


def generation(conn: sa.Connection, partner_id: str) -> int | None:
    """The partner's session generation, or None if it never signed in (no session can be valid)."""
    return conn.execute(sa.select(partner_sessions.c.generation)
                        .where(partner_sessions.c.partner_id == partner_id)).scalar()


def end_sessions(conn: sa.Connection, partner_id: str) -> int:
    """Bump the partner's generation (one UPDATE, so concurrent bumps all count); the new value."""
    current_generation(conn, partner_id)
    return int(conn.execute(
        sa.update(partner_sessions).where(partner_sessions.c.partner_id == partner_id)
        .values(generation=partner_sessions.c.generation + 1, updated_at=dt.datetime.now(dt.timezone.utc))
        .returning(partner_sessions.c.generation)
    ).scalar_one())
