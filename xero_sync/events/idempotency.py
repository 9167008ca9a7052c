"""Idempotency keys of the events API: one row per (partner, key) in `event_requests`, written in
the transaction that records the event, holding the answer (the id the event returned).

A request carrying a key already stored gets the stored answer back, without recording anything
again, if it is the same event with the same fields (compared by a SHA-256 of them); another event
or other fields under the same key is refused (EventConflict: the key was reused by mistake). Two
requests with one key at the same moment cannot both record: the primary key lets one insert and
the other's transaction fails, and `platform.events` runs it again as a replay.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal

import sqlalchemy as sa

from xero_sync.events.checks import EventConflict, shown
from xero_sync.store.schema import event_requests


def _plain(value: object) -> object:
    if isinstance(value, Decimal | dt.date):
        return str(value)
    raise TypeError(f"cannot fingerprint a {type(value).__name__}")


def fingerprint(event: str, fields: Mapping[str, object]) -> str:
    """SHA-256 of the event and its fields as sent (a retry sends the very same fields)."""
    try:
        text = json.dumps({"event": event, "fields": dict(fields)}, sort_keys=True,
                          separators=(",", ":"), default=_plain)
    except (TypeError, ValueError):
        text = repr(sorted((str(k), repr(v)) for k, v in fields.items()))
    return hashlib.sha256(f"{event}\n{text}".encode()).hexdigest()


def replay(conn: sa.Connection, partner_id: str, key: str, event: str,
           digest: str) -> tuple[bool, object]:
    """(True, the first answer) when this key already recorded this very request; (False, None)
    when the key is new; EventConflict when it was used for another request."""
    r = event_requests.c
    row = conn.execute(
        sa.select(r.event, r.request_sha256, r.answer)
        .where(r.partner_id == partner_id, r.idempotency_key == key)
    ).first()
    if row is None:
        return False, None
    if row.event != event or row.request_sha256 != digest:
        raise EventConflict("idempotency_key", f"{shown(key)} was already used for another "
                                               f"{row.event} request (other fields); use a new key")
    return True, row.answer


def remember(conn: sa.Connection, partner_id: str, key: str, event: str, digest: str,
             answer: object) -> None:
    conn.execute(sa.insert(event_requests).values(
        partner_id=partner_id, idempotency_key=key, event=event, request_sha256=digest,
        answer=answer))
