"""The app-wide budget in the platform store holds across processes: two processes calling the
sandbox at once never exceed the app's minute, nor one tenant's minute when both call for it.

Counted in the sandbox's request log on its frozen clock: waits advance the clock (POST
/_sandbox/clock/advance), never real time. Without the shared budget each process would keep
only its own count and the sandbox would answer 429s.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import multiprocessing
import urllib.request

import pytest

from tests.sandbox_fixtures import control, issue_tokens
from xero_sync.store.rate_windows import StoreRateWindows
from xero_sync.store.token_cipher import TokenCipher
from xero_sync.store.token_store import SqlTokenStore
from xero_sync.core.tokens import TokenSet

CALLS_PER_PROCESS = 24


class ClockGate:
    """Keeps the frozen clock from jumping between a call's take and its arrival.

    In real time the two are milliseconds apart; on a frozen clock, another process advancing
    time meanwhile would land a call taken in one minute in the next. So a call holds this
    (cross-process) lock from its take until it is answered, and advancing the clock waits for it.
    """

    def __init__(self, path: str) -> None:
        self._file = open(path, "a+")  # noqa: SIM115 - held for the process's life

    def hold(self) -> None:
        fcntl.flock(self._file, fcntl.LOCK_EX)

    def free(self) -> None:
        fcntl.flock(self._file, fcntl.LOCK_UN)


class GatedWindows:
    """The store's shared budget, taking the gate with each call it admits (and reading the
    clock under it: a time read before another process advanced the clock would be stale)."""

    def __init__(self, inner: StoreRateWindows, gate: ClockGate, clock: RemoteClock) -> None:
        self.inner, self.gate, self.clock = inner, gate, clock

    def take(self, tenant_id: str, now: float):
        self.gate.hold()
        refusal = self.inner.take(tenant_id, self.clock.time())
        if refusal is not None:
            self.gate.free()
        return refusal


class RemoteClock:
    """The sandbox's clock, read and advanced over its control API (shared by both processes)."""

    def __init__(self, base_url: str, gate: ClockGate | None = None) -> None:
        self.base_url = base_url
        self.gate = gate

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(f"{self.base_url}/_sandbox{path}", method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def time(self) -> float:
        return float(self._call("GET", "/clock")["time"])

    def sleep(self, seconds: float) -> None:
        if self.gate:
            self.gate.hold()
        try:
            self._call("POST", "/clock/advance", {"seconds": seconds})
        finally:
            if self.gate:
                self.gate.free()


def make_calls(base_url: str, db_url: str, key: str, tenant_id: str, token_set_id: int, limits: dict,
               gate_path: str) -> int:
    """One process: a client whose every call is taken from the shared budget first."""
    from xero_sync.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, XeroEndpoints
    from xero_sync.store.db import make_engine
    from xero_sync.xero.client import XeroClient
    from xero_sync.xero.oauth import OAuthApp
    from xero_sync.xero.rate_budget import RateBudget

    class GatedBudget(RateBudget):
        def release(self) -> None:
            super().release()
            gate.free()  # the call was answered

    gate = ClockGate(gate_path)
    clock = RemoteClock(base_url, gate)
    engine = make_engine(db_url)
    endpoints = XeroEndpoints.for_base(base_url)
    # The process's own minute pacing is set out of the way: the shared budget is under test.
    budget = GatedBudget(tenant_id, clock=clock.time, sleep=clock.sleep, minute_limit=100_000)
    budget.share(GatedWindows(StoreRateWindows(engine, **limits), gate, clock))
    client = XeroClient(
        endpoints=endpoints, tenant_id=tenant_id, token_store=SqlTokenStore(engine, TokenCipher(key), clock=clock.time),
        token_set_id=token_set_id, budget=budget, clock=clock.time, sleep=clock.sleep,
        oauth_app=OAuthApp(endpoints, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, clock=clock.time, sleep=clock.sleep),
    )
    for _ in range(CALLS_PER_PROCESS):
        client.organisation()
    engine.dispose()
    return client.stats()["budget"]["shared_budget_waits"]


def most_in_any_minute(entries: list[dict]) -> int:
    """The largest number of answered API calls within any 60 s of sandbox time."""
    times = sorted(dt.datetime.fromisoformat(e["time"]).timestamp() for e in entries)
    return max((sum(1 for u in times if t <= u < t + 60) for t in times), default=0)


def run_two_processes(server, store_engine, db_url: str, tenants: list[str], limits: dict, tmp_path) -> list[int]:
    key = TokenCipher.generate_key()
    store = SqlTokenStore(store_engine, TokenCipher(key), clock=server.sandbox.clock.time)
    token_sets = {t: store.save_new(TokenSet.from_token_response(issue_tokens(server, t), server.sandbox.clock.time()))
                  for t in set(tenants)}
    pool = multiprocessing.get_context("spawn").Pool(2)
    try:
        results = [pool.apply_async(make_calls, (server.base_url, db_url, key, t, token_sets[t], limits,
                                                   str(tmp_path / "clock.lock")))
                   for t in tenants]
        answers = [r.get(timeout=300) for r in results]
        pool.close()  # workers finish and exit on their own
        return answers
    finally:
        pool.terminate()
        pool.join()


def api_calls(server) -> list[dict]:
    return [e for e in control(server, "GET", "/requests") if "/api.xro/" in e["path"]]


def test_two_processes_stay_under_the_app_minute_together(sandbox_factory, store_engine, db_url, tmp_path):
    server = sandbox_factory(tenants=2, invoices=10, minute_limit=10_000, app_minute_limit=20)
    tenants = list(server.sandbox.orgs)

    waits = run_two_processes(server, store_engine, db_url, tenants,
                              {"app_minute_limit": 20, "tenant_minute_limit": 10_000}, tmp_path)

    calls = api_calls(server)
    assert len(calls) == 2 * CALLS_PER_PROCESS
    assert most_in_any_minute(calls) <= 20
    assert all(server.sandbox.limits.calls(t)["rejected"] == 0 for t in tenants)  # no 429 at all
    assert sum(waits) > 0  # the shared budget did hold calls back


def test_two_processes_of_one_tenant_share_its_minute(sandbox_factory, store_engine, db_url, tmp_path):
    server = sandbox_factory(tenants=1, invoices=10, minute_limit=10)
    tenant = next(iter(server.sandbox.orgs))

    run_two_processes(server, store_engine, db_url, [tenant, tenant],
                      {"app_minute_limit": 10_000, "tenant_minute_limit": 10}, tmp_path)

    calls = api_calls(server)
    assert len(calls) == 2 * CALLS_PER_PROCESS
    assert most_in_any_minute(calls) <= 10
    assert server.sandbox.limits.calls(tenant)["rejected"] == 0


def test_a_full_day_parks_the_tenant_instead_of_sleeping(store_engine):
    from xero_sync.core.errors import DailyLimitReached
    from xero_sync.xero.rate_budget import RateBudget

    now = [1_000_000.0]
    slept: list[float] = []
    budget = RateBudget("t-day", clock=lambda: now[0], sleep=slept.append)
    budget.share(StoreRateWindows(store_engine, tenant_day_limit=3))
    for _ in range(3):
        with budget.slot():
            now[0] += 61  # a new minute each call: only the day fills up
    with pytest.raises(DailyLimitReached):
        budget.acquire()
    assert slept == [] and budget.parked_until is not None
    assert StoreRateWindows(store_engine).used("t-day", now[0])["tenant_day"] == 3  # the refusal counted nothing


def test_a_full_minute_refuses_until_its_oldest_bucket_has_left_the_window(store_engine):
    windows = StoreRateWindows(store_engine, app_minute_limit=3)
    t0 = 1_000_000.0  # a multiple of the 5 s bucket
    assert [windows.take("t1", t0 + i) for i in range(3)] == [None, None, None]
    refusal = windows.take("t2", t0 + 10)  # another tenant: the app's minute is shared
    assert refusal is not None and refusal.scope == "app_minute" and refusal.retry_after == 55
    # Any 60 s holding the last call also holds t0's bucket until t0 + 65.
    assert windows.take("t2", t0 + 64) is not None
    assert windows.take("t2", t0 + 65) is None
    assert windows.used("t1", t0 + 65) == {"app_minute": 1, "tenant_minute": 0, "tenant_day": 3}
