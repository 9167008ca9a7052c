"""`Idempotency-Key` on the sandbox server through the real SDK (PUT /Payments)."""

from __future__ import annotations

from decimal import Decimal

import pytest
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
