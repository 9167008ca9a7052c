"""Auth, rate limits and faults through the real SDK against the sandbox (frozen clock)."""

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.sandbox_fixtures import control
from xero_sync.store import schema
from xero_sync.store.token_store import mark_disconnected
from xero_sync.core.errors import DailyLimitReached, NeedsReauth, TenantDisconnected, XeroUnavailable
from xero_sync.xero.rate_budget import RateBudget


def _store_expiry(env, expires_at: dt.datetime) -> None:
    """Make our stored copy believe the access token expires at `expires_at`."""
    with env.engine.begin() as conn:
        conn.execute(sa.update(schema.xero_token_sets)
                     .where(schema.xero_token_sets.c.token_set_id == env.token_set_id)
                     .values(expires_at=expires_at))


def test_expired_access_token_is_refreshed_before_the_call(env):
    client = env.client()
    client.organisation()
    before = env.store.load(env.token_set_id)
    env.clock.advance(31 * 60)  # access token (30 min) has expired on the sandbox clock
    assert client.organisation().records
    after = env.store.load(env.token_set_id)
    assert env.token_endpoint_calls() == 1
    assert after.access_token != before.access_token and after.refresh_token != before.refresh_token
    assert env.store.version(env.token_set_id) == 2
    statuses = [r["status"] for r in env.requests(tenant_id=env.tenant_id)]
    assert 401 not in statuses  # refreshed proactively, no rejected call


def test_401_refreshes_once_and_retries(env):
    # Our copy thinks the token is good for a year; Xero (the sandbox) says it expired.
    _store_expiry(env, dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc))
    env.clock.advance(31 * 60)
    client = env.client()
    assert client.organisation().records
    assert env.token_endpoint_calls() == 1
    statuses = [r["status"] for r in env.requests() if "Organisation" in r["path"]]
    assert statuses == [401, 200]


def test_invalid_grant_raises_needs_reauth_and_marks_connection(env):
    env.add_connection("acme")
    control(env.server, "POST", "/tokens/revoke", {"tenant_id": env.tenant_id})
    env.clock.advance(31 * 60)
    with pytest.raises(NeedsReauth, match="invalid_grant"):
        env.client().organisation()
    status, detail = env.connection_status("acme")
    assert status == "needs_reauth" and "reconnect" in detail.lower()
    assert env.store.version(env.token_set_id) == 1  # nothing rotated


def test_403_for_a_tenant_not_connected_is_tenant_disconnected(make_env):
    env = make_env(tenants=2)
    other = [t for t in env.server.sandbox.orgs if t != env.tenant_id][0]
    env.add_connection("other", tenant_id=other)
    with pytest.raises(TenantDisconnected) as err:
        env.client(tenant_id=other).organisation()
    assert err.value.status == 403 and other in str(err.value)
    assert mark_disconnected(env.engine, other, str(err.value)) == 1
    assert env.connection_status("other")[0] == "disconnected"


def test_connections_lists_the_tenant_and_disconnect_removes_it(env):
    tokens = env.store.load(env.token_set_id)
    conns = env.app.connections(tokens.access_token)
    assert [c.tenant_id for c in conns] == [env.tenant_id]
    env.app.disconnect(tokens.access_token, conns[0].id)
    assert env.app.connections(tokens.access_token) == []


def test_minute_429_waits_on_frozen_clock_and_succeeds(env):
    env.fault(kind="rate_limit", problem="minute", retry_after=30, count=2, tenant_id=env.tenant_id)
    client = env.client()
    start = env.clock.time()
    assert client.accounts().records
    statuses = [(r["status"], r["rate_limit_problem"]) for r in env.requests(tenant_id=env.tenant_id)]
    assert statuses == [(429, "minute"), (429, "minute"), (200, None)]
    assert env.clock.time() - start == pytest.approx(60)  # slept Retry-After twice, on the sandbox clock
    assert client.stats()["budget"]["waited_seconds"] == pytest.approx(60)


def test_real_minute_limit_header_makes_the_budget_wait_instead_of_hitting_429(make_env):
    env = make_env(minute_limit=3)
    # A budget that does not know the limit: only Xero's X-MinLimit-Remaining can stop it.
    client = env.client(budget=RateBudget(env.tenant_id, clock=env.clock.time, sleep=env.clock.sleep,
                                          minute_limit=1000, reserve=0))
    for _ in range(7):
        assert client.organisation().records
    assert [r for r in env.requests(tenant_id=env.tenant_id) if r["status"] == 429] == []
    assert client.stats()["budget"]["waited_seconds"] >= 60


def test_default_budget_paces_under_the_minute_limit_without_any_429(make_env):
    env = make_env(minute_limit=10)
    client = env.client(budget=RateBudget(env.tenant_id, clock=env.clock.time, sleep=env.clock.sleep,
                                          minute_limit=10))
    for _ in range(20):
        client.organisation()
    assert [r for r in env.requests(tenant_id=env.tenant_id) if r["status"] == 429] == []
    assert client.stats()["budget"]["waited_seconds"] >= 60


def test_day_429_raises_daily_limit_reached_with_resume_time_and_parks(make_env):
    env = make_env(day_limit=2)
    client = env.client()
    client.organisation()
    client.organisation()
    now = env.clock.now()
    with pytest.raises(DailyLimitReached) as err:
        client.organisation()
    assert err.value.tenant_id == env.tenant_id and err.value.resume_at > now
    seen = len(env.requests(tenant_id=env.tenant_id))
    with pytest.raises(DailyLimitReached):
        client.accounts()  # parked: refused locally, nothing sent
    assert len(env.requests(tenant_id=env.tenant_id)) == seen
    assert client.stats()["budget"]["parked_until"] == err.value.resume_at.isoformat()


def test_day_429_fault_is_not_retried(env):
    env.fault(kind="rate_limit", problem="day", retry_after=3600, count=1, tenant_id=env.tenant_id)
    with pytest.raises(DailyLimitReached) as err:
        env.client().organisation()
    assert err.value.resume_at == env.clock.now() + dt.timedelta(seconds=3600)
    assert len(env.requests(tenant_id=env.tenant_id)) == 1


def test_5xx_retried_then_succeeds_and_persistent_5xx_is_unavailable(env):
    env.fault(kind="server_error", count=2, tenant_id=env.tenant_id)
    assert env.client().accounts().records
    assert [r["status"] for r in env.requests(tenant_id=env.tenant_id)] == [500, 500, 200]
    env.fault(kind="unavailable", count=10, tenant_id=env.tenant_id)
    with pytest.raises(XeroUnavailable) as err:
        env.client().accounts()
    assert err.value.status == 503


def test_concurrent_refresh_from_two_threads_calls_token_endpoint_once(env):
    import threading

    from xero_sync.store.db import make_engine
    from xero_sync.store.token_store import SqlTokenStore

    # Two "processes": separate engines, stores, OAuth apps and clients on one token set.
    engines = [make_engine(env.engine.url), make_engine(env.engine.url)]
    clients = [env.client(store=SqlTokenStore(e, env.cipher, clock=env.clock.time), app=env.new_app())
               for e in engines]
    env.clock.advance(31 * 60)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(client):
        try:
            barrier.wait()
            client.organisation()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    for e in engines:
        e.dispose()
    assert errors == []
    assert env.token_endpoint_calls() == 1
    assert env.store.version(env.token_set_id) == 2
