"""Xero's business rules as the sandbox Organisation applies them."""

import datetime as dt
from decimal import Decimal

import pytest

from xero_sandbox.clock import Clock
from xero_sandbox.org import NotFound, Organisation, ValidationError
from xero_sandbox.org.errors import MSG_EXCEEDS, MSG_LOCKED, MSG_PAID_OFF
from xero_sandbox.seed import CHART

D = Decimal
DAY = dt.date(2024, 3, 1)


@pytest.fixture
def clock():
    return Clock(frozen_at=dt.datetime(2024, 3, 10, 12, tzinfo=dt.timezone.utc))


@pytest.fixture
def events():
    return []


@pytest.fixture
def org(clock, events):
    o = Organisation("t-1", "Demo Company (US) #1", "USD", clock, "!ABCDE",
                     on_change=lambda *e: events.append(e))
    for code, name, type_, cls, enable in CHART:
        o.add_account(code=code, name=name, type=type_, cls=cls, enable_payments=enable)
    return o


@pytest.fixture
def customer(org):
    return org.create_contact(name="Bayside Dental", is_customer=True)


def invoice(org, customer, amount="100.00", status="AUTHORISED"):
    return org.create_invoice(contact_id=customer.contact_id, date=DAY, due_date=DAY + dt.timedelta(days=30),
                              status=status, lines=[{"Description": "x", "Quantity": 1,
                                                     "UnitAmount": D(amount), "AccountCode": "200"}])


def test_payment_reduces_amount_due_and_full_payment_marks_paid(org, customer, clock):
    inv = invoice(org, customer)
    clock.advance(60)
    org.add_payment(invoice_id=inv.invoice_id, account_code="095", amount=D("40.00"), date=DAY)
    assert (inv.amount_paid, inv.amount_due, inv.status) == (D("40.00"), D("60.00"), "AUTHORISED")
    assert inv.updated == clock.now()
    org.add_payment(invoice_number=inv.number, account_code="095", amount=D("60.00"), date=DAY)
    assert (inv.amount_due, inv.status, inv.fully_paid_on) == (D("0.00"), "PAID", DAY)


def test_deleting_a_payment_reopens_a_paid_invoice(org, customer):
    inv = invoice(org, customer)
    payment = org.add_payment(invoice_id=inv.invoice_id, account_code="090", amount=D("100.00"), date=DAY)
    org.delete_payment(payment.payment_id)
    assert (payment.status, inv.status, inv.amount_due, inv.fully_paid_on) == ("DELETED", "AUTHORISED", D("100.00"), None)
    assert org.get_payment(payment.payment_id).status == "DELETED"


@pytest.mark.parametrize("kwargs, message", [
    ({"account_code": "090", "amount": D("100.01")}, MSG_EXCEEDS),
    ({"account_code": "200", "amount": D("1")}, "Payments can only be made to BANK accounts"),
    ({"account_code": "999", "amount": D("1")}, "not a valid code"),
    ({"amount": D("1")}, "You must specify an Account code or Account ID for the payment"),
])
def test_payment_validation(org, customer, kwargs, message):
    inv = invoice(org, customer)
    with pytest.raises(ValidationError) as err:
        org.add_payment(invoice_id=inv.invoice_id, date=DAY, **kwargs)
    assert message in str(err.value)
    assert inv.amount_paid == 0


def test_payments_allowed_to_payments_enabled_current_account(org, customer):
    inv = invoice(org, customer)
    org.add_payment(invoice_id=inv.invoice_id, account_code="615", amount=D("1.00"), date=DAY)
    assert inv.amount_paid == D("1.00")


def test_only_authorised_invoices_take_payments(org, customer):
    draft = invoice(org, customer, status="DRAFT")
    with pytest.raises(ValidationError, match="approved"):
        org.add_payment(invoice_id=draft.invoice_id, account_code="090", amount=D("1"), date=DAY)


def test_edit_blocked_once_money_applied_but_allowed_before(org, customer):
    inv = invoice(org, customer)
    org.update_invoice(inv.invoice_id, due_date=DAY + dt.timedelta(days=60),
                       lines=[{"Description": "y", "UnitAmount": D("120.00"), "AccountCode": "200"}])
    assert (inv.total, inv.amount_due, inv.due_date) == (D("120.00"), D("120.00"), DAY + dt.timedelta(days=60))
    org.add_payment(invoice_id=inv.invoice_id, account_code="090", amount=D("1.00"), date=DAY)
    with pytest.raises(ValidationError) as err:
        org.update_invoice(inv.invoice_id, due_date=DAY)
    assert err.value.messages == [MSG_LOCKED]


def test_void_and_delete_rules(org, customer):
    inv = invoice(org, customer)
    with pytest.raises(ValidationError):
        org.delete_invoice(inv.invoice_id)
    assert org.void_invoice(inv.invoice_id).status == "VOIDED"
    draft = invoice(org, customer, status="DRAFT")
    with pytest.raises(ValidationError):
        org.void_invoice(draft.invoice_id)
    assert org.delete_invoice(draft.invoice_id).status == "DELETED"
    paid = invoice(org, customer)
    org.add_payment(invoice_id=paid.invoice_id, account_code="090", amount=D("5"), date=DAY)
    with pytest.raises(ValidationError):
        org.void_invoice(paid.invoice_id)


def test_credit_note_allocation_raises_amount_credited(org, customer):
    inv = invoice(org, customer)
    note = org.create_credit_note(contact_id=customer.contact_id, date=DAY,
                                  lines=[{"UnitAmount": D("30.00"), "AccountCode": "200"}])
    org.allocate("CREDITNOTE", note.credit_note_id, invoice_id=inv.invoice_id, amount=D("30.00"))
    assert (inv.amount_credited, inv.amount_due, note.remaining_credit, note.status) == (
        D("30.00"), D("70.00"), D("0.00"), "PAID")
    with pytest.raises(ValidationError, match="greater than amount outstanding"):
        org.allocate("CREDITNOTE", note.credit_note_id, invoice_id=inv.invoice_id, amount=D("1"))


def test_overpayment_allocation_and_paid_off_error(org, customer):
    inv = invoice(org, customer, amount="50.00")
    txn = org.create_bank_transaction(type="RECEIVE-OVERPAYMENT", bank_account_code="090",
                                      contact_id=customer.contact_id, date=DAY,
                                      lines=[{"LineAmount": D("80.00"), "AccountCode": "610"}])
    over = org.get_overpayment(txn.overpayment_id)
    org.allocate("OVERPAYMENT", over.credit_id, invoice_id=inv.invoice_id, amount=D("50.00"))
    assert (inv.status, over.remaining_credit) == ("PAID", D("30.00"))
    with pytest.raises(ValidationError) as err:
        org.allocate("OVERPAYMENT", over.credit_id, invoice_id=inv.invoice_id, amount=D("1.00"))
    assert err.value.messages == [MSG_PAID_OFF]


def test_bank_transactions_and_transfers(org, customer):
    txn = org.create_bank_transaction(
        type="SPEND", bank_account_code="095", contact_id=customer.contact_id, date=DAY,
        lines=[{"LineAmount": D("10.00"), "AccountCode": "404"}, {"LineAmount": D("-2.50"), "AccountCode": "404"}])
    assert txn.total == D("7.50")
    with pytest.raises(ValidationError, match="greater than zero"):
        org.create_bank_transaction(type="RECEIVE", bank_account_code="095", contact_id=customer.contact_id,
                                    date=DAY, lines=[{"LineAmount": D("-1"), "AccountCode": "404"}])
    with pytest.raises(ValidationError, match="BANK"):
        org.create_bank_transaction(type="RECEIVE", bank_account_code="615", contact_id=customer.contact_id,
                                    date=DAY, lines=[{"LineAmount": D("1"), "AccountCode": "200"}])
    assert org.delete_bank_transaction(txn.bank_transaction_id).status == "DELETED"
    transfer = org.create_bank_transfer(amount=D("92.50"), date=DAY, from_account_code="095", to_account_code="090")
    legs = {org.bank_transactions[i].type for i in (transfer.from_transaction_id, transfer.to_transaction_id)}
    assert legs == {"SPEND-TRANSFER", "RECEIVE-TRANSFER"}
    with pytest.raises(ValidationError, match="Transfers can only be made between BANK type accounts"):
        org.create_bank_transfer(amount=D("1"), date=DAY, from_account_code="615", to_account_code="090")


def test_manual_journal_must_balance(org):
    with pytest.raises(ValidationError, match="debits"):
        org.create_manual_journal(narration="x", date=DAY, lines=[
            {"LineAmount": D("5"), "AccountCode": "404"}, {"LineAmount": D("-4"), "AccountCode": "090"}])
    journal = org.create_manual_journal(narration="fees", date=DAY, lines=[
        {"LineAmount": D("5"), "AccountCode": "404"}, {"LineAmount": D("-5"), "AccountCode": "090"}])
    assert journal.status == "POSTED"


def test_on_change_fires_for_invoice_contact_and_credit_note(org, customer, events):
    inv = invoice(org, customer)
    org.add_payment(invoice_id=inv.invoice_id, account_code="090", amount=D("1"), date=DAY)
    org.archive_contact(customer.contact_id)
    assert ("CONTACT", "CREATE", customer.contact_id) in events
    assert ("INVOICE", "CREATE", inv.invoice_id) in events
    assert events[-2:] == [("INVOICE", "UPDATE", inv.invoice_id), ("CONTACT", "UPDATE", customer.contact_id)]


def test_indexes_follow_updates(org, customer, clock):
    a, b = invoice(org, customer), invoice(org, customer)
    clock.advance(5)
    org.add_payment(invoice_id=a.invoice_id, account_code="090", amount=D("1"), date=DAY)
    assert [i for _, i in org.invoices_by_updated.items] == [b.invoice_id, a.invoice_id]
    assert set(org.invoices_by_date.ids_between(DAY, DAY + dt.timedelta(days=1))) == {a.invoice_id, b.invoice_id}
    assert org.first_transaction_date() == DAY


def test_unknown_ids_raise_not_found(org):
    with pytest.raises(NotFound):
        org.get_invoice("nope")
