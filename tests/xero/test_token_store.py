"""SqlTokenStore on SQLite and PostgreSQL (migrated store): encryption, one refresher per token set."""

import datetime as dt
import threading
import time

import pytest
import sqlalchemy as sa

from tests.sandbox_fixtures import control
from tests.xero.conftest import build_env
from xero_sync.store import schema
from xero_sync.store.db import make_engine
from xero_sync.store.token_cipher import TokenCipher
from xero_sync.store.token_store import SqlTokenStore, TokenSetNotFound
from xero_sync.core.errors import NeedsReauth
from xero_sync.core.tokens import TokenSet

UTC = dt.timezone.utc


def _tokens(n: int = 1, expires: dt.datetime | None = None) -> TokenSet:
    return TokenSet(f"ACCESS-{n}", f"REFRESH-{n}", expires or dt.datetime(2030, 1, 1, tzinfo=UTC),
                    "openid offline_access", id_token=f"ID-{n}")


def test_round_trip_encrypted_at_rest(store_engine):
    store = SqlTokenStore(store_engine, TokenCipher(TokenCipher.generate_key()))
    tid = store.save_new(_tokens())
    assert store.load(tid) == _tokens()
    with store_engine.connect() as conn:
        row = conn.execute(sa.select(schema.xero_token_sets)).one()
    assert "ACCESS-1" not in str(tuple(row)) and "REFRESH-1" not in str(tuple(row))
    assert row.version == 1
    with pytest.raises(TokenSetNotFound):
        store.load(tid + 100)


def test_refresh_only_when_expiring_and_force_respects_stale(store_engine):
    now = dt.datetime(2026, 1, 1, tzinfo=UTC)
    store = SqlTokenStore(store_engine, TokenCipher(TokenCipher.generate_key()), clock=now.timestamp)
    calls: list[TokenSet] = []

    def refresher(old: TokenSet) -> TokenSet:
        calls.append(old)
        return _tokens(len(calls) + 1, now + dt.timedelta(minutes=30))

    tid = store.save_new(_tokens(1, now + dt.timedelta(minutes=5)))
    assert store.refresh(tid, refresher) == _tokens(1, now + dt.timedelta(minutes=5))
    assert calls == []  # not expiring within 60 s
    stale = store.load(tid)
    fresh = store.refresh(tid, refresher, force=True, stale=stale)
    assert fresh.access_token == "ACCESS-2" and store.version(tid) == 2
    # A second worker that also saw the 401 with the old token: someone already rotated it.
    assert store.refresh(tid, refresher, force=True, stale=stale).access_token == "ACCESS-2"
    assert len(calls) == 1 and store.version(tid) == 2


def test_concurrent_refresh_two_engines_one_token_call(sandbox, db_url, store_engine):
    env = build_env(sandbox, store_engine)
    env.clock.advance(31 * 60)  # the stored access token has expired
    engines = [make_engine(db_url), make_engine(db_url)]
    stores = [SqlTokenStore(e, env.cipher, clock=env.clock.time) for e in engines]
    apps = [env.new_app(), env.new_app()]
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def work(i: int) -> None:
        barrier.wait()
        try:
            results[i] = stores[i].refresh(env.token_set_id, apps[i].refresh)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    for e in engines:
        e.dispose()
    assert all(isinstance(r, TokenSet) for r in results), results
    assert results[0].access_token == results[1].access_token
    assert env.token_endpoint_calls() == 1 and apps[0].token_calls + apps[1].token_calls == 1
    assert env.store.version(env.token_set_id) == 2
    # The rotated pair works against Xero.
    assert env.client().organisation().records


def test_invalid_grant_marks_needs_reauth(sandbox, store_engine):
    env = build_env(sandbox, store_engine)
    env.add_connection("acme")
    control(sandbox, "POST", "/tokens/revoke", {"tenant_id": env.tenant_id})
    with pytest.raises(NeedsReauth):
        env.store.refresh(env.token_set_id, env.app.refresh, force=True)
    assert env.connection_status("acme")[0] == "needs_reauth"
    assert env.store.version(env.token_set_id) == 1


def test_a_hanging_refresh_holds_no_lock_over_other_writes(sandbox, db_url, store_engine):
    """Xero's token endpoint hangs (slow fault): a webhook insert elsewhere is not held up, and the
    refresh still completes with one token call once Xero answers."""
    env = build_env(sandbox, store_engine)
    env.clock.advance(31 * 60)  # the stored access token has expired
    env.fault(kind="slow", delay=20, path_prefix="/connect/token")
    outcome: dict = {}

    def refresh() -> None:
        try:
            outcome["tokens"] = env.store.refresh(env.token_set_id, env.app.refresh)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            outcome["error"] = exc

    worker = threading.Thread(target=refresh)
    worker.start()
    deadline = time.monotonic() + 10
    while control(sandbox, "GET", "/faults"):  # the fault is taken: the token call is in flight
        assert time.monotonic() < deadline and worker.is_alive(), outcome
        time.sleep(0.02)
    other = make_engine(db_url)
    started = time.monotonic()
    with other.begin() as conn:
        conn.execute(sa.insert(schema.webhook_events).values(
            tenant_id=env.tenant_id, category="INVOICE", event_type="UPDATE", resource_id="inv-1",
            event_date=dt.datetime(2026, 1, 1, tzinfo=UTC)))
    insert_seconds = time.monotonic() - started
    other.dispose()
    control(sandbox, "DELETE", "/faults")  # Xero answers now
    worker.join(30)
    print(f"webhook insert during a hanging refresh ({store_engine.dialect.name}): {insert_seconds:.3f} s")
    assert insert_seconds < 2, f"webhook insert waited {insert_seconds:.1f}s behind the refresh"
    assert isinstance(outcome.get("tokens"), TokenSet), outcome
    assert env.token_endpoint_calls() == 1 and env.store.version(env.token_set_id) == 2


def test_a_crashed_refreshers_lease_lapses(sandbox, store_engine):
    """A process that claimed the refresh and died leaves a lease; after it lapses another refreshes."""
    env = build_env(sandbox, store_engine)
    env.clock.advance(31 * 60)
    lapsed = dt.datetime.fromtimestamp(env.clock.time(), UTC) - dt.timedelta(seconds=1)
    with store_engine.begin() as conn:
        conn.execute(sa.update(schema.xero_token_sets).values(refresh_owner="dead-process",
                                                              refresh_lease_until=lapsed))
    fresh = env.store.refresh(env.token_set_id, env.app.refresh)
    assert env.token_endpoint_calls() == 1 and env.store.version(env.token_set_id) == 2
    with store_engine.connect() as conn:
        row = conn.execute(sa.select(schema.xero_token_sets.c.refresh_owner)).one()
    assert row.refresh_owner is None and env.store.load(env.token_set_id) == fresh
