"""Injected faults on the sandbox server, as the real SDK experiences them."""

from __future__ import annotations

from decimal import Decimal

import pytest
import urllib3
from xero_python.exceptions import HTTPStatusException, RateLimitException

from tests.sandbox.sdk_helpers import payment_body, payments_with_reference, unpaid_invoices
from tests.sandbox_fixtures import control, make_sdk


def _fault(sdk, **body) -> dict:
    return control(sdk.server, "POST", "/faults", {"tenant_id": sdk.tenant_id, **body})


def _org_status(sdk) -> int:
    return sdk.accounting.get_organisations(sdk.tenant_id, _return_http_data_only=False)[1]


@pytest.mark.parametrize(("kind", "status"), [("server_error", 500), ("unavailable", 503)])
def test_counted_5xx_fault_fires_for_next_n_calls_only(sandbox_sdk, kind, status):
    sdk = sandbox_sdk
    _fault(sdk, kind=kind, count=2)
    for _ in range(2):
        with pytest.raises(HTTPStatusException) as caught:
            sdk.accounting.get_organisations(sdk.tenant_id)
        assert caught.value.status == status
    assert _org_status(sdk) == 200
    assert control(sdk.server, "GET", "/faults") == []


def test_rate_limit_fault_day_with_retry_after(sandbox_sdk):
    sdk = sandbox_sdk
    _fault(sdk, kind="rate_limit", problem="day", retry_after=7200)
    with pytest.raises(RateLimitException) as caught:
        sdk.accounting.get_organisations(sdk.tenant_id)
    assert caught.value.rate_limit == "day"
    assert caught.value.headers["Retry-After"] == "7200"
    assert control(sdk.server, "GET", f"/calls?tenant_id={sdk.tenant_id}")["rejected_by_problem"] == {"day": 1}


def test_method_and_path_filters(sandbox_sdk):
    sdk = sandbox_sdk
    invoice = unpaid_invoices(sdk)[0]
    _fault(sdk, kind="server_error", count=1, method="PUT", path_prefix="/Payments")
    assert _org_status(sdk) == 200  # GET /Organisation is not matched
    with pytest.raises(HTTPStatusException) as caught:
        sdk.accounting.create_payments(sdk.tenant_id, payment_body(invoice, Decimal("1.00"), "f"))
    assert caught.value.status == 500
    assert payments_with_reference(sdk, "f") == []  # a 500 fault applies nothing


def _pattern(server) -> list[int]:
    sdk = make_sdk(server)
    control(server, "POST", "/faults", {"tenant_id": sdk.tenant_id, "kind": "unavailable", "rate": 0.5})
    statuses = []
    for _ in range(16):
        try:
            statuses.append(_org_status(sdk))
        except HTTPStatusException as exc:
            statuses.append(exc.status)
    return statuses


def test_rate_faults_are_reproducible_from_the_seed(sandbox_factory):
    first = _pattern(sandbox_factory(invoices=10, months=2))
    second = _pattern(sandbox_factory(invoices=10, months=2))
    assert first == second
    assert 503 in first and 200 in first


def test_slow_fault_trips_the_client_read_timeout(sandbox_sdk):
    sdk = sandbox_sdk
    _fault(sdk, kind="slow", delay=3)
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        sdk.accounting.get_organisations(sdk.tenant_id, _request_timeout=(5, 1))
    control(sdk.server, "DELETE", "/faults")  # let the held request finish


def test_lost_response_applies_the_write_and_a_keyed_retry_replays_it(sandbox_sdk):
    sdk = sandbox_sdk
    invoice = unpaid_invoices(sdk)[0]
    body = payment_body(invoice, Decimal("4.00"), "lost-1")
    _fault(sdk, kind="lost_response", method="PUT", path_prefix="/Payments")
    with pytest.raises(urllib3.exceptions.ProtocolError):
        sdk.accounting.create_payments(sdk.tenant_id, body, idempotency_key="lost-key")
    applied = payments_with_reference(sdk, "lost-1")
    assert len(applied) == 1  # Xero did it; the client just never heard
    retry = sdk.accounting.create_payments(sdk.tenant_id, body, idempotency_key="lost-key")
    assert retry.payments[0].payment_id == applied[0].payment_id
    assert len(payments_with_reference(sdk, "lost-1")) == 1
    log = control(sdk.server, "GET", f"/requests?tenant_id={sdk.tenant_id}")
    lost = [e for e in log if e["fault"] == "lost_response"]
    assert lost[0]["status"] is None and lost[0]["applied_status"] == 200


def test_lost_response_as_504(sandbox_sdk):
    sdk = sandbox_sdk
    invoice = unpaid_invoices(sdk)[0]
    _fault(sdk, kind="lost_response", mode="504", method="PUT")
    with pytest.raises(HTTPStatusException) as caught:
        sdk.accounting.create_payments(sdk.tenant_id, payment_body(invoice, Decimal("2.00"), "lost-2"))
    assert caught.value.status == 504
    assert len(payments_with_reference(sdk, "lost-2")) == 1


def test_malformed_fault_is_refused(sandbox):
    import urllib.error

    with pytest.raises(urllib.error.HTTPError) as caught:
        control(sandbox, "POST", "/faults", {"kind": "meteor"})
    assert caught.value.code == 400
    assert "meteor" in caught.value.read().decode()
