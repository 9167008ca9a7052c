"""If-Modified-Since watermarks and the last full re-read, per partner and entity."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from xero_sync.store.bulk import dialect_insert
from xero_sync.store.schema import sync_watermarks

ENTITIES = ("contacts", "invoices", "payments", "credit_notes")


@dataclass(frozen=True, slots=True)
class Watermark:
    partner_id: str
    entity: str
    modified_since: dt.datetime | None
    last_full_reread_at: dt.datetime | None


def _check(entity: str) -> None:
    if entity not in ENTITIES:
        raise ValueError(f"unknown watermark entity {entity!r}; expected one of {ENTITIES}")


def get_watermark(conn: sa.Connection, partner_id: str, entity: str) -> Watermark | None:
    _check(entity)
    t = sync_watermarks
    row = conn.execute(
        sa.select(t.c.partner_id, t.c.entity, t.c.modified_since, t.c.last_full_reread_at)
        .where(t.c.partner_id == partner_id, t.c.entity == entity)
    ).first()
    return None if row is None else Watermark(**row._mapping)


def advance_watermark(conn: sa.Connection, partner_id: str, entity: str, modified_since: dt.datetime) -> None:
    """Move the watermark forward to `modified_since`; an older value is ignored, so a late or
    re-run sync never moves it back."""
    _check(entity)
    t = sync_watermarks
    stmt = dialect_insert(conn, t).values(partner_id=partner_id, entity=entity, modified_since=modified_since)
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.c.partner_id, t.c.entity],
        set_={"modified_since": stmt.excluded.modified_since},
        where=sa.or_(t.c.modified_since.is_(None), stmt.excluded.modified_since > t.c.modified_since),
    )
    conn.execute(stmt)


def mark_full_reread(conn: sa.Connection, partner_id: str, entity: str, at: dt.datetime) -> None:
    """Record a finished full re-read (never moves backwards either)."""
    _check(entity)
    t = sync_watermarks
    stmt = dialect_insert(conn, t).values(partner_id=partner_id, entity=entity, last_full_reread_at=at)
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.c.partner_id, t.c.entity],
        set_={"last_full_reread_at": stmt.excluded.last_full_reread_at},
        where=sa.or_(t.c.last_full_reread_at.is_(None),
                     stmt.excluded.last_full_reread_at > t.c.last_full_reread_at),
    )
    conn.execute(stmt)


def newest_landed(conn: sa.Connection, partner_id: str, entity: str) -> dt.datetime | None:
    """The newest UpdatedDateUTC landed for an entity (Xero's clock), None if nothing landed."""
    from xero_sync.store import schema

    _check(entity)
    table = getattr(schema, f"xero_{entity}")
    return conn.execute(
        sa.select(sa.func.max(table.c.updated_at)).where(table.c.partner_id == partner_id)
    ).scalar_one_or_none()
