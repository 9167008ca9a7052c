"""Xero's rate limits on the sandbox server, seen through the real SDK (its own retries off)."""

from __future__ import annotations

import threading

import pytest
from xero_python.exceptions import RateLimitException

from tests.sandbox_fixtures import control, make_sdk


def _org(sdk):
    return sdk.accounting.get_organisations(sdk.tenant_id, _return_http_data_only=False)


def test_minute_limit_gives_429_minute_with_retry_after_then_reopens(sandbox_factory):
    server = sandbox_factory(invoices=10, months=2, minute_limit=5)
    sdk = make_sdk(server)
    remaining = [int(_org(sdk)[2]["X-MinLimit-Remaining"]) for _ in range(5)]
    assert remaining == [4, 3, 2, 1, 0]
    server.sandbox.clock.advance(20)
    with pytest.raises(RateLimitException) as caught:
        _org(sdk)
    assert caught.value.status == 429
    assert caught.value.rate_limit == "minute"
    assert caught.value.headers["Retry-After"] == "40"
    calls = control(server, "GET", f"/calls?tenant_id={sdk.tenant_id}")
    assert calls["total"] == 5 and calls["rejected"] == 1  # a refused call is not a made call
    assert calls["rejected_by_problem"] == {"minute": 1}
    server.sandbox.clock.advance(40)
    assert _org(sdk)[1] == 200


def test_day_limit_gives_429_day_with_hours_of_retry_after(sandbox_factory):
    server = sandbox_factory(invoices=10, months=2, day_limit=3)
    sdk = make_sdk(server)
    for _ in range(3):
        _org(sdk)
        server.sandbox.clock.advance(61)  # stay clear of the minute limit's window
    with pytest.raises(RateLimitException) as caught:
        _org(sdk)
    assert caught.value.rate_limit == "day"
    assert caught.value.headers["X-DayLimit-Remaining"] == "0"
    assert int(caught.value.headers["Retry-After"]) == 86_400 - 3 * 61
    server.sandbox.clock.advance(86_400)
    sdk = make_sdk(server)  # the old access token expired during the day
    assert _org(sdk)[1] == 200


def test_limits_are_per_tenant(sandbox_factory):
    server = sandbox_factory(invoices=10, months=2, tenants=2, minute_limit=2)
    first, second = (make_sdk(server, t) for t in server.sandbox.orgs)
    _org(first), _org(first)
    with pytest.raises(RateLimitException):
        _org(first)
    assert _org(second)[1] == 200


def test_app_minute_limit(sandbox_factory):
    server = sandbox_factory(invoices=10, months=2, tenants=2, app_minute_limit=3)
    first, second = (make_sdk(server, t) for t in server.sandbox.orgs)
    _org(first), _org(second), _org(first)
    with pytest.raises(RateLimitException) as caught:
        _org(second)
    assert caught.value.rate_limit == "appminute"


def test_sixth_concurrent_call_gets_429_concurrent(sandbox_factory):
    server = sandbox_factory(invoices=10, months=2)
    sdk = make_sdk(server)
    tenant = sdk.tenant_id
    # Five calls held in the server by a `slow` fault (released when the faults are cleared).
    control(server, "POST", "/faults", {"kind": "slow", "tenant_id": tenant, "count": 5, "delay": 30})
    results: list[int] = []
    clients = [make_sdk(server, tenant, token_set=sdk.tokens) for _ in range(5)]
    threads = [threading.Thread(target=lambda c=c: results.append(_org(c)[1])) for c in clients]
    for thread in threads:
        thread.start()
    held = threading.Event()
    for _ in range(200):  # the five requests reach the server asynchronously
        if server.sandbox.limits.calls(tenant)["in_flight"] == 5:
            held.set()
            break
        held.wait(0.02)
    assert held.is_set(), "five requests never got in flight"
    with pytest.raises(RateLimitException) as caught:
        _org(sdk)
    assert caught.value.rate_limit == "concurrent"
    control(server, "DELETE", "/faults")
    for thread in threads:
        thread.join(10)
    assert results == [200] * 5
    assert server.sandbox.limits.calls(tenant)["in_flight"] == 0
