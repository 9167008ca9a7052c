"""SPEC section 5: the reconciliation diff, one test per kind, from a clean partner outwards."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from xero_sync.sync.reconcile import (
    CUSTOMER_COLUMNS,
    DIFF_COLUMNS,
    KINDS,
    PAYOUT_COLUMNS,
    PLATFORM_INVOICE_COLUMNS,
    PLATFORM_PAYMENT_COLUMNS,
    REJECTED_COLUMNS,
    XERO_INVOICE_COLUMNS,
    XERO_PAYMENT_COLUMNS,
    ReconcileInput,
    diff,
    empty_frame,
    summary,
    unexplained,
)

NA = None


def frame(columns, rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns)) if rows else empty_frame(columns)


def clean(**over) -> ReconcileInput:
    """A consistent partner: three Xero invoices (unpaid, part paid by Alternative, paid in Xero),
    one Alternative invoice paid by a stand-alone deposit, one recorded payout."""
    pi = [
        # invoice_id, xero_invoice_id, source, status, outstanding, total, currency, deleted, archived, conflict, pending
        (1, "XI-1", "xero", "unpaid", 10000, 10000, "USD", False, False, NA, 0),
        (2, "XI-2", "xero", "partially_paid", 6000, 10000, "USD", False, False, NA, 0),
        (3, "XI-3", "xero", "paid", 0, 5000, "CAD", False, False, NA, 0),
        (4, NA, "alternative", "paid", 0, 2500, "USD", False, False, NA, 0),
    ]
    xi = [
        ("XI-1", "AUTHORISED", 10000, 10000, 0, 0, "USD", "ACCREC"),
        ("XI-2", "AUTHORISED", 6000, 10000, 4000, 0, "USD", "ACCREC"),
        ("XI-3", "PAID", 0, 5000, 3000, 2000, "CAD", "ACCREC"),
        ("XB-9", "AUTHORISED", 777, 777, 0, 0, "USD", "ACCPAY"),  # a bill: never compared
    ]
    pp = [
        ("pay_a", 2, "alternative", 4000, "succeeded", "po_1", "XP-A", "done"),
        ("xero_XP-3", 3, "xero", 3000, "succeeded", NA, "XP-3", NA),
        ("pay_d", 4, "alternative", 2500, "succeeded", "po_1", "BT-D", "done"),
    ]
    xp = [
        ("XP-A", "XI-2", 4000, "AUTHORISED", "pay_a"),
        ("XP-3", "XI-3", 3000, "AUTHORISED", NA),
    ]
    po = [("po_1", 6400, 6500, 100, "done", 6400)]
    cu = [(1, "XC-1", False, False), (2, NA, False, False)]
    inp = ReconcileInput(
        platform_invoices=frame(PLATFORM_INVOICE_COLUMNS, pi),
        xero_invoices=frame(XERO_INVOICE_COLUMNS, xi),
        platform_payments=frame(PLATFORM_PAYMENT_COLUMNS, pp),
        xero_payments=frame(XERO_PAYMENT_COLUMNS, xp),
        payouts=frame(PAYOUT_COLUMNS, po),
        customers=frame(CUSTOMER_COLUMNS, cu),
        rejected=frame(REJECTED_COLUMNS, []),
        payments_account_balance_minor=0,
        awaiting_payout_minor=0,
        currency="USD",
    )
    return replace(inp, **over)


def edit(df: pd.DataFrame, row: int, **values) -> pd.DataFrame:
    df = df.copy()
    for column, value in values.items():
        df.loc[row, column] = value
    return df


def add(df: pd.DataFrame, *rows) -> pd.DataFrame:
    return pd.concat([df, pd.DataFrame(rows, columns=df.columns)], ignore_index=True)


def only(inp: ReconcileInput) -> pd.Series:
    """The single diff row of `inp` (fails if there are more or fewer)."""
    out = diff(inp)
    assert len(out) == 1, out.to_string()
    return out.iloc[0]


def test_clean_partner_has_an_empty_diff():
    out = diff(clean())
    assert out.empty
    assert list(out.columns) == list(DIFF_COLUMNS)
    assert summary(out) == {} and unexplained(out).empty


def test_missing_input_column_is_refused_with_its_name():
    inp = clean()
    with pytest.raises(ValueError, match=r"payouts lacks columns \['xero_amount_minor'\]"):
        replace(inp, payouts=inp.payouts.drop(columns="xero_amount_minor"))


# --- status_mismatch (either way) -------------------------------------------------------------


def test_xero_paid_but_alternative_unpaid_is_a_status_and_balance_mismatch():
    inp = clean()
    inp = replace(inp, xero_invoices=edit(inp.xero_invoices, 0, status="PAID", amount_due_minor=0,
                                          amount_paid_minor=10000))
    out = diff(inp)
    assert summary(out) == {"status_mismatch": 1, "balance_mismatch": 1}
    row = out.loc[out["kind"] == "status_mismatch"].iloc[0]
    assert (row.subject_type, row.subject_id, row.platform_minor, row.xero_minor) == (
        "invoice", "1", 10000, 0)
    assert row.detail == "Alternative unpaid, Xero PAID (implies paid)"
    assert not row.explained


def test_alternative_paid_but_xero_unpaid_is_explained_by_a_pending_payment():
    inp = clean()
    inp = replace(inp, platform_invoices=edit(inp.platform_invoices, 0, status="paid",
                                              outstanding_minor=0, pending_payments_minor=10000))
    out = diff(inp)
    assert summary(out) == {"status_mismatch": 1, "balance_mismatch": 1}
    assert out["explained"].all()
    assert unexplained(out).empty


def test_alternative_paid_but_xero_unpaid_without_pending_payment_is_unexplained():
    inp = clean()
    inp = replace(inp, platform_invoices=edit(inp.platform_invoices, 0, status="paid",
                                              outstanding_minor=0))
    assert len(unexplained(diff(inp))) == 2


def test_voided_in_xero_but_not_flagged_is_a_status_mismatch():
    inp = clean()
    inp = replace(inp, xero_invoices=edit(inp.xero_invoices, 0, status="VOIDED"))
    row = only(inp)
    assert (row.kind, row.subject_id) == ("status_mismatch", "1")
    assert "VOIDED" in row.detail


def test_approved_xero_invoice_missing_in_alternative():
    inp = clean()
    inp = replace(inp, xero_invoices=add(inp.xero_invoices,
                                         ("XI-7", "AUTHORISED", 900, 900, 0, 0, "USD", "ACCREC")))
    row = only(inp)
    assert (row.kind, row.subject_type, row.subject_id, row.xero_minor) == (
        "status_mismatch", "xero_invoice", "XI-7", 900)


def test_draft_xero_invoice_missing_in_alternative_is_not_a_difference():
    inp = clean()
    inp = replace(inp, xero_invoices=add(inp.xero_invoices,
                                         ("XI-8", "DRAFT", 900, 900, 0, 0, "USD", "ACCREC")))
    assert diff(inp).empty


def test_refunded_payment_still_live_in_xero_must_be_deleted():
    inp = clean()
    inp = replace(inp, platform_payments=edit(inp.platform_payments, 0, status="refunded"))
    row = only(inp)
    assert (row.kind, row.subject_type, row.subject_id, row.action) == (
        "status_mismatch", "payment", "pay_a", "delete payment in Xero")
    assert not row.explained


def test_xero_side_payment_deleted_in_xero_but_still_succeeded():
    inp = clean()
    inp = replace(inp, xero_payments=edit(inp.xero_payments, 1, status="DELETED"))
    row = only(inp)
    assert (row.kind, row.subject_id, row.detail) == (
        "status_mismatch", "xero_XP-3", "Alternative succeeded, Xero DELETED")


# --- balance_mismatch ---------------------------------------------------------------------------


def test_credit_note_in_xero_not_yet_synced_is_an_unexplained_balance_mismatch():
    inp = clean()
    inp = replace(inp, xero_invoices=edit(inp.xero_invoices, 1, amount_due_minor=5000,
                                          amount_credited_minor=1000))
    row = only(inp)
    assert (row.kind, row.platform_minor, row.xero_minor, row.currency) == (
        "balance_mismatch", 6000, 5000, "USD")
    assert not row.explained and row.action == "re-sync invoice"


def test_balance_mismatch_equal_to_pending_payments_is_explained():
    inp = clean()
    inp = replace(inp, platform_invoices=edit(inp.platform_invoices, 1, outstanding_minor=5500,
                                              pending_payments_minor=500))
    row = only(inp)
    assert row.kind == "balance_mismatch" and row.explained
    assert row.action == "wait for payment push"


def test_balance_mismatch_not_equal_to_pending_payments_is_unexplained():
    inp = clean()
    inp = replace(inp, platform_invoices=edit(inp.platform_invoices, 1, outstanding_minor=5500,
                                              pending_payments_minor=400))
    assert not only(inp).explained


# --- payments -----------------------------------------------------------------------------------


def test_alternative_payment_missing_in_xero_is_pushed():
    inp = clean()
    inp = replace(inp, xero_payments=inp.xero_payments.iloc[1:])
    row = only(inp)
    assert (row.kind, row.subject_id, row.platform_minor, row.action) == (
        "payment_missing_in_xero", "pay_a", 4000, "push")
    assert not row.explained  # its outbox row says done: Xero lost it


def test_payment_missing_while_its_write_is_in_flight_is_explained():
    inp = clean()
    pp = edit(inp.platform_payments, 0, outbox_status="unknown", xero_payment_id=NA)
    row = only(replace(inp, platform_payments=pp, xero_payments=inp.xero_payments.iloc[1:]))
    assert row.kind == "payment_missing_in_xero" and row.explained


def test_payment_found_by_reference_after_a_lost_response_is_not_missing():
    inp = clean()
    pp = edit(inp.platform_payments, 0, outbox_status="unknown", xero_payment_id=NA)
    assert diff(replace(inp, platform_payments=pp)).empty


def test_standalone_deposit_never_written_is_missing():
    inp = clean()
    row = only(replace(inp, platform_payments=edit(inp.platform_payments, 2, xero_payment_id=NA)))
    assert (row.kind, row.subject_id, row.detail) == (
        "payment_missing_in_xero", "pay_d", "stand-alone deposit not in Xero")


def test_xero_payment_unknown_to_alternative():
    inp = clean()
    inp = replace(inp, xero_payments=add(inp.xero_payments, ("XP-9", "XI-1", 250, "AUTHORISED", NA)))
    row = only(inp)
    assert (row.kind, row.subject_type, row.subject_id, row.xero_minor) == (
        "xero_payment_unknown", "xero_payment", "XP-9", 250)


def test_xero_payment_on_an_unsynced_invoice_or_deleted_is_ignored():
    inp = clean()
    xp = add(inp.xero_payments, ("XP-8", "XB-9", 250, "AUTHORISED", NA),
             ("XP-7", "XI-1", 250, "DELETED", NA))
    assert diff(replace(inp, xero_payments=xp)).empty


def test_xero_side_payment_known_only_by_prefixed_id():
    inp = clean()
    pp = edit(inp.platform_payments, 1, xero_payment_id=NA)
    assert diff(replace(inp, platform_payments=pp)).empty


# --- payouts ------------------------------------------------------------------------------------


def test_payout_not_recorded_lists_its_standalone_deposits():
    inp = clean()
    row = only(replace(inp, payouts=edit(inp.payouts, 0, xero_amount_minor=NA)))
    assert (row.kind, row.subject_id, row.platform_minor, row.action) == (
        "payout_not_recorded", "po_1", 6400, "push")
    assert pd.isna(row.xero_minor)
    assert row.detail.endswith("stand-alone deposits 0 in the bank line: pay_d")
    assert not row.explained


def test_payout_not_recorded_while_pushing_is_explained():
    inp = clean()
    row = only(replace(inp, payouts=edit(inp.payouts, 0, xero_amount_minor=NA,
                                         outbox_status="pending")))
    assert row.explained


def test_payout_recorded_with_another_amount():
    inp = clean()
    row = only(replace(inp, payouts=edit(inp.payouts, 0, xero_amount_minor=6500)))
    assert (row.kind, row.platform_minor, row.xero_minor, row.explained) == (
        "payout_amount_mismatch", 6400, 6500, False)


# --- payments account ---------------------------------------------------------------------------


def test_payments_account_balance_mismatch():
    row = only(clean(payments_account_balance_minor=1000, awaiting_payout_minor=4000))
    assert (row.kind, row.platform_minor, row.xero_minor, row.currency) == (
        "payments_account_balance_mismatch", 4000, 1000, "USD")
    assert not row.explained


def test_payments_account_gap_equal_to_writes_in_doubt_is_explained():
    # A payment write whose answer was lost may be in Xero already: Xero shows 4000 more.
    row = only(clean(payments_account_balance_minor=4000, awaiting_payout_minor=0, in_doubt_minor=4000))
    assert row.kind == "payments_account_balance_mismatch" and row.explained
    row = only(clean(payments_account_balance_minor=4001, awaiting_payout_minor=0, in_doubt_minor=4000))
    assert not row.explained


def test_a_balance_that_cannot_be_verified_says_so_plainly_and_fails_nothing():
    reason = "payouts in USD moved money out of it at a rate not read from Xero"
    row = only(clean(payments_account_balance_minor=None, awaiting_payout_minor=None,
                     currency="CAD", balance_unverified=reason))
    assert (row.kind, row.currency, row.explained, row.detail) == (
        "payments_account_unverified", "CAD", True, reason)
    assert row.action.startswith("review")


def test_unknown_balance_skips_the_check():
    assert diff(clean(payments_account_balance_minor=None, awaiting_payout_minor=5)).empty


# --- deleted_in_xero ----------------------------------------------------------------------------


def test_invoice_deleted_in_xero_and_active_is_archived_manually():
    inp = clean()
    inp = replace(inp,
                  platform_invoices=edit(inp.platform_invoices, 0, deleted_in_xero=True),
                  xero_invoices=edit(inp.xero_invoices, 0, status="VOIDED"))
    row = only(inp)
    assert (row.kind, row.subject_type, row.subject_id, row.action) == (
        "deleted_in_xero", "invoice", "1", "archive manually")


def test_customer_deleted_in_xero_and_active_is_archived_manually():
    inp = clean()
    row = only(replace(inp, customers=edit(inp.customers, 0, deleted_in_xero=True)))
    assert (row.kind, row.subject_type, row.subject_id) == ("deleted_in_xero", "customer", "1")


def test_archived_flagged_records_are_done():
    inp = clean()
    inp = replace(inp, customers=edit(inp.customers, 0, deleted_in_xero=True, archived=True))
    assert diff(inp).empty


# --- duplicate ----------------------------------------------------------------------------------


def test_alternative_payment_written_twice_is_a_duplicate():
    inp = clean()
    inp = replace(inp, xero_payments=add(inp.xero_payments, ("XP-A2", "XI-2", 4000, "AUTHORISED", "pay_a")))
    out = diff(inp)
    row = out.loc[out["kind"] == "duplicate"].iloc[0]
    assert (row.subject_type, row.subject_id, row.xero_minor) == ("payment", "pay_a", 8000)
    assert row.detail.startswith("2 live Xero payments")


def test_duplicate_xero_ids():
    inp = clean()
    inp = replace(inp,
                  customers=add(inp.customers, (3, "XC-1", False, False)),
                  xero_payments=add(inp.xero_payments, ("XP-3", "XI-3", 3000, "AUTHORISED", NA)))
    out = diff(inp)
    assert summary(out) == {"duplicate": 2}
    assert set(zip(out["subject_type"], out["subject_id"])) == {
        ("xero_contact", "XC-1"), ("xero_payment", "XP-3")}


# --- rejected_write and conflict ----------------------------------------------------------------


def test_rejected_write_shows_xeros_message():
    inp = clean()
    rj = frame(REJECTED_COLUMNS, [(12, "payment", "pay_z",
                                   "Payment amount exceeds the amount outstanding on this document")])
    row = only(replace(inp, rejected=rj))
    assert (row.kind, row.subject_type, row.subject_id) == ("rejected_write", "outbox", "12")
    assert row.detail.endswith("exceeds the amount outstanding on this document")


def test_rejected_payment_is_not_also_listed_as_missing():
    inp = clean()
    pp = edit(inp.platform_payments, 0, outbox_status="rejected", xero_payment_id=NA)
    rj = frame(REJECTED_COLUMNS, [(12, "payment", "pay_a", "Account is not payable")])
    out = diff(replace(inp, platform_payments=pp, rejected=rj, xero_payments=inp.xero_payments.iloc[1:]))
    assert summary(out) == {"rejected_write": 1}


def test_conflict_text_is_listed():
    inp = clean()
    text = "Xero changed total to 120.00 while payment pay_a is pending"
    row = only(replace(inp, platform_invoices=edit(inp.platform_invoices, 1, conflict=text)))
    assert (row.kind, row.subject_id, row.detail, row.explained) == ("conflict", "2", text, False)


# --- whole-frame behaviour ----------------------------------------------------------------------


def test_every_kind_at_once_and_summary_counts():
    inp = clean(payments_account_balance_minor=1, awaiting_payout_minor=2)
    inp = replace(
        inp,
        xero_invoices=edit(inp.xero_invoices, 0, status="PAID", amount_due_minor=0),
        platform_invoices=edit(inp.platform_invoices, 1, conflict="c", deleted_in_xero=True),
        xero_payments=add(inp.xero_payments.iloc[1:], ("XP-9", "XI-1", 5, "AUTHORISED", NA),
                          ("XP-3", "XI-3", 3000, "AUTHORISED", NA)),
        payouts=add(edit(inp.payouts, 0, xero_amount_minor=1), ("po_2", 5, 5, 0, "done", NA)),
        rejected=frame(REJECTED_COLUMNS, [(1, "payout", "po_3", "x")]),
    )
    inp.platform_invoices["edit_conflict"] = ["edited both sides", NA, NA, NA]  # optional column
    out = diff(inp)
    assert set(summary(out)) == set(KINDS) - {"payments_account_unverified"}  # (its own test)
    assert sum(summary(out).values()) == len(out)
    assert out["platform_minor"].dtype == "Int64" and out["explained"].dtype == bool


def test_diff_does_not_modify_its_input():
    inp = clean()
    inp = replace(inp, payouts=edit(inp.payouts, 0, xero_amount_minor=NA))
    before = inp.payouts.copy()
    diff(inp)
    pd.testing.assert_frame_equal(inp.payouts, before)


# --- the id factoriser behind every comparison ---------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        ["a", "b", "a", None, "c", "b", float("nan"), "None"],  # NA vs the text "None"
        ["héllo", "hello", "héllo"],  # non-ASCII: exact fallback
        ["x" * 100, "y" * 100, "x" * 100],  # too wide for the fast path
        [1, "1", 1, 2],  # mixed types are not strings
        ["", "", "a"],
        ["abcdefgh", "abcdefghi", "abcdefgh"],  # across the 8-byte word boundary
    ],
)
def test_codes_match_pandas_factorize(values):
    from xero_sync.sync.id_codes import codes as _codes

    (codes,), n = _codes(pd.Series(values, dtype=object))
    expected, uniques = pd.factorize(pd.Series(values, dtype=object))
    assert codes.tolist() == expected.tolist() and n == len(uniques)


def test_codes_fall_back_exactly_on_hash_collisions(monkeypatch):
    import numpy as np

    from xero_sync.sync import id_codes

    monkeypatch.setattr(id_codes, "_MIX", np.uint64(0))  # every id hashes alike
    (left, right), n = id_codes.codes(["p1", "p2", None], ["p2", "p3"])
    assert left.tolist() == [0, 1, -1] and right.tolist() == [1, 2] and n == 3


# --- the benchmark's generator and SQL twin agree with diff on a small partner ------------------


def test_generated_partner_has_every_kind_and_about_five_percent_differences():
    from bench.reconcile import generate

    out = diff(generate(20_000, seed=3))
    # The generator has no unpaid-edit columns (optional input, see sync.invoice_edits).
    assert set(summary(out)) == set(KINDS) - {"unpaid_edit_conflict", "payments_account_unverified"}
    assert 0.04 <= len(out) / 20_000 <= 0.06


@pytest.mark.postgres
def test_one_query_sql_diff_counts_match_pandas(pg_admin_url):
    from bench.reconcile import generate, run_sql

    inp = generate(5_000, seed=11)
    out = diff(inp)
    expected = {k: (n, int(out.loc[out["kind"] == k, "explained"].sum()))
                for k, n in summary(out).items()}
    url = pg_admin_url
    conninfo = f"host={url.host} port={url.port or 5432} user={url.username}"
    if url.password:
        conninfo += f" password={url.password}"
    counts, _, _ = run_sql(inp, conninfo)
    assert counts == expected
