"""The /_sandbox control API: tenants, clock, request log and call counters."""

from __future__ import annotations

import urllib.error

import pytest

from tests.sandbox_fixtures import FROZEN_AT, control


def test_health_and_tenants(sandbox_factory):
    server = sandbox_factory(tenants=2, invoices=16, months=2, currency="CAD")
    assert control(server, "GET", "/health")["tenants"] == 2
    tenants = control(server, "GET", "/tenants")
    assert [t["tenant_id"] for t in tenants] == list(server.sandbox.orgs)
    assert {t["currency"] for t in tenants} == {"CAD"}
    assert all(t["name"].startswith("Demo Company (CA)") and t["short_code"] for t in tenants)


def test_clock_advance(sandbox):
    assert control(sandbox, "GET", "/clock")["now"] == FROZEN_AT.isoformat()
    moved = control(sandbox, "POST", "/clock/advance", {"seconds": 90})
    assert moved["time"] == FROZEN_AT.timestamp() + 90 and moved["frozen"] is True
    with pytest.raises(urllib.error.HTTPError) as caught:
        control(sandbox, "POST", "/clock/advance", {"seconds": "soon"})
    assert caught.value.code == 400


def test_request_log_and_calls(sandbox_sdk):
    sdk = sandbox_sdk
    sdk.accounting.get_organisations(sdk.tenant_id)
    first = control(sdk.server, "GET", f"/requests?tenant_id={sdk.tenant_id}")
    assert [(e["method"], e["path"], e["status"]) for e in first] == [("GET", "/api.xro/2.0/Organisation", 200)]
    sdk.accounting.get_accounts(sdk.tenant_id)
    newer = control(sdk.server, "GET", f"/requests?tenant_id={sdk.tenant_id}&since={first[-1]['seq']}")
    assert [e["path"] for e in newer] == ["/api.xro/2.0/Accounts"]
    calls = control(sdk.server, "GET", "/calls")[sdk.tenant_id]
    assert calls["total"] == 2 and calls["rejected"] == 0
    assert calls["by_endpoint"] == {"GET /api.xro/2.0/Organisation": 1, "GET /api.xro/2.0/Accounts": 1}


def test_tokens_for_unknown_tenant_is_404(sandbox):
    with pytest.raises(urllib.error.HTTPError) as caught:
        control(sandbox, "POST", "/tokens", {"tenant_id": "nope"})
    assert caught.value.code == 404
