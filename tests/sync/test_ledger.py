"""SPEC section 4 (ledger table) as planned writes: one test per row, the switch, the variants."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from xero_sync.sync.ledger import (
    MAX_KEY_LENGTH,
    AccountSetup,
    BankTransactionWrite,
    BankTransferWrite,
    DeleteBankTransactionWrite,
    DeletePaymentWrite,
    Invalid,
    Line,
    OutboxItem,
    PaymentWrite,
    Waiting,
    batch_payments,
    payout_composition,
    plan,
    write_key,
)

CLEARING = AccountSetup(
    payments_account_id="acc-clearing",
    payments_account_code="610",
    payments_account_is_bank=False,
    deposit_account_id="acc-bank",
    fees_account_id="acc-fees",
    fees_account_code="404",
    income_account_id="acc-income",
    income_account_code="200",
    clearing_contact_id="contact-alt",
)
BANK = replace(CLEARING, payments_account_is_bank=True, payments_account_code="090")
NOT_SET_UP = AccountSetup(None, None, None, None, None, None, None, None, None)


def item(kind: str, payload: dict, key: str = "k-1", outbox_id: int = 7) -> OutboxItem:
    return OutboxItem(outbox_id, kind, str(payload.get("payment_id") or payload.get("payout_id")),
                      key, "ref", payload)


def payment(**over) -> OutboxItem:
    p = {"payment_id": "pay_1", "invoice_xero_id": "inv-x", "amount_minor": 12345,
         "currency": "USD", "paid_on": "2026-03-04"}
    return item("payment", p | over)


def deposit(payment_id: str = "pay_9", amount: int = 5000, **over) -> OutboxItem:
    p = {"payment_id": payment_id, "invoice_number": "ALT-17", "amount_minor": amount,
         "currency": "CAD", "paid_on": "2026-03-05"}
    return item("deposit", p | over)


def payout(gross=100_000, fees=2_900, net=97_100, deposits=(), **over) -> OutboxItem:
    p = {"payout_id": "po_1", "gross_minor": gross, "fees_minor": fees, "net_minor": net,
         "currency": "USD", "paid_out_on": "2026-03-10", "deposit_payment_ids": list(deposits)}
    return item("payout", p | over, key="payout-key")


# --- row 1: payment on an invoice that came from Xero ----------------------------------------


def test_payment_on_xero_invoice_is_a_payment_into_the_payments_account():
    assert plan(payment(), CLEARING) == [
        PaymentWrite(7, "inv-x", "acc-clearing", date(2026, 3, 4), Decimal("123.45"), "pay_1", "k-1")
    ]


def test_partial_payment_keeps_its_own_amount():
    (write,) = plan(payment(amount_minor=1), BANK)
    assert write.amount == Decimal("0.01") and isinstance(write.amount, Decimal)
    assert write.account_id == "acc-clearing"


def test_payment_amount_is_exact_decimal_for_large_amounts():
    (write,) = plan(payment(amount_minor=123456789012345678), CLEARING)
    assert write.amount == Decimal("1234567890123456.78")


def test_payment_zero_decimal_currency():
    (write,) = plan(payment(currency="JPY", amount_minor=500), CLEARING)
    assert write.amount == Decimal(500)


# --- row 2: payment on an invoice created in Alternative (stand-alone deposit) ---------------


def test_deposit_with_non_bank_payments_account_goes_to_the_deposit_account():
    (write,) = plan(deposit(), CLEARING)
    assert write == BankTransactionWrite(
        outbox_id=7,
        type="RECEIVE",
        bank_account_id="acc-bank",
        contact_id="contact-alt",
        date=date(2026, 3, 5),
        reference="ALT-17 pay_9",
        lines=(Line("Payment pay_9 on invoice ALT-17", "200", Decimal("50.00")),),
        idempotency_key="k-1",
    )


def test_deposit_with_bank_payments_account_goes_to_the_payments_account():
    (write,) = plan(deposit(), BANK)
    assert write.bank_account_id == "acc-clearing"
    assert write.lines[0].account_code == "200"  # income account, not the payments account
    assert write.total == Decimal("50.00")


def test_deposit_waits_for_income_account_and_clearing_contact():
    result = plan(deposit(), replace(CLEARING, income_account_code=None, clearing_contact_id=None))
    assert result == [Waiting(7, "accounts not set up: clearing contact, income account")]


# --- row 3: payout --------------------------------------------------------------------------


def test_payout_non_bank_is_one_receive_with_gross_and_negative_fees():
    (write,) = plan(payout(), CLEARING)
    assert write.type == "RECEIVE" and write.bank_account_id == "acc-bank"
    assert write.lines == (
        Line("Payout po_1", "610", Decimal("1000.00")),
        Line("Fees on payout po_1", "404", Decimal("-29.00")),
    )
    assert write.total == Decimal("971.00")
    assert write.reference == "po_1" and write.idempotency_key == "payout-key"
    assert write.date == date(2026, 3, 10)


def test_payout_non_bank_without_fees_has_no_fee_line():
    (write,) = plan(payout(fees=0, net=100_000), CLEARING)
    assert write.lines == (Line("Payout po_1", "610", Decimal("1000.00")),)


def test_payout_switch_books_fees_as_separate_spend_from_deposit_account():
    receive, spend = plan(payout(), replace(CLEARING, fees_as_separate_spend=True))
    assert (receive.type, receive.bank_account_id, receive.total) == (
        "RECEIVE", "acc-bank", Decimal("1000.00"))
    assert (spend.type, spend.bank_account_id, spend.total) == ("SPEND", "acc-bank", Decimal("29.00"))
    assert spend.lines[0].account_code == "404"
    assert receive.idempotency_key == "payout-key:deposit"
    assert spend.idempotency_key == "payout-key:fees"
    assert receive.reference != spend.reference


def test_payout_switch_without_fees_is_only_the_receive():
    (receive,) = plan(payout(fees=0, net=100_000), replace(CLEARING, fees_as_separate_spend=True))
    assert receive.type == "RECEIVE" and receive.total == Decimal("1000.00")


def test_payout_bank_is_transfer_of_net_plus_fee_spend_from_payments_account():
    transfer, spend = plan(payout(), BANK)
    assert transfer == BankTransferWrite(
        7, "acc-clearing", "acc-bank", Decimal("971.00"), date(2026, 3, 10), "po_1",
        "payout-key:transfer",
    )
    assert spend == BankTransactionWrite(
        7, "SPEND", "acc-clearing", "contact-alt", date(2026, 3, 10), "po_1 fees",
        (Line("Fees on payout po_1", "404", Decimal("29.00")),), "payout-key:fees",
    )


def test_payout_bank_without_fees_is_only_the_transfer():
    result = plan(payout(fees=0, net=100_000), BANK)
    assert [type(w) for w in result] == [BankTransferWrite]
    assert result[0].amount == Decimal("1000.00")


def test_payout_bank_switch_is_ignored_because_transfer_already_separates_fees():
    assert plan(payout(), replace(BANK, fees_as_separate_spend=True)) == plan(payout(), BANK)


def test_payout_without_fees_does_not_need_a_fees_account():
    result = plan(payout(fees=0, net=100_000), replace(BANK, fees_account_code=None))
    assert isinstance(result[0], BankTransferWrite)


def test_payout_with_fees_waits_for_fees_account():
    result = plan(payout(), replace(BANK, fees_account_code=None, fees_account_id=None))
    assert result == [Waiting(7, "accounts not set up: fees account")]


def test_payout_waits_for_deposit_account():
    assert plan(payout(), replace(CLEARING, deposit_account_id=None)) == [
        Waiting(7, "accounts not set up: deposit account")
    ]


def test_payout_non_bank_waits_for_payments_account_code():
    (result,) = plan(payout(), replace(CLEARING, payments_account_code=None))
    assert isinstance(result, Waiting) and "payments account code" in result.reason


@pytest.mark.parametrize(
    "gross, fees, net, why",
    [
        (100, 10, 80, "net 80 != gross 100 - fees 10"),
        (100, -10, 110, "fees_minor must not be negative"),
        (-100, 0, -100, "gross_minor must not be negative"),
        (100, 100, 0, "net 0 must be positive"),
    ],
)
def test_inconsistent_payout_is_invalid(gross, fees, net, why):
    (result,) = plan(payout(gross=gross, fees=fees, net=net), CLEARING)
    assert isinstance(result, Invalid) and why in result.reason


# --- row 4: payment failed / refunded after it was written ----------------------------------


def test_refunded_payment_deletes_the_xero_payment():
    it = item("delete_payment", {"payment_id": "pay_1", "xero_payment_id": "xp-1"})
    assert plan(it, CLEARING) == [DeletePaymentWrite(7, "xp-1", "k-1")]


def test_refunded_deposit_deletes_the_bank_transaction():
    it = item("delete_deposit", {"payment_id": "pay_9", "bank_transaction_id": "bt-9"})
    assert plan(it, BANK) == [DeleteBankTransactionWrite(7, "bt-9", "k-1")]


def test_deletes_do_not_wait_for_account_setup():
    it = item("delete_payment", {"payment_id": "pay_1", "xero_payment_id": "xp-1"})
    assert isinstance(plan(it, NOT_SET_UP)[0], DeletePaymentWrite)


def test_delete_without_xero_id_is_invalid():
    it = item("delete_payment", {"payment_id": "pay_1", "xero_payment_id": None})
    (result,) = plan(it, CLEARING)
    assert isinstance(result, Invalid) and "xero_payment_id" in result.reason


# --- waiting and invalid --------------------------------------------------------------------


@pytest.mark.parametrize("make", [payment, deposit, payout])
def test_nothing_is_written_before_accounts_are_set_up(make):
    (result,) = plan(make(), NOT_SET_UP)
    assert isinstance(result, Waiting) and result.reason.startswith("accounts not set up")


@pytest.mark.parametrize(
    "over, why",
    [
        ({"amount_minor": -5}, "must not be negative"),
        ({"amount_minor": 0}, "must be positive"),
        ({"amount_minor": 12.5}, "integer minor units"),
        ({"amount_minor": "100"}, "integer minor units"),
        ({"amount_minor": True}, "integer minor units"),
        ({"paid_on": "04/03/2026"}, "ISO date"),
        ({"invoice_xero_id": ""}, "invoice_xero_id"),
        ({"currency": None}, "currency"),
    ],
)
def test_inconsistent_payment_is_invalid(over, why):
    (result,) = plan(payment(**over), CLEARING)
    assert isinstance(result, Invalid) and why in result.reason and "outbox 7" in result.reason


def test_invalid_wins_over_waiting_so_bad_rows_are_not_parked_forever():
    (result,) = plan(payment(amount_minor=-1), NOT_SET_UP)
    assert isinstance(result, Invalid)


def test_unknown_kind_is_invalid():
    assert plan(item("refund", {"payment_id": "p"}), CLEARING) == [
        Invalid(7, "unknown outbox kind 'refund'")
    ]


def test_deposit_ids_must_be_a_list_of_strings():
    (result,) = plan(payout(deposits=[1, 2]), CLEARING)
    assert isinstance(result, Invalid) and "deposit_payment_ids" in result.reason


# --- keys, references, determinism -----------------------------------------------------------


def test_plan_is_deterministic():
    assert plan(payout(), BANK) == plan(payout(), BANK)


@pytest.mark.parametrize("suffix", ["", "transfer", "fees", "deposit"])
def test_write_keys_never_exceed_128_chars_and_stay_distinct(suffix):
    long_key = "x" * 128
    key = write_key(long_key, suffix)
    assert len(key) <= MAX_KEY_LENGTH
    assert key == write_key(long_key, suffix)
    assert write_key(long_key, "transfer") != write_key(long_key, "fees")
    assert write_key("y" + long_key[1:], suffix) != key


def test_short_keys_are_kept_readable():
    assert write_key("outbox-42", "transfer") == "outbox-42:transfer"


def test_payout_writes_from_a_128_char_outbox_key_fit_xero():
    it = replace(payout(), idempotency_key="k" * 128)
    keys = [w.idempotency_key for w in plan(it, BANK)]
    assert all(len(k) <= MAX_KEY_LENGTH for k in keys) and len(set(keys)) == 2


# --- batching and the bank line -------------------------------------------------------------


def test_batch_payments_keeps_order_and_skips_other_writes():
    writes = [plan(payment(payment_id=f"pay_{i}"), CLEARING)[0] for i in range(120)]
    writes.insert(3, plan(deposit(), CLEARING)[0])
    batches = batch_payments(writes)
    assert [len(b) for b in batches] == [50, 50, 20]
    assert [w.reference for b in batches for w in b] == [f"pay_{i}" for i in range(120)]


def test_batch_payments_empty_and_bad_size():
    assert batch_payments([]) == []
    with pytest.raises(ValueError, match="batch size"):
        batch_payments([], size=0)


def composed(*, xero_invoice: int, deposits: dict[str, int], fees: int) -> OutboxItem:
    """A payout payload as outbox.record_payout writes it (issue 8)."""
    gross = xero_invoice + sum(deposits.values())
    po = payout(gross=gross, fees=fees, net=gross - fees,
                deposits=[pid for pid, a in deposits.items() if a > 0],
                xero_invoice_minor=xero_invoice)
    listed = [{"payment_id": k, "amount_minor": v} for k, v in deposits.items()]
    return replace(po, payload=po.payload | {"deposits": listed})


def test_mixed_payout_moves_only_the_money_on_xero_invoices():
    # Finding 1: 250.00 stand-alone deposit + 100.00 on a Xero invoice, fees 2.00, net 348.00.
    po = composed(xero_invoice=10_000, deposits={"pay_alt": 25_000}, fees=200)
    (receive,) = plan(po, CLEARING)
    assert receive.lines == (Line("Payout po_1", "610", Decimal("100.00")),
                             Line("Fees on payout po_1", "404", Decimal("-2.00")))
    c = payout_composition(po.payload)
    assert c.deposit_account_movement(payments_account_is_bank=False) + c.deposits_total == 34_800
    transfer, spend = plan(po, BANK)  # everything sits in a BANK payments account
    assert transfer.amount == Decimal("348.00") and spend.total == Decimal("2.00")


def test_payout_of_standalone_deposits_only_books_the_fees_as_a_spend():
    po = composed(xero_invoice=0, deposits={"pay_a": 25_000}, fees=200)
    (spend,) = plan(po, CLEARING)
    assert (spend.type, spend.bank_account_id, spend.total) == ("SPEND", "acc-bank", Decimal("2.00"))
    assert plan(composed(xero_invoice=0, deposits={"pay_a": 25_000}, fees=0), CLEARING) == []


def test_fees_larger_than_the_money_moved_go_to_a_spend_not_a_negative_receive():
    receive, spend = plan(composed(xero_invoice=100, deposits={"pay_a": 25_000}, fees=300), CLEARING)
    assert receive.total == Decimal("1.00") and spend.total == Decimal("3.00")


def test_refunds_beyond_the_xero_invoice_money_are_spent_back_into_the_payments_account():
    po = composed(xero_invoice=-5_000, deposits={"pay_a": 25_000}, fees=100)
    (spend,) = plan(po, CLEARING)
    assert spend.lines == (Line("Refunds taken back by payout po_1", "610", Decimal("50.00")),
                           Line("Fees on payout po_1", "404", Decimal("1.00")))


def test_inconsistent_composition_is_invalid():
    po = composed(xero_invoice=10_000, deposits={"pay_a": 500}, fees=0)
    bad = replace(po, payload=po.payload | {"xero_invoice_minor": 9_999})
    (result,) = plan(bad, CLEARING)
    assert isinstance(result, Invalid) and "xero_invoice_minor" in result.reason
