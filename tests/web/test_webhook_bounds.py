"""Webhook receiver at its limits: replays, huge bodies, flooding tenants, unknown tenants, and a
store that is locked by someone else (answer within Xero's 5 s, lose nothing)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time

import pytest
import sqlalchemy as sa

from tests.web.conftest import SMALL_SANDBOX, make_web
from tests.web.test_webhooks import TENANT, event, payload, post, stored
from xero_sync.config import DEMO_WEBHOOK_KEY
from xero_sync.store import schema, webhook_inbox
from xero_sync.web.webhooks import MAX_EVENTS_PER_BODY, signature

UTC = dt.timezone.utc
OTHER = "7d1b4bd1-0000-4000-8000-000000000002"


def signed(client, body: bytes):
    return post(client, body, signature(DEMO_WEBHOOK_KEY, body))


def numbered(n: int, tenant_id: str = TENANT, category: str = "INVOICE") -> list[dict]:
    events = []
    for i in range(n):
        e = event(category, tenant_id=tenant_id, resource_id=f"{category.lower()}-{i}")
        e["eventDateUtc"] = f"2026-11-15T12:00:{i % 60:02d}.{i // 60:03d}"
        events.append(e)
    return events


def test_a_replayed_delivery_stores_nothing_new(web):
    client = web.app.test_client()
    body = payload(event("INVOICE"), event("CONTACT", resource_id="c-1"))
    assert signed(client, body).status_code == 200
    assert signed(client, body).status_code == 200  # Xero's retry, or a replay by someone else
    # Same events in another envelope (new entropy, sequence numbers): still the same events.
    again = payload(event("CONTACT", resource_id="c-1")).replace(b"QWERTYUIOP", b"ZZZZZZZZZZ")
    assert signed(client, again).status_code == 200
    assert [r[1] for r in stored(web)] == ["INVOICE", "CONTACT"]


def test_a_body_over_the_event_bound_is_413_and_stores_nothing(web, caplog):
    client = web.app.test_client()
    body = payload(*numbered(MAX_EVENTS_PER_BODY + 1))
    assert signed(client, body).status_code == 413
    assert f"at most {MAX_EVENTS_PER_BODY}" in caplog.text
    assert stored(web) == []
    assert signed(client, payload(*numbered(MAX_EVENTS_PER_BODY))).status_code == 200
    assert len(stored(web)) == MAX_EVENTS_PER_BODY


def test_a_flooding_tenant_collapses_to_one_event_per_category(web, monkeypatch):
    monkeypatch.setattr(webhook_inbox, "TENANT_WINDOW_LIMIT", 3)
    client = web.app.test_client()
    assert signed(client, payload(*numbered(10), *numbered(2, OTHER))).status_code == 200
    rows = stored(web)
    mine = [r for r in rows if r[0] == TENANT]
    assert len(mine) == 4  # three within the bound, then the newest of the rest
    assert mine[-1][3] == "invoice-9"
    assert len([r for r in rows if r[0] == OTHER]) == 2  # another tenant is not affected
    second = [event("INVOICE", resource_id=f"next-{i}") for i in range(5)]
    for i, e in enumerate(second):
        e["eventDateUtc"] = f"2026-11-16T00:00:0{i}"
    assert signed(client, payload(*second)).status_code == 200
    assert [r[3] for r in stored(web) if r[0] == TENANT][4:] == ["next-4"]  # still a trigger, bounded


def test_unknown_tenants_events_are_purged_after_their_time(web):
    now = dt.datetime.now(UTC)
    old = now - webhook_inbox.UNKNOWN_TENANT_TTL - dt.timedelta(hours=1)
    client = web.client("acme")
    web.connect(client)
    known = web.connection("acme").tenant_id
    rows = [("unknown-old", "00000000-0000-4000-8000-00000000000a", old),
            ("unknown-new", "00000000-0000-4000-8000-00000000000a", now),
            ("known-old", known, old)]
    with web.engine.begin() as conn:
        conn.execute(sa.insert(schema.webhook_events), [
            {"tenant_id": tenant, "category": "INVOICE", "event_type": "UPDATE", "resource_id": rid,
             "event_date": now, "received_at": at} for rid, tenant, at in rows])
    assert signed(web.app.test_client(), payload(event())).status_code == 200
    left = {r[3] for r in stored(web)}
    assert left == {"unknown-new", "known-old", "inv-1"}


@pytest.fixture
def busy_web(sandbox_factory, db_url, tmp_path, monkeypatch):
    server = sandbox_factory(tenants=1, **SMALL_SANDBOX)
    yield from make_web(server, db_url, tmp_path, monkeypatch)


class HeldLock:
    """Another process's write lock on webhook_events (SQLite: the database; PostgreSQL: the table)."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url

    def __enter__(self) -> "HeldLock":
        url = sa.make_url(self.db_url)
        if url.get_backend_name() == "sqlite":
            self.conn = sqlite3.connect(url.database, isolation_level=None)
            self.conn.execute("BEGIN IMMEDIATE")
        else:
            import psycopg

            self.conn = psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
            self.conn.execute("LOCK TABLE webhook_events IN EXCLUSIVE MODE")
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.rollback()
        self.conn.close()


def test_a_locked_store_answers_503_within_5s_and_the_retry_stores_once(busy_web, db_url):
    client = busy_web.app.test_client()
    body = payload(event())
    answer: dict = {}

    def deliver() -> None:
        started = time.monotonic()
        answer["status"] = signed(client, body).status_code
        answer["seconds"] = time.monotonic() - started

    with HeldLock(db_url):
        worker = threading.Thread(target=deliver)
        worker.start()
        worker.join(8)  # bounded even if the receiver waits on the lock (the finding)
        held = dict(answer)
    worker.join(40)
    assert held, "no answer within 8 s while the store was locked"
    assert held["seconds"] < 5 and held["status"] == 503, held
    assert stored(busy_web) == []
    # Xero redelivers the same body: stored exactly once.
    assert signed(client, body).status_code == 200
    assert signed(client, body).status_code == 200
    assert [r[3] for r in stored(busy_web)] == ["inv-1"]
    print(f"webhook answer under a held lock ({sa.make_url(db_url).get_backend_name()}): "
          f"{held['status']} in {held['seconds']:.2f} s")
