"""Timing faults on the sandbox: the key registered on arrival ("in progress" to a retry), writes
applied after a delay on the sandbox clock, and read-after-write lag. Real SDK over HTTP."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
import urllib3
from xero_python.exceptions import ApiException

from tests.sandbox.sdk_helpers import payment_body, payments_with_reference, unpaid_invoices
from tests.sandbox_fixtures import control


def _fault(sdk, **body) -> dict:
    return control(sdk.server, "POST", "/faults", {"tenant_id": sdk.tenant_id, **body})


def _advance(sdk, seconds: float) -> None:
    control(sdk.server, "POST", "/clock/advance", {"seconds": seconds})


def test_applied_late_write_lands_after_its_delay_and_its_key_is_in_progress_meanwhile(sandbox_sdk):
    sdk = sandbox_sdk
    invoice = unpaid_invoices(sdk)[0]
    body = payment_body(invoice, Decimal("3.00"), "late-1")
    _fault(sdk, kind="applied_late", delay=100, method="PUT", path_prefix="/Payments")
    with pytest.raises(urllib3.exceptions.ProtocolError):
        sdk.accounting.create_payments(sdk.tenant_id, body, idempotency_key="late-key")
    assert payments_with_reference(sdk, "late-1") == []  # not applied yet
    with pytest.raises(ApiException) as busy:  # the same key while the original is in progress
        sdk.accounting.create_payments(sdk.tenant_id, body, idempotency_key="late-key")
    assert busy.value.status == 409 and "still being processed" in str(busy.value.body)
    _advance(sdk, 99)
    assert payments_with_reference(sdk, "late-1") == []
    _advance(sdk, 1)
    applied = payments_with_reference(sdk, "late-1")
    assert len(applied) == 1
    replay = sdk.accounting.create_payments(sdk.tenant_id, body, idempotency_key="late-key")
    assert replay.payments[0].payment_id == applied[0].payment_id
    assert len(payments_with_reference(sdk, "late-1")) == 1


def test_retry_during_a_slow_original_is_in_progress_not_a_second_write(sandbox_sdk):
    sdk = sandbox_sdk
    invoice = unpaid_invoices(sdk)[0]
    body = payment_body(invoice, Decimal("2.00"), "slow-1")
    _fault(sdk, kind="slow", delay=30, method="PUT", path_prefix="/Payments")
    timed_out: list[BaseException] = []

    def original() -> None:
        try:
            sdk.accounting.create_payments(sdk.tenant_id, body, idempotency_key="slow-key",
                                           _request_timeout=(5, 1))
        except urllib3.exceptions.ReadTimeoutError as exc:
            timed_out.append(exc)

    first = threading.Thread(target=original, daemon=True)
    first.start()
    first.join()
    assert timed_out  # the client gave up; the request is still inside the sandbox
    with pytest.raises(ApiException) as busy:
        sdk.accounting.create_payments(sdk.tenant_id, body, idempotency_key="slow-key")
    assert busy.value.status == 409
    control(sdk.server, "DELETE", "/faults")  # the slow original finishes now
    for _ in range(200):  # bounded poll: the original's server thread finishes on its own
        if sdk.server.sandbox.limits.calls(sdk.tenant_id)["in_flight"] == 0:
            break
        threading.Event().wait(0.01)
    assert len(payments_with_reference(sdk, "slow-1")) == 1
    replay = sdk.accounting.create_payments(sdk.tenant_id, body, idempotency_key="slow-key")
    assert len(replay.payments) == 1 and len(payments_with_reference(sdk, "slow-1")) == 1


def test_read_lag_hides_a_new_payment_from_get_for_its_delay(sandbox_sdk):
    sdk = sandbox_sdk
    invoice = unpaid_invoices(sdk)[0]
    _fault(sdk, kind="read_lag", delay=30, method="PUT", path_prefix="/Payments")
    made = sdk.accounting.create_payments(
        sdk.tenant_id, payment_body(invoice, Decimal("1.00"), "lag-1"), idempotency_key="lag-key")
    assert made.payments[0].payment_id  # the writer sees its answer
    assert payments_with_reference(sdk, "lag-1") == []  # readers do not, yet
    _advance(sdk, 29)
    assert payments_with_reference(sdk, "lag-1") == []
    _advance(sdk, 1)
    assert len(payments_with_reference(sdk, "lag-1")) == 1


def test_read_lag_answers_a_get_by_id_of_a_hidden_payment_with_404(sandbox_sdk):
    """A record not visible yet is unknown to a GET by its id (Xero's plain 404), as to a listing
    it is absent; once the lag has passed the same GET answers it."""
    sdk = sandbox_sdk
    invoice = unpaid_invoices(sdk)[0]
    _fault(sdk, kind="read_lag", delay=30, method="PUT", path_prefix="/Payments")
    made = sdk.accounting.create_payments(
        sdk.tenant_id, payment_body(invoice, Decimal("1.00"), "lag-by-id"), idempotency_key="lag-id-key")
    payment_id = made.payments[0].payment_id
    with pytest.raises(ApiException) as hidden:
        sdk.accounting.get_payment(sdk.tenant_id, payment_id)
    assert hidden.value.status == 404
    _advance(sdk, 30)
    assert [p.payment_id for p in sdk.accounting.get_payment(sdk.tenant_id, payment_id).payments] == [payment_id]
