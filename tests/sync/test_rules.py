"""SPEC section 2, row by row: each test is named after the row it covers (rows
Invoice status to Deleted / voided in Xero; the others in test_rules_scope.py and
test_rules_records.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.sync.rule_builders import T0, T1, pcus, pinv, xcon, xinv
from xero_sync.store import schema
from xero_sync.sync.rules import platform_status, reconcile_customer, reconcile_invoice


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
