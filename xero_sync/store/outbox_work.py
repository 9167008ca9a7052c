"""The outbox sensor's one query: partners with outbox rows still to write, grouped, bounded and
round-robin, so a tick's cost follows the partners with work (sensors/outbox.py makes run keys)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from xero_sync.store.outbox import RELEASED_NOTE
from xero_sync.store.schema import outbox, xero_connections
from xero_sync.store.states import OutboxStatus as S

_TO_WRITE = (S.PENDING, S.UNKNOWN, S.SENDING)


@dataclass(frozen=True)
class SettleWindows:
    """When an `unknown` row is due (push/settle.py): re-sent while Xero may still remember its
    key (first sent after `resend_after`), looked up once it can no longer be in flight (last sent
    at or before `look_up_before`). In between it waits, and a waiting row asks for no run. Either
    way a sent row a push touched asks again only once untouched since `retry_before` (Xero
    answering 409 "still processing" is not retried on every tick); a row never sent is due now."""

    resend_after: dt.datetime
    look_up_before: dt.datetime
    retry_before: dt.datetime


def partners_with_work(conn: sa.Connection, after: str | None, now: dt.datetime, *, limit: int,
                       stranded_after: dt.timedelta, settle: SettleWindows,
                       shard: int | None = None) -> list[sa.Row]:
    """Up to `limit` partners (of `shard`) with rows to write, by partner id after `after` and
    wrapping to the start (round-robin), each with what its push run key is made of.
    `unknown_at` is the latest update of the `unknown` rows that are due now (see SettleWindows),
    so the pushes that find a row must still wait (and touch it) ask for no new run."""
    o, c = outbox.c, xero_connections.c
    pending = o.status == S.PENDING
    fresh = sa.and_(pending, o.updated_at >= now - stranded_after)
    released = sa.and_(pending, o.error == RELEASED_NOTE)
    stale_sending = sa.and_(o.status == S.SENDING, o.updated_at < now - stranded_after)
    due = sa.or_(o.sent_at.is_(None),  # never sent: nothing in flight, look it up now
                 sa.and_(o.updated_at <= settle.retry_before,
                         sa.or_(o.sent_at <= settle.look_up_before,
                                sa.func.coalesce(o.first_sent_at, o.sent_at) > settle.resend_after)))
    unknown = sa.or_(o.status == S.UNKNOWN, stale_sending)
    unknown_due = sa.or_(sa.and_(o.status == S.UNKNOWN, due), stale_sending)
    query = (
        sa.select(
            o.partner_id,
            c.tenant_id,
            c.parked_until,
            c.status,
            sa.func.max(sa.case((pending, o.outbox_id), else_=None)).label("pending_max"),
            sa.func.max(sa.case((released, o.updated_at), else_=None)).label("released_at"),
            sa.func.count(sa.case((fresh, 1), else_=None)).label("fresh"),
            sa.func.max(sa.case((unknown_due, o.updated_at), else_=None)).label("unknown_at"),
            sa.func.max(o.outbox_id).label("max_id"),
        )
        .join(xero_connections, xero_connections.c.partner_id == o.partner_id)
        # status IN (...) first, so the (status, outbox_id) index bounds the scan to the work.
        .where(o.status.in_(_TO_WRITE), sa.or_(pending, unknown), c.tenant_id.is_not(None))
        .group_by(o.partner_id, c.tenant_id, c.parked_until, c.status)
        .order_by(o.partner_id)
    )
    if shard is not None:
        query = query.where(c.shard == shard)
    rows = list(conn.execute(query.where(o.partner_id > after).limit(limit))) if after else []
    if len(rows) < limit:
        seen = {r.partner_id for r in rows}
        head = query if after is None else query.where(o.partner_id <= after)
        rows += [r for r in conn.execute(head.limit(limit - len(rows))).all()
                 if r.partner_id not in seen]
    return rows
