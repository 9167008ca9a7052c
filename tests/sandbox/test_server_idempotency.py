"""`Idempotency-Key` on the sandbox server through the real SDK (PUT /Payments)."""

from __future__ import annotations

from decimal import Decimal

import pytest
import urllib3
from xero_python.exceptions import AccountingBadRequestException

from tests.sandbox.sdk_helpers import payment_body, payments_with_reference, unpaid_invoices
from tests.sandbox_fixtures import control


def test_same_key_same_request_replays_without_applying_twice(sandbox_sdk):
    sdk = sandbox_sdk
    invoice = unpaid_invoices(sdk)[0]
    body = payment_body(invoice, Decimal("5.00"), "idem-1")
    first = sdk.accounting.create_payments(sdk.tenant_id, body, idempotency_key="key-1")
    second = sdk.accounting.create_payments(sdk.tenant_id, body, idempotency_key="key-1")
    assert first.payments[0].payment_id == second.payments[0].payment_id
    assert len(payments_with_reference(sdk, "idem-1")) == 1
    after = sdk.accounting.get_invoice(sdk.tenant_id, invoice.invoice_id).invoices[0]
    assert after.amount_due == invoice.amount_due - Decimal("5.00")
    log = control(sdk.server, "GET", f"/requests?tenant_id={sdk.tenant_id}")
    puts = [e for e in log if e["method"] == "PUT"]
    assert [e["replayed"] for e in puts] == [False, True]
    # A replay still counts as a call (Xero counts idempotent retries).
    assert sdk.server.sandbox.limits.calls(sdk.tenant_id)["by_endpoint"]["PUT /api.xro/2.0/Payments"] == 2


def test_same_key_different_request_is_400(sandbox_sdk):
    sdk = sandbox_sdk
    invoice = unpaid_invoices(sdk)[0]
    sdk.accounting.create_payments(sdk.tenant_id, payment_body(invoice, Decimal("1.00"), "a"), idempotency_key="k2")
    with pytest.raises(AccountingBadRequestException) as caught:
        sdk.accounting.create_payments(
            sdk.tenant_id, payment_body(invoice, Decimal("2.00"), "a"), idempotency_key="k2"
        )
    assert "Idempotency Key k2 is used with a different request" in str(caught.value.body)
    assert payments_with_reference(sdk, "a")[0].amount == Decimal("1.00")


def test_key_over_128_characters_is_400(sandbox_sdk):
    sdk = sandbox_sdk
    invoice = unpaid_invoices(sdk)[0]
    body = payment_body(invoice, Decimal("1.00"), "long")
    with pytest.raises(AccountingBadRequestException):
        sdk.accounting.create_payments(sdk.tenant_id, body, idempotency_key="x" * 129)
    assert payments_with_reference(sdk, "long") == []
    sdk.accounting.create_payments(sdk.tenant_id, body, idempotency_key="x" * 128)
    assert len(payments_with_reference(sdk, "long")) == 1


def test_cached_error_replays_and_key_is_forgotten_after_six_minutes(sandbox_sdk):
    sdk = sandbox_sdk
    invoice = unpaid_invoices(sdk)[0]
    too_much = payment_body(invoice, invoice.amount_due + Decimal("1.00"), "over")
    with pytest.raises(AccountingBadRequestException) as first:
        sdk.accounting.create_payments(sdk.tenant_id, too_much, idempotency_key="k-err")
    with pytest.raises(AccountingBadRequestException) as second:
        sdk.accounting.create_payments(sdk.tenant_id, too_much, idempotency_key="k-err")
    assert first.value.body == second.value.body
    assert "exceeds the amount outstanding" in str(first.value.body)
    sdk.server.sandbox.clock.advance(6 * 60)
    fine = payment_body(invoice, Decimal("3.00"), "later")
    sdk.accounting.create_payments(sdk.tenant_id, fine, idempotency_key="k-err")
    assert len(payments_with_reference(sdk, "later")) == 1


def test_keys_are_scoped_per_tenant(sandbox_factory):
    from tests.sandbox_fixtures import make_sdk

    server = sandbox_factory(tenants=2, invoices=40, months=3)
    first, second = (make_sdk(server, t) for t in server.sandbox.orgs)
    for sdk in (first, second):
        invoice = unpaid_invoices(sdk)[0]
        answer = sdk.accounting.create_payments(
            sdk.tenant_id, payment_body(invoice, Decimal("1.00"), "scoped"), idempotency_key="shared"
        )
        assert answer.payments[0].invoice.invoice_id == invoice.invoice_id


def test_a_key_is_remembered_for_the_window_after_its_answer_not_its_arrival(sandbox_sdk):
    """Xero caches the first *response* for ~6 minutes: a write applied late (here 400 s after
    it arrived, while the clock moved on) keeps its key for the window after it answered."""
    sdk = sandbox_sdk
    invoice = unpaid_invoices(sdk)[0]
    body = payment_body(invoice, Decimal("2.00"), "late-key")
    control(sdk.server, "POST", "/faults", {"kind": "applied_late", "delay": 400, "count": 1,
                                            "method": "PUT", "path_prefix": "/Payments"})
    with pytest.raises(urllib3.exceptions.ProtocolError):  # the answer is lost: socket closed
        sdk.accounting.create_payments(sdk.tenant_id, body, idempotency_key="k-late")
    control(sdk.server, "POST", "/clock/advance", {"seconds": 400})  # the write lands now
    again = sdk.accounting.create_payments(sdk.tenant_id, body, idempotency_key="k-late")
    assert len(payments_with_reference(sdk, "late-key")) == 1
    assert again.payments[0].payment_id == payments_with_reference(sdk, "late-key")[0].payment_id


def test_a_xero_that_forgets_keys_early(sandbox_sdk):
    sdk = sandbox_sdk
    invoice = unpaid_invoices(sdk)[0]
    body = payment_body(invoice, Decimal("1.00"), "forgetful")
    assert control(sdk.server, "POST", "/idempotency", {"window_seconds": 30}) == {"window_seconds": 30.0}
    assert control(sdk.server, "GET", "/idempotency") == {"window_seconds": 30.0}
    sdk.accounting.create_payments(sdk.tenant_id, body, idempotency_key="k-short")
    sdk.server.sandbox.clock.advance(31)
    sdk.accounting.create_payments(sdk.tenant_id, body, idempotency_key="k-short")
    assert len(payments_with_reference(sdk, "forgetful")) == 2  # the key was forgotten: a second write
    sdk.accounting.create_payments(sdk.tenant_id, body, idempotency_key="k-now")
    assert control(sdk.server, "POST", "/idempotency/forget", {}) == {"forgotten": 2}
    sdk.accounting.create_payments(sdk.tenant_id, body, idempotency_key="k-now")
    assert len(payments_with_reference(sdk, "forgetful")) == 4
    import urllib.error
    with pytest.raises(urllib.error.HTTPError) as refused:
        control(sdk.server, "POST", "/idempotency", {"window_seconds": -1})
    assert refused.value.code == 400
