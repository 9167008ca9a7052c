"""SPEC section 2, "Conflicts": the three-way rule for unpaid-invoice edits, one case per row."""

from __future__ import annotations

from datetime import date

import pytest

from tests.sync.rule_builders import T0, T1, pinv, xinv
from xero_sync.sync.rules import EditChoice, reconcile_invoice, three_way

D0, D1, D2 = date(2025, 3, 3), date(2025, 4, 1), date(2025, 5, 1)


@pytest.mark.parametrize(("xero", "landed", "platform", "known", "expected"), [
    pytest.param(100, 100, 100, True, EditChoice(100, "same"), id="nothing-changed"),
    pytest.param(120, 100, 100, True, EditChoice(120, "xero"), id="changed-in-xero-only"),
    pytest.param(100, 100, 90, True, EditChoice(90, "alternative"), id="edited-in-alternative-only"),
    pytest.param(120, 100, 90, True, EditChoice(120, "xero", conflict=True), id="both-changed"),
    pytest.param(120, 100, 120, True, EditChoice(120, "same"), id="both-changed-alike"),
    pytest.param(120, None, 90, False, EditChoice(120, "xero"), id="no-baseline-xero-applies"),
    pytest.param(D1, D0, D0, True, EditChoice(D1, "xero"), id="due-date-xero-only"),
    pytest.param(D0, D0, D2, True, EditChoice(D2, "alternative"), id="due-date-alternative-only"),
    pytest.param(D1, D0, D2, True, EditChoice(D1, "xero", conflict=True), id="due-date-both"),
    pytest.param(None, D0, D0, True, EditChoice(None, "xero"), id="due-date-removed-in-xero"),
])
def test_three_way(xero, landed, platform, known, expected):
    assert three_way(xero, landed, platform, known=known) == expected


def test_alternative_edit_stays_when_xero_did_not_change():
    """The daily re-read brings Xero's unchanged values: the Alternative edit is kept."""
    edited = pinv(total_minor=12_000, outstanding_minor=12_000, due_date=D2)
    up = reconcile_invoice(xinv(updated_at=T1), edited)
    assert up.kind == "update"  # only the Xero timestamp moves
    assert (up.values["total_minor"], up.values["outstanding_minor"], up.values["due_date"]) == (12_000, 12_000, D2)
    assert (up.values["xero_total_minor"], up.values["xero_due_date"]) == (10_000, D0)
    assert "edit_conflict" not in up.values and up.conflict is None
    # The same read again changes nothing at all.
    assert reconcile_invoice(xinv(updated_at=T0), edited).kind == "unchanged"


def test_xero_change_reaches_alternative_when_alternative_did_not_edit():
    up = reconcile_invoice(xinv(total_minor=15_000, amount_due_minor=15_000, due_date=D1), pinv())
    assert (up.values["total_minor"], up.values["outstanding_minor"], up.values["due_date"]) == (15_000, 15_000, D1)
    assert (up.values["xero_total_minor"], up.values["xero_due_date"]) == (15_000, D1)
    assert "edit_conflict" not in up.values


def test_both_changed_xero_wins_and_the_conflict_is_listed():
    edited = pinv(total_minor=12_000, outstanding_minor=12_000, due_date=D2)
    up = reconcile_invoice(xinv(total_minor=15_000, amount_due_minor=15_000, due_date=D1), edited)
    assert (up.values["total_minor"], up.values["outstanding_minor"], up.values["due_date"]) == (15_000, 15_000, D1)
    text = up.values["edit_conflict"]
    assert "amount edited in Alternative (USD 120.00)" in text and "USD 100.00 -> USD 150.00" in text
    assert "due date edited in Alternative (2025-05-01)" in text
    assert up.conflict is None  # not the pending-payment conflict


def test_one_field_each_side_both_kept_without_conflict():
    """Alternative edited the due date, Xero the amount: each side's change lands."""
    edited = pinv(due_date=D2)
    up = reconcile_invoice(xinv(total_minor=15_000, amount_due_minor=15_000), edited)
    assert (up.values["total_minor"], up.values["due_date"]) == (15_000, D2)
    assert "edit_conflict" not in up.values


def test_alternative_amount_gives_way_when_xero_shows_a_payment():
    edited = pinv(total_minor=12_000, outstanding_minor=12_000)
    up = reconcile_invoice(xinv(amount_due_minor=6_000, amount_paid_minor=4_000), edited)
    assert (up.values["total_minor"], up.values["outstanding_minor"], up.values["status"]) == (
        10_000, 6_000, "partially_paid")
    assert "Xero shows USD 40.00 paid or credited" in up.values["edit_conflict"]


def test_held_values_keep_the_baseline_so_the_change_lands_later():
    """While a pending payment holds Xero's new amount back, the baseline stays at the last value
    taken: once editable again, the change is still seen as Xero's."""
    held = reconcile_invoice(xinv(total_minor=15_000, amount_due_minor=15_000),
                             pinv(pending_payments_minor=1_000, outstanding_minor=9_000))
    assert held.values["total_minor"] == 10_000 and held.values["xero_total_minor"] == 10_000
    later = reconcile_invoice(xinv(total_minor=15_000, amount_due_minor=15_000, updated_at=T1),
                              pinv(xero_updated_at=T0))
    assert later.values["total_minor"] == 15_000


def test_existing_rows_without_baseline_take_xero_values_and_gain_one():
    up = reconcile_invoice(xinv(total_minor=15_000, amount_due_minor=15_000),
                           pinv(total_minor=12_000, outstanding_minor=12_000, xero_total_minor=None,
                                xero_due_date=None))
    assert up.values["total_minor"] == 15_000 and "edit_conflict" not in up.values
    assert (up.values["xero_total_minor"], up.values["xero_due_date"]) == (15_000, D0)
