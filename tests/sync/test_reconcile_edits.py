"""The diff and the three-way rule: a kept Alternative edit explains its balance difference; a
conflict Xero won is listed as `unpaid_edit_conflict` (explained, action "review")."""

from __future__ import annotations

from dataclasses import replace

from tests.sync.test_reconcile import clean, edit, only
from xero_sync.sync.reconcile import KINDS, diff, unexplained


def with_edit_columns(inp, *, baseline=(10000, 10000, 5000, None), conflict=(None,) * 4):
    pi = inp.platform_invoices.copy()
    pi["xero_total_minor"] = list(baseline)
    pi["edit_conflict"] = list(conflict)
    return replace(inp, platform_invoices=pi)


def test_baseline_columns_leave_a_clean_partner_clean():
    assert diff(with_edit_columns(clean())).empty


def test_amount_edited_in_alternative_explains_the_balance_difference():
    inp = with_edit_columns(clean())
    inp = replace(inp, platform_invoices=edit(inp.platform_invoices, 0, total_minor=12000,
                                              outstanding_minor=12000))
    row = only(inp)
    assert (row.kind, row.subject_id, row.platform_minor, row.xero_minor) == ("balance_mismatch", "1", 12000, 10000)
    assert row.explained and row.action == "none: edited in Alternative"
    assert unexplained(diff(inp)).empty


def test_the_same_difference_without_an_edit_stays_unexplained():
    inp = with_edit_columns(clean(), baseline=(12000, 10000, 5000, None))
    inp = replace(inp, platform_invoices=edit(inp.platform_invoices, 0, total_minor=12000,
                                              outstanding_minor=12000))
    row = only(inp)
    assert row.kind == "balance_mismatch" and not row.explained


def test_edit_conflict_is_listed_for_review_and_explained():
    text = "amount edited in Alternative (USD 120.00) and changed in Xero (USD 100.00 -> USD 150.00)"
    row = only(with_edit_columns(clean(), conflict=(text, None, None, None)))
    assert "unpaid_edit_conflict" in KINDS
    assert (row.kind, row.subject_type, row.subject_id, row.action, row.detail, row.explained) == (
        "unpaid_edit_conflict", "invoice", "1", "review", text, True)
    assert row.platform_minor == 10000 and row.currency == "USD"


def test_archived_invoice_conflict_is_not_listed():
    inp = with_edit_columns(clean(), conflict=("x", None, None, None))
    inp = replace(inp, platform_invoices=edit(inp.platform_invoices, 0, archived=True))
    assert "unpaid_edit_conflict" not in set(diff(inp)["kind"])
