"""SPEC section 2, rows What is synced and Conflicts, and the ordering rule: older data never
replaces newer."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from tests.sync.rule_builders import T0, T1, pcus, pinv, xcon, xinv, xpay
from xero_sync.store import schema
from xero_sync.sync.rules import (
    PAYMENT_REVERSED,
    PAYMENT_SUCCEEDED,
    reconcile_customer,
    reconcile_invoice,
    reconcile_payment,
)


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
