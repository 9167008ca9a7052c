"""Writes against the sandbox: payments batch, exact decimals, lost responses, deposits, deletes."""

import datetime as dt
from decimal import Decimal

import pytest

from xero_sync.core.errors import OutcomeUnknown, XeroValidationError
from xero_sync.xero.writes import (
    NewBankTransaction,
    NewBankTransfer,
    NewLine,
    NewPayment,
    dumps_exact,
    payments_body,
)


def _setup(client):
    invoices = [r for r in client.invoices(statuses=["AUTHORISED"]).records
                if r.type == "ACCREC" and r.amount_due > Decimal("2.00")]
    banks = [a for a in client.accounts().records if a.type == "BANK" and a.status == "ACTIVE"]
    assert len(invoices) >= 3 and banks
    return invoices, banks


def test_dumps_exact_keeps_every_digit_and_refuses_floats():
    big = Decimal("12345678901234.57")  # a float would print 12345678901234.57 -> ...234.56999
    assert dumps_exact({"Amount": big, "D": dt.date(2024, 1, 2)}) == b'{"Amount":12345678901234.57,"D":"2024-01-02"}'
    assert dumps_exact([Decimal("0.10")]) == b"[0.10]"
    with pytest.raises(TypeError):
        dumps_exact({"Amount": 0.1})


def test_more_than_50_payments_is_refused_before_any_call():
    p = NewPayment("i", "a", dt.date(2024, 1, 1), Decimal("1.00"), "r")
    with pytest.raises(ValueError, match="50"):
        payments_body([p] * 51)


def test_payments_batch_with_one_overpayment_gives_per_item_results(env):
    client = env.client()
    invoices, banks = _setup(client)
    a, b = invoices[0], invoices[1]
    day = env.clock.now().date()
    batch = [
        NewPayment(a.invoice_id, banks[0].account_id, day, Decimal("1.01"), "pay_ok_1"),
        NewPayment(b.invoice_id, banks[0].account_id, day, b.amount_due + Decimal("0.01"), "pay_over_1"),
    ]
    results = client.create_payments(batch, idempotency_key="batch-1")
    assert results[0].ok and results[0].payment_id and results[0].reference == "pay_ok_1"
    assert not results[1].ok and results[1].payment_id is None
    assert any("exceeds" in m for m in results[1].messages)
    found = client.find_payments(reference="pay_ok_1")
    assert [p.payment_id for p in found] == [results[0].payment_id]
    assert found[0].amount == Decimal("1.01")  # exact on the wire and back
    assert client.find_payments(reference="pay_over_1") == []
    # The same key replays the cached answer: no second payment.
    again = client.create_payments(batch, idempotency_key="batch-1")
    assert again[0].payment_id == results[0].payment_id
    assert len(client.find_payments(reference="pay_ok_1")) == 1


def test_lost_response_is_outcome_unknown_then_find_payments_finds_it(env):
    client = env.client()
    invoices, banks = _setup(client)
    inv = invoices[2]
    env.fault(kind="lost_response", method="PUT", path_prefix="/Payments", count=1, tenant_id=env.tenant_id)
    payment = NewPayment(inv.invoice_id, banks[0].account_id, env.clock.now().date(), Decimal("0.10"), "pay_lost_1")
    with pytest.raises(OutcomeUnknown) as err:
        client.create_payments([payment], idempotency_key="lost-1")
    assert "PUT /Payments" in str(err.value)
    puts = [r for r in env.requests(tenant_id=env.tenant_id) if r["method"] == "PUT"]
    assert len(puts) == 1  # not re-sent
    found = client.find_payments(reference="pay_lost_1")
    assert len(found) == 1 and found[0].amount == Decimal("0.10") and found[0].invoice_id == inv.invoice_id


def test_payment_shows_up_in_modified_since_and_delete(env):
    client = env.client()
    invoices, banks = _setup(client)
    inv = invoices[0]
    since = max(r.updated_at for r in client.invoices().records + client.payments().records)
    since += dt.timedelta(seconds=1)
    env.clock.advance(3600)
    [res] = client.create_payments(
        [NewPayment(inv.invoice_id, banks[0].account_id, env.clock.now().date(), Decimal("2.00"), "pay_del_1")],
        idempotency_key="del-create-1",
    )
    assert res.ok
    changed = client.invoices(modified_since=since)
    assert [r.invoice_id for r in changed.records] == [inv.invoice_id]
    assert changed.records[0].amount_due == inv.amount_due - Decimal("2.00")
    client.delete_payment(res.payment_id, idempotency_key="del-1")
    [deleted] = client.find_payments(reference="pay_del_1")
    assert deleted.status == "DELETED"


def test_bank_transaction_and_transfer_and_delete(env):
    client = env.client()
    invoices, banks = _setup(client)
    contact_id = invoices[0].contact_id
    income = next(a for a in client.accounts().records if a.type in {"REVENUE", "SALES"} and a.code)
    day = env.clock.now().date()
    tx_id = client.create_bank_transaction(
        NewBankTransaction("RECEIVE", banks[0].account_id, contact_id, day, "dep_1",
                           [NewLine("Stand-alone deposit", Decimal("12.34"), account_code=income.code)]),
        idempotency_key="dep-1",
    )
    [tx] = client.find_bank_transactions(reference="dep_1")
    assert tx.bank_transaction_id == tx_id and tx.total == Decimal("12.34") and tx.type == "RECEIVE"
    client.delete_bank_transaction(tx_id, idempotency_key="dep-del-1")
    [tx] = client.find_bank_transactions(reference="dep_1")
    assert tx.status == "DELETED"
    assert len(banks) >= 2
    transfer_id = client.create_bank_transfer(
        NewBankTransfer(banks[0].account_id, banks[1].account_id, Decimal("5.55"), day, "payout_1"),
        idempotency_key="payout-1",
    )
    assert transfer_id


def test_validation_error_on_write_is_raised_with_messages(env):
    client = env.client()
    _, banks = _setup(client)
    with pytest.raises(XeroValidationError) as err:
        client.create_bank_transfer(
            NewBankTransfer(banks[0].account_id, banks[0].account_id, Decimal("1.00"),
                            env.clock.now().date(), "bad_1"),
            idempotency_key="bad-transfer-1",
        )
    assert err.value.messages


def test_write_read_timeout_is_outcome_unknown_and_read_timeout_is_retried(env):
    from xero_sync.xero.client import XeroClient

    base = env.client()
    invoices, banks = _setup(base)
    client = XeroClient(endpoints=env.endpoints, tenant_id=env.tenant_id, token_store=env.store,
                        token_set_id=env.token_set_id, oauth_app=env.app, budget=base.budget,
                        clock=env.clock.time, sleep=env.clock.sleep, timeout=(5, 1))
    env.fault(kind="slow", delay=3, method="PUT", path_prefix="/Payments", count=1, tenant_id=env.tenant_id)
    payment = NewPayment(invoices[0].invoice_id, banks[0].account_id, env.clock.now().date(),
                         Decimal("0.50"), "pay_slow_1")
    with pytest.raises(OutcomeUnknown):
        client.create_payments([payment], idempotency_key="slow-1")
    env.fault(kind="slow", delay=3, method="GET", path_prefix="/Accounts", count=1, tenant_id=env.tenant_id)
    assert client.accounts().records  # a read is simply retried
