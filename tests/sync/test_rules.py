"""SPEC section 2, row by row: each test is named after the row it covers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from xero_sync.money import InexactAmountError
from xero_sync.platform import schema
from xero_sync.sync.rules import (
    PAYMENT_REVERSED,
    PAYMENT_SUCCEEDED,
    PlatformCustomer,
    PlatformInvoice,
    XeroContact,
    XeroInvoice,
    XeroPayment,
    contact_from_record,
    invoice_from_record,
    payment_from_record,
    platform_status,
    reconcile_customer,
    reconcile_invoice,
    reconcile_payment,
)
from xero_sync.xero.records import ContactRecord, InvoiceRecord, PaymentRecord

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)


def xinv(**kw: object) -> XeroInvoice:
    base = dict(
        xero_invoice_id="inv-1", number="INV-0001", type="ACCREC", status="AUTHORISED",
        contact_id="c-1", currency="USD", issue_date=date(2025, 2, 1), due_date=date(2025, 3, 3),
        total_minor=10_000, amount_due_minor=10_000, amount_paid_minor=0,
        amount_credited_minor=0, updated_at=T1,
    )
    base.update(kw)
    return XeroInvoice(**base)  # type: ignore[arg-type]


def pinv(**kw: object) -> PlatformInvoice:
    base = dict(
        invoice_id=7, xero_invoice_id="inv-1", status="unpaid", xero_status="AUTHORISED",
        total_minor=10_000, outstanding_minor=10_000, due_date=date(2025, 3, 3),
        deleted_in_xero=False, archived=False, xero_updated_at=T0, pending_payments_minor=0,
        xero_total_minor=10_000, xero_due_date=date(2025, 3, 3),
    )
    base.update(kw)
    return PlatformInvoice(**base)  # type: ignore[arg-type]


def xcon(**kw: object) -> XeroContact:
    base = dict(contact_id="c-1", name="Acme", email="ap@acme.test", status="ACTIVE",
                is_customer=True, updated_at=T1)
    base.update(kw)
    return XeroContact(**base)  # type: ignore[arg-type]


def pcus(**kw: object) -> PlatformCustomer:
    base = dict(customer_id=3, xero_contact_id="c-1", name="Acme", email="ap@acme.test",
                deleted_in_xero=False, archived=False, xero_updated_at=T0)
    base.update(kw)
    return PlatformCustomer(**base)  # type: ignore[arg-type]


def xpay(**kw: object) -> XeroPayment:
    base = dict(payment_id="p-1", invoice_id="inv-1", date=date(2025, 3, 2), amount_minor=2_500,
                currency="USD", status="AUTHORISED", reference=None, updated_at=T1)
    base.update(kw)
    return XeroPayment(**base)  # type: ignore[arg-type]


# --- Row "Invoice status" ----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("xero_status", "amount_due", "current_status", "current_outstanding", "expected"),
    [
        pytest.param("PAID", 0, "unpaid", 10_000, "paid", id="paid-in-xero"),
        pytest.param("AUTHORISED", 4_000, "unpaid", 10_000, "partially_paid", id="part-paid"),
        pytest.param("AUTHORISED", 10_000, "paid", 0, "unpaid", id="payment-deleted-unpaid-again"),
        pytest.param("AUTHORISED", 4_000, "paid", 0, "partially_paid",
                     id="one-of-two-payments-deleted"),
        pytest.param("PAID", 0, "partially_paid", 4_000, "paid", id="rest-paid"),
    ],
)
def test_invoice_status(xero_status, amount_due, current_status, current_outstanding, expected):
    current = pinv(status=current_status, outstanding_minor=current_outstanding)
    up = reconcile_invoice(xinv(status=xero_status, amount_due_minor=amount_due,
                                amount_paid_minor=10_000 - amount_due), current)
    assert up.kind == "update"
    assert up.values["status"] == expected
    assert up.values["outstanding_minor"] == amount_due
    assert up.values["xero_status"] == xero_status
    assert up.conflict is None and up.values["conflict"] is None


@pytest.mark.parametrize(
    ("outstanding", "total", "expected"),
    [(0, 100, "paid"), (1, 100, "partially_paid"), (99, 100, "partially_paid"),
     (100, 100, "unpaid"), (0, 0, "paid"), (-5, 100, "paid")],
)
def test_invoice_status_from_amounts(outstanding, total, expected):
    assert platform_status(outstanding, total) == expected


def test_invoice_status_new_invoice_inserted_with_all_columns():
    up = reconcile_invoice(xinv(status="PAID", amount_due_minor=0, amount_paid_minor=10_000), None)
    assert up.kind == "insert"
    assert up.values == {
        "status": "paid", "xero_status": "PAID", "total_minor": 10_000, "outstanding_minor": 0,
        "due_date": date(2025, 3, 3), "issue_date": date(2025, 2, 1), "number": "INV-0001",
        "currency": "USD", "deleted_in_xero": False, "conflict": None, "xero_updated_at": T1,
        "xero_total_minor": 10_000, "xero_due_date": date(2025, 3, 3),
    }


# --- Row "Unpaid invoice edits" ----------------------------------------------------------------

@pytest.mark.parametrize(
    ("edit", "column", "new_value"),
    [
        pytest.param({"total_minor": 12_000, "amount_due_minor": 12_000}, "total_minor", 12_000,
                     id="amount"),
        pytest.param({"due_date": date(2025, 4, 1)}, "due_date", date(2025, 4, 1), id="due-date"),
    ],
)
def test_unpaid_invoice_edits_flow_when_unpaid(edit, column, new_value):
    up = reconcile_invoice(xinv(**edit), pinv())
    assert up.kind == "update"
    assert up.values[column] == new_value
    assert up.conflict is None


@pytest.mark.parametrize(
    ("current", "edit", "column", "kept"),
    [
        pytest.param(pinv(status="partially_paid", outstanding_minor=6_000),
                     {"total_minor": 12_000, "amount_due_minor": 8_000}, "total_minor", 10_000,
                     id="amount-partially-paid"),
        pytest.param(pinv(status="partially_paid", outstanding_minor=6_000),
                     {"due_date": date(2025, 4, 1), "amount_due_minor": 6_000}, "due_date",
                     date(2025, 3, 3), id="due-date-partially-paid"),
        pytest.param(pinv(pending_payments_minor=1_000, outstanding_minor=9_000),
                     {"total_minor": 12_000, "amount_due_minor": 12_000}, "total_minor", 10_000,
                     id="amount-pending-payment"),
        pytest.param(pinv(status="paid", outstanding_minor=0),
                     {"due_date": date(2025, 5, 1), "status": "PAID", "amount_due_minor": 0},
                     "due_date", date(2025, 3, 3), id="due-date-paid"),
    ],
)
def test_unpaid_invoice_edits_held_when_not_unpaid(current, edit, column, kept):
    up = reconcile_invoice(xinv(**edit), current)
    assert up.kind == "update"
    assert up.values[column] == kept
    assert up.conflict is not None and "changed in Xero" in up.conflict
    assert up.values["conflict"] == up.conflict


def test_unpaid_invoice_edits_conflict_text_shows_money():
    current = pinv(status="partially_paid", outstanding_minor=6_000)
    up = reconcile_invoice(xinv(total_minor=12_050, amount_due_minor=8_050), current)
    assert "USD 100.00 -> USD 120.50" in up.conflict
    assert "partially_paid" in up.conflict


def test_unpaid_invoice_edits_no_rule_writes_to_xero():
    """Edits made in Alternative never go to Xero: every value is a platform `invoices` column."""
    columns = set(schema.invoices.c.keys())
    cases = [
        reconcile_invoice(xinv(), None),
        reconcile_invoice(xinv(total_minor=1, amount_due_minor=1), pinv()),
        reconcile_invoice(xinv(status="VOIDED"), pinv()),
        reconcile_invoice(xinv(amount_due_minor=1), pinv(pending_payments_minor=5)),
    ]
    for up in cases:
        assert up.kind in {"insert", "update", "unchanged", "skip"}
        assert set(up.values) <= columns


# --- Row "Partial payments / credits" ----------------------------------------------------------

@pytest.mark.parametrize(
    ("paid", "credited", "amount_due", "expected_status"),
    [
        pytest.param(3_000, 0, 7_000, "partially_paid", id="payment"),
        pytest.param(0, 2_500, 7_500, "partially_paid", id="credit-note"),
        pytest.param(0, 1_000, 9_000, "partially_paid", id="overpayment-allocated"),
        pytest.param(0, 4_000, 6_000, "partially_paid", id="prepayment-allocated"),
        pytest.param(3_000, 2_000, 5_000, "partially_paid", id="payment-and-credit"),
        pytest.param(0, 10_000, 0, "paid", id="fully-credited"),
    ],
)
def test_partial_payments_credits_lower_outstanding(paid, credited, amount_due, expected_status):
    status = "PAID" if amount_due == 0 else "AUTHORISED"
    up = reconcile_invoice(
        xinv(status=status, amount_paid_minor=paid, amount_credited_minor=credited,
             amount_due_minor=amount_due),
        pinv(),
    )
    assert up.values["outstanding_minor"] == amount_due
    assert up.values["status"] == expected_status
    assert up.values["total_minor"] == 10_000


# --- Row "Customers created in Alternative" ----------------------------------------------------

def test_customers_created_in_alternative_never_go_to_xero():
    columns = set(schema.customers.c.keys())
    for current in (None, pcus(), pcus(name="Renamed in Alternative")):
        up = reconcile_customer(xcon(), current, has_synced_invoice=False)
        assert up.kind in {"insert", "update", "unchanged", "skip"}
        assert set(up.values) <= columns


@pytest.mark.parametrize(
    ("change", "column", "value"),
    [({"name": "Acme Ltd"}, "name", "Acme Ltd"),
     ({"email": "billing@acme.test"}, "email", "billing@acme.test"),
     ({"email": None}, "email", None)],
)
def test_customers_name_and_email_updates_flow(change, column, value):
    up = reconcile_customer(xcon(**change), pcus(), has_synced_invoice=False)
    assert up.kind == "update"
    assert up.values[column] == value
    assert up.values["xero_updated_at"] == T1


def test_customers_unchanged_when_same():
    up = reconcile_customer(xcon(updated_at=T0), pcus(), has_synced_invoice=True)
    assert up.kind == "unchanged"


def test_customers_older_never_replaces_newer():
    up = reconcile_customer(xcon(name="Old name", updated_at=T0 - timedelta(days=1)), pcus(),
                            has_synced_invoice=True)
    assert up.kind == "unchanged" and up.reason == "older than stored"


# --- Row "Invoices created in Alternative" -----------------------------------------------------

def test_invoices_created_in_alternative_never_created_in_xero():
    """Rules only return platform changes; the kinds contain no Xero write."""
    for x in (xinv(), xinv(status="PAID", amount_due_minor=0), xinv(status="DELETED")):
        for current in (None, pinv()):
            assert reconcile_invoice(x, current).kind in {"insert", "update", "unchanged", "skip"}


# --- Row "Deleted / voided in Xero" ------------------------------------------------------------

@pytest.mark.parametrize("status", ["VOIDED", "DELETED"])
@pytest.mark.parametrize("archived", [False, True])
def test_deleted_voided_in_xero_flags_known_invoice(status, archived):
    current = pinv(status="partially_paid", outstanding_minor=4_000, archived=archived)
    up = reconcile_invoice(xinv(status=status, amount_due_minor=0), current)
    assert up.kind == "update"
    assert up.values == {"deleted_in_xero": True, "xero_status": status, "xero_updated_at": T1}
    # Never archived, amounts and status kept as they are.
    assert "archived" not in up.values and "status" not in up.values


@pytest.mark.parametrize("status", ["VOIDED", "DELETED"])
def test_deleted_voided_in_xero_unknown_invoice_skipped(status):
    up = reconcile_invoice(xinv(status=status), None)
    assert up.kind == "skip" and "never synced" in up.reason


def test_deleted_voided_in_xero_already_flagged_unchanged():
    current = pinv(deleted_in_xero=True, xero_status="VOIDED", xero_updated_at=T1)
    assert reconcile_invoice(xinv(status="VOIDED"), current).kind == "unchanged"


def test_deleted_voided_in_xero_then_approved_is_skipped():
    current = pinv(deleted_in_xero=True, xero_status="VOIDED")
    up = reconcile_invoice(xinv(status="AUTHORISED"), current)
    assert up.kind == "skip" and "unexpected transition" in up.reason


@pytest.mark.parametrize("status", ["ARCHIVED", "GDPRREQUEST"])
def test_deleted_voided_in_xero_archived_contact_flagged(status):
    up = reconcile_customer(xcon(status=status), pcus(archived=False), has_synced_invoice=True)
    assert up.kind == "update"
    assert up.values["deleted_in_xero"] is True
    assert "archived" not in up.values


def test_deleted_voided_in_xero_archived_contact_of_synced_invoice_inserted_flagged():
    up = reconcile_customer(xcon(status="ARCHIVED"), None, has_synced_invoice=True)
    assert up.kind == "insert" and up.values["deleted_in_xero"] is True


def test_deleted_voided_in_xero_archived_unknown_contact_skipped():
    up = reconcile_customer(xcon(status="ARCHIVED"), None, has_synced_invoice=False)
    assert up.kind == "skip" and "never synced" in up.reason


def test_deleted_voided_in_xero_restored_contact_unflagged():
    up = reconcile_customer(xcon(status="ACTIVE"), pcus(deleted_in_xero=True),
                            has_synced_invoice=True)
    assert up.kind == "update" and up.values["deleted_in_xero"] is False


# --- Row "What is synced" ----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("kw", "expected_kind", "reason_part"),
    [
        pytest.param({"status": "AUTHORISED"}, "insert", "", id="accrec-authorised"),
        pytest.param({"status": "PAID", "amount_due_minor": 0}, "insert", "", id="accrec-paid"),
        pytest.param({"status": "DRAFT"}, "skip", "draft: not synced", id="draft"),
        pytest.param({"status": "SUBMITTED"}, "skip", "submitted: not synced", id="submitted"),
        pytest.param({"type": "ACCPAY"}, "skip", "bill (ACCPAY)", id="bill"),
        pytest.param({"type": "ACCPAY", "status": "PAID"}, "skip", "bill", id="paid-bill"),
        pytest.param({"type": "ACCRECX"}, "skip", "unknown invoice type", id="drift-type"),
        pytest.param({"status": "ONHOLD"}, "skip", "unknown invoice status", id="drift-status"),
    ],
)
def test_what_is_synced_invoices(kw, expected_kind, reason_part):
    up = reconcile_invoice(xinv(**kw), None)
    assert up.kind == expected_kind
    assert reason_part in up.reason
    if expected_kind == "skip":
        assert up.values == {}


@pytest.mark.parametrize("status", ["DRAFT", "SUBMITTED", "ONHOLD"])
def test_what_is_synced_known_invoice_back_to_draft_is_skipped(status):
    up = reconcile_invoice(xinv(status=status), pinv())
    assert up.kind == "skip" and "unexpected transition AUTHORISED -> " + status in up.reason


@pytest.mark.parametrize(
    ("is_customer", "has_synced_invoice", "expected"),
    [(True, False, "insert"), (False, True, "insert"), (True, True, "insert"),
     (False, False, "skip")],
)
def test_what_is_synced_contacts(is_customer, has_synced_invoice, expected):
    up = reconcile_customer(xcon(is_customer=is_customer), None, has_synced_invoice)
    assert up.kind == expected
    if expected == "insert":
        assert up.values == {"name": "Acme", "email": "ap@acme.test", "deleted_in_xero": False,
                             "xero_updated_at": T1}


def test_what_is_synced_known_customer_keeps_syncing_when_no_longer_customer():
    up = reconcile_customer(xcon(is_customer=False, name="Acme 2"), pcus(), False)
    assert up.kind == "update" and up.values["name"] == "Acme 2"


def test_what_is_synced_contact_drift_status_skipped():
    up = reconcile_customer(xcon(status="MERGED"), pcus(), True)
    assert up.kind == "skip" and "MERGED" in up.reason


@pytest.mark.parametrize(
    ("kw", "invoice_synced", "ours", "current", "kind", "status"),
    [
        pytest.param({}, True, False, None, "insert", PAYMENT_SUCCEEDED, id="new-on-synced"),
        pytest.param({}, False, False, None, "skip", None, id="on-unsynced-invoice"),
        pytest.param({"invoice_id": None}, True, False, None, "skip", None,
                     id="no-invoice-prepayment"),
        pytest.param({}, True, True, None, "ours", None, id="written-by-alternative"),
        pytest.param({"status": "DELETED"}, True, True, PAYMENT_SUCCEEDED, "ours", None,
                     id="ours-deleted-still-ours"),
        pytest.param({"status": "DELETED"}, True, False, PAYMENT_SUCCEEDED, "update",
                     PAYMENT_REVERSED, id="deleted-in-xero"),
        pytest.param({"status": "DELETED"}, True, False, None, "skip", None,
                     id="deleted-before-sync"),
        pytest.param({"status": "DELETED"}, True, False, PAYMENT_REVERSED, "unchanged", None,
                     id="deleted-again"),
        pytest.param({}, True, False, PAYMENT_SUCCEEDED, "unchanged", None, id="same"),
        pytest.param({}, True, False, PAYMENT_REVERSED, "skip", None, id="undeleted"),
        pytest.param({"status": "VOIDED"}, True, False, None, "skip", None, id="drift-status"),
    ],
)
def test_what_is_synced_payments(kw, invoice_synced, ours, current, kind, status):
    up = reconcile_payment(xpay(**kw), invoice_synced=invoice_synced, ours=ours,
                           current_status=current)
    assert up.kind == kind
    if status is None:
        assert up.values == {}
    else:
        assert up.values["status"] == status
        assert up.values["amount_minor"] == 2_500
        assert up.values["paid_on"] == date(2025, 3, 2)
        assert up.values["currency"] == "USD"


def test_what_is_synced_payment_values_are_payment_columns():
    up = reconcile_payment(xpay(), invoice_synced=True, ours=False, current_status=None)
    assert set(up.values) <= set(schema.payments.c.keys())
    assert len(PAYMENT_REVERSED) <= schema.payments.c.status.type.length


# --- Row "Conflicts" ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("amount_due", "pending", "expected_outstanding", "expected_status"),
    [
        pytest.param(8_000, 3_000, 5_000, "partially_paid", id="pending-lowers-xero-balance"),
        pytest.param(2_000, 3_000, 0, "paid", id="pending-covers-rest-floor-zero"),
        pytest.param(3_000, 3_000, 0, "paid", id="pending-exactly-rest"),
    ],
)
def test_conflicts_pending_payment_wins_for_balance(amount_due, pending, expected_outstanding,
                                                    expected_status):
    current = pinv(status="partially_paid", outstanding_minor=7_000, pending_payments_minor=pending)
    up = reconcile_invoice(xinv(amount_due_minor=amount_due, amount_paid_minor=10_000 - amount_due),
                           current)
    assert up.kind == "update"
    assert up.values["outstanding_minor"] == expected_outstanding
    assert up.values["status"] == expected_status
    assert up.conflict and "not yet applied in Xero" in up.conflict
    assert up.values["conflict"] == up.conflict


def test_conflicts_xero_unchanged_with_pending_is_not_a_conflict():
    # Alternative took 30.00; the platform already shows 70.00 outstanding; Xero has not moved.
    current = pinv(status="partially_paid", outstanding_minor=7_000, pending_payments_minor=3_000,
                   xero_updated_at=T1)
    up = reconcile_invoice(xinv(), current)
    assert up.kind == "unchanged" and up.conflict is None


def test_conflicts_cleared_once_payment_applied():
    current = pinv(status="partially_paid", outstanding_minor=7_000)
    up = reconcile_invoice(xinv(amount_due_minor=7_000, amount_paid_minor=3_000), current)
    assert up.kind == "update"
    assert up.values["conflict"] is None and up.conflict is None
    assert up.values["outstanding_minor"] == 7_000


def test_conflicts_nothing_silently_overwritten():
    current = pinv(outstanding_minor=9_000, pending_payments_minor=1_000)
    up = reconcile_invoice(xinv(total_minor=15_000, amount_due_minor=15_000,
                                due_date=date(2025, 6, 1)), current)
    assert up.values["total_minor"] == 10_000
    assert up.values["due_date"] == date(2025, 3, 3)
    assert up.values["outstanding_minor"] == 14_000
    for part in ("total changed", "due date changed", "balance kept at USD 140.00"):
        assert part in up.conflict


# --- Ordering: older data never replaces newer -------------------------------------------------

def test_older_invoice_never_replaces_newer():
    current = pinv(xero_updated_at=T1)
    up = reconcile_invoice(xinv(status="PAID", amount_due_minor=0, updated_at=T0), current)
    assert up.kind == "unchanged" and up.reason == "older than stored" and up.values == {}


def test_older_void_never_replaces_newer():
    up = reconcile_invoice(xinv(status="VOIDED", updated_at=T0), pinv(xero_updated_at=T1))
    assert up.kind == "unchanged"


def test_same_timestamp_same_values_unchanged():
    assert reconcile_invoice(xinv(updated_at=T0), pinv()).kind == "unchanged"


def test_same_timestamp_different_values_updates():
    # Some Xero edits do not bump UpdatedDateUTC (SPEC 3.4): values still count.
    up = reconcile_invoice(xinv(updated_at=T0, amount_due_minor=6_000), pinv())
    assert up.kind == "update" and up.values["outstanding_minor"] == 6_000


def test_reconcile_is_idempotent_after_applying():
    current = pinv(status="partially_paid", outstanding_minor=6_000)
    up = reconcile_invoice(xinv(total_minor=12_000, amount_due_minor=8_000), current)
    v = up.values
    applied = replace(current, status=v["status"], total_minor=v["total_minor"],
                      outstanding_minor=v["outstanding_minor"], due_date=v["due_date"],
                      xero_status=v["xero_status"], xero_updated_at=v["xero_updated_at"])
    assert reconcile_invoice(xinv(total_minor=12_000, amount_due_minor=8_000), applied).kind \
        == "unchanged"


# --- Converting landed records -----------------------------------------------------------------

def _inv_record(**kw: object) -> InvoiceRecord:
    base = dict(
        invoice_id="inv-9", invoice_number="INV-9", type="ACCREC", status="AUTHORISED",
        contact_id="c-9", contact_name="Beta", date=date(2024, 2, 29), due_date=None,
        currency_code="CAD", sub_total=Decimal("100.00"), total_tax=Decimal("5.25"),
        total=Decimal("105.25"), amount_due=Decimal("55.25"), amount_paid=Decimal("40"),
        amount_credited=Decimal("10.00"), updated_at=T0,
    )
    base.update(kw)
    return InvoiceRecord(**base)  # type: ignore[arg-type]


def test_invoice_from_record_converts_to_minor_units():
    x = invoice_from_record(_inv_record())
    assert (x.total_minor, x.amount_due_minor, x.amount_paid_minor, x.amount_credited_minor) == (
        10_525, 5_525, 4_000, 1_000)
    assert all(isinstance(v, int) for v in (x.total_minor, x.amount_due_minor))
    assert (x.xero_invoice_id, x.number, x.currency, x.issue_date) == (
        "inv-9", "INV-9", "CAD", date(2024, 2, 29))


def test_invoice_from_record_zero_decimal_currency():
    x = invoice_from_record(_inv_record(currency_code="JPY", total=Decimal("1050"),
                                        amount_due=Decimal("1050"), amount_paid=Decimal("0"),
                                        amount_credited=Decimal("0")))
    assert x.total_minor == 1050


def test_invoice_from_record_refuses_inexact_amount():
    with pytest.raises(InexactAmountError):
        invoice_from_record(_inv_record(total=Decimal("1.005")))


def test_contact_from_record():
    rec = ContactRecord(contact_id="c-1", name="Acme", status="ARCHIVED", is_customer=True,
                        is_supplier=False, email=None, updated_at=T0)
    assert contact_from_record(rec) == XeroContact("c-1", "Acme", None, "ARCHIVED", True, T0)


@pytest.mark.parametrize(("record_currency", "fallback", "expected"),
                         [("USD", None, "USD"), (None, "CAD", "CAD"), (None, None, None)])
def test_payment_from_record(record_currency, fallback, expected):
    rec = PaymentRecord(payment_id="p-1", invoice_id="inv-1", date=date(2025, 1, 1),
                        amount=Decimal("12.34"), currency_code=record_currency, status="DELETED",
                        payment_type="ACCRECPAYMENT", reference="pay_123", account_id=None,
                        account_code=None, is_reconciled=False, updated_at=T0)
    p = payment_from_record(rec, fallback)
    assert p.amount_minor == 1_234 and p.currency == expected
    assert (p.status, p.reference, p.invoice_id) == ("DELETED", "pay_123", "inv-1")
