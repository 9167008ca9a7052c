"""Token sets of disconnected or replaced connections are deleted, not kept at rest."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from xero_sync.store import connections
from xero_sync.store.schema import xero_token_sets
from xero_sync.store.token_cipher import TokenCipher
from xero_sync.store.token_store import SqlTokenStore, mark_disconnected
from xero_sync.core.tokens import TokenSet

TENANT = "7d1b4bd1-0000-4000-8000-0000000000aa"


def _store(engine: sa.Engine) -> SqlTokenStore:
    return SqlTokenStore(engine, TokenCipher(TokenCipher.generate_key()))


def _token_sets(engine: sa.Engine) -> list[int]:
    with engine.connect() as conn:
        query = sa.select(xero_token_sets.c.token_set_id).order_by(xero_token_sets.c.token_set_id)
        return list(conn.execute(query).scalars())


def _link(engine: sa.Engine, store: SqlTokenStore, partner: str = "acme", tenant: str = TENANT) -> int:
    token_set_id = store.save_new(TokenSet("A", "R", dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc), "openid"))
    with engine.begin() as conn:
        connections.ensure_partner(conn, partner, partner)
        connections.start_connection(conn, partner, tenant_id=tenant, tenant_name="Org",
                                     xero_connection_id="conn-1", token_set_id=token_set_id)
    return token_set_id


def test_disconnecting_drops_the_token_set(store_engine):
    store = _store(store_engine)
    _link(store_engine, store)
    with store_engine.begin() as conn:
        connections.set_status(conn, "acme", "disconnected", "by the partner")
        assert connections.get_connection(conn, "acme").token_set_id is None
    assert _token_sets(store_engine) == []


def test_xero_reporting_the_tenant_gone_drops_the_token_set(store_engine):
    store = _store(store_engine)
    _link(store_engine, store)
    assert mark_disconnected(store_engine, TENANT, "Xero says the organisation is disconnected") == 1
    assert _token_sets(store_engine) == []


def test_reconnecting_replaces_the_token_set(store_engine):
    store = _store(store_engine)
    first = _link(store_engine, store)
    with store_engine.begin() as conn:
        connections.set_status(conn, "acme", "needs_reauth", "refresh token revoked")
    second = _link(store_engine, store)  # the partner consents again: a fresh pair
    assert _token_sets(store_engine) == [second] and first != second
    with store_engine.connect() as conn:
        assert connections.get_connection(conn, "acme").token_set_id == second
