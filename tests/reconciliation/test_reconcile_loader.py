"""The reconciliation diff's columnar loader (reconciliation/frames.py, diffs.load_reconcile_input) on
SQLite and PostgreSQL: a small partner with NULLs, three currencies, bills, deleted and in-flight
rows gives the frames (dtypes, values, money position) and the diff the previous row-by-row
loader gave (its output for this partner is written out below); ADBC's Arrow path and the
SQLAlchemy rows path read the same frames; both backends load the same frames; a partner with
no rows loads empty frames of the same dtypes and an empty diff."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
import sqlalchemy as sa

from xero_sync.reconciliation import diffs, frames
from xero_sync.store import schema
from xero_sync.store.db import make_engine, upgrade
from xero_sync.sync import reconcile

DAY = dt.date(2026, 11, 10)
T = dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.timezone.utc)
BALANCE = 250  # Xero's payments account balance: 300 above our -50, the write in doubt
PULLED = {"po_1": 9_875}  # the payout's own writes in Xero (10,000 on Xero invoices - 125 fees)

# What the previous loader (SQLAlchemy rows, money position summed in Python) + diff gave for
# this partner: (kind, subject_type, subject_id, platform_minor, xero_minor, currency, explained).
EXPECTED_DIFF = sorted([
    ("balance_mismatch", "invoice", "2", 5000, 5400, "CAD", False),
    ("balance_mismatch", "invoice", "3", 700, 500, "JPY", True),
    ("balance_mismatch", "invoice", "5", 4000, 0, "USD", False),
    ("balance_mismatch", "invoice", "6", 0, 3000, "USD", True),
    ("conflict", "invoice", "5", 4000, None, "USD", False),
    ("deleted_in_xero", "customer", "3", None, None, None, False),
    ("deleted_in_xero", "invoice", "7", 0, None, "USD", False),
    ("payment_missing_in_xero", "payment", "pay_6", 3000, None, "USD", True),
    ("payment_missing_in_xero", "payment", "pay_l", 400, None, "EUR", False),
    ("payment_missing_in_xero", "payment", "pay_s", 300, None, "CAD", True),
    # pay_s (CAD, in doubt) may have reached the USD payments account at a rate nobody knows:
    # the balance is not compared in USD (it used to add CAD minor units to USD ones).
    ("payments_account_unverified", "account", "payments_account", None, None, "USD", True),
    ("payout_not_recorded", "payout", "po_2", 999, None, None, True),
    ("rejected_write", "outbox", "4", None, None, None, False),
    ("status_mismatch", "invoice", "5", 4000, 0, "USD", False),
    ("status_mismatch", "invoice", "6", 0, 3000, "USD", True),
    ("status_mismatch", "invoice", "8", 0, None, "USD", False),
    ("status_mismatch", "invoice", "9", 800, None, "EUR", False),
    ("status_mismatch", "payment", "pay_f", 200, None, "JPY", True),
    ("status_mismatch", "xero_invoice", "XI-8", None, 900, "USD", False),
    ("unpaid_edit_conflict", "invoice", "2", 5000, None, "CAD", True),
    ("xero_payment_unknown", "xero_payment", "XP-U", None, 50, "CAD", False),
], key=repr)


def _seed(engine: sa.Engine) -> None:
    s = schema
    inv = [  # invoice_id, source, xero id, currency, total, outstanding, status, flags
        (1, "xero", "XI-1", "USD", 10_000, 0, "paid", {}),
        (2, "xero", "XI-2", "CAD", 5_000, 5_000, "unpaid",
         {"edit_conflict": "Xero changed the amount to 54.00 while Alternative had 50.00"}),
        (3, "xero", "XI-3", "JPY", 700, 700, "unpaid", {"xero_total_minor": 500}),
        (4, "alternative", None, "USD", 2_500, 0, "paid", {"xero_total_minor": None}),
        (5, "xero", "XI-5", "USD", 4_000, 4_000, "unpaid", {"conflict": "held back: payment pending"}),
        (6, "xero", "XI-6", "USD", 3_000, 0, "paid", {}),
        (7, "xero", "XI-7", "USD", 1_000, 0, "paid", {"deleted_in_xero": True}),
        (8, "xero", "XI-A", "USD", 600, 0, "paid", {"deleted_in_xero": True, "archived": True}),
        (9, "xero", "XI-9", "EUR", 800, 800, "unpaid", {}),
    ]
    xinv = [  # Xero id, type, status, currency, total, due
        ("XI-1", "ACCREC", "PAID", "USD", 10_000, 0), ("XI-2", "ACCREC", "AUTHORISED", "CAD", 5_400, 5_400),
        ("XI-3", "ACCREC", "AUTHORISED", "JPY", 500, 500), ("XI-5", "ACCREC", "PAID", "USD", 4_000, 0),
        ("XI-6", "ACCREC", "AUTHORISED", "USD", 3_000, 3_000), ("XI-7", "ACCREC", "VOIDED", "USD", 1_000, 0),
        ("XI-8", "ACCREC", "AUTHORISED", "USD", 900, 900), ("XB-1", "ACCPAY", "AUTHORISED", "USD", 300, 0),
    ]
    pays = [  # payment_id, invoice, source, amount, currency, status, payout, xero id, writes
        ("pay_1", 1, "alternative", 10_000, "USD", "succeeded", "po_1", "XP-1", [("payment", "done")]),
        ("pay_4", 4, "alternative", 2_500, "USD", "succeeded", "po_1", "BT-4", [("deposit", "done")]),
        ("pay_6", 6, "alternative", 3_000, "USD", "succeeded", None, None, [("payment", "pending")]),
        ("pay_r", 2, "alternative", 100, "CAD", "succeeded", None, None, [("payment", "rejected")]),
        ("pay_s", 2, "alternative", 300, "CAD", "succeeded", None, None, [("payment", "unknown")]),
        ("pay_f", 3, "alternative", 200, "JPY", "refunded", None, "XP-F",
         [("payment", "done"), ("delete_payment", "pending")]),
        ("xero_XP-3", 3, "xero", 0, "JPY", "succeeded", None, None, []),
        # Not counted as written into the payments account: paid after the diff's date, and
        # refunded with its delete done.
        ("pay_l", 9, "alternative", 400, "EUR", "succeeded", None, "XP-L", [("payment", "done")]),
        ("pay_u", 5, "alternative", 150, "USD", "refunded", None, "XP-UD",
         [("payment", "done"), ("delete_payment", "done")]),
    ]
    paid_later = {"pay_l": DAY + dt.timedelta(days=5)}
    xpays = [  # payment id, invoice, amount, status, reference, account
        ("XP-1", "XI-1", 10_000, "AUTHORISED", "pay_1", "ACC-P"), ("XP-F", "XI-3", 200, "AUTHORISED", "pay_f", "ACC-P"),
        ("XP-U", "XI-2", 50, "AUTHORISED", None, "ACC-P"), ("XP-B", "XB-1", 300, "AUTHORISED", None, "ACC-P"),
        ("XP-N", None, 70, "DELETED", None, "ACC-P"), ("XP-3", "XI-3", 0, "AUTHORISED", None, None),
    ]
    payout_payload = {"payout_id": "po_1", "currency": "USD", "payment_ids": ["pay_1", "pay_4"],
                      "refund_ids": [], "gross_minor": 12_500, "fees_minor": 125, "net_minor": 12_375,
                      "xero_invoice_minor": 10_000, "deposits": [{"payment_id": "pay_4", "amount_minor": 2_500}],
                      "deposit_payment_ids": ["pay_4"], "date": DAY.isoformat()}
    with engine.begin() as conn:
        conn.execute(sa.insert(s.partners), [{"partner_id": "acme", "name": "Acme"},
                                             {"partner_id": "empty", "name": "Empty"}])
        conn.execute(sa.insert(s.xero_connections).values(
            partner_id="acme", status="connected", base_currency="USD", payments_account_id="ACC-P",
            payments_account_is_bank=False, deposit_account_id="ACC-D"))
        conn.execute(sa.insert(s.customers), [
            {"customer_id": cid, "partner_id": "acme", "source": src, "xero_contact_id": xid,
             "name": name, "deleted_in_xero": gone}
            for cid, src, xid, name, gone in ((1, "xero", "XC-1", "One", False),
                                              (2, "alternative", None, "Two", False),
                                              (3, "xero", "XC-3", "Gone", True))])
        conn.execute(sa.insert(s.invoices), [
            {"invoice_id": iid, "partner_id": "acme", "source": src, "xero_invoice_id": xid,
             "currency": cur, "issue_date": DAY, "total_minor": total, "outstanding_minor": out,
             "status": status, "xero_total_minor": total if src == "xero" else None,
             "deleted_in_xero": False, "archived": False, "conflict": None, "edit_conflict": None,
             **extra}  # every row names every column: executemany takes the first row's keys
            for iid, src, xid, cur, total, out, status, extra in inv])
        conn.execute(sa.insert(s.payouts), [
            {"payout_id": "po_1", "partner_id": "acme", "currency": "USD", "gross_minor": 12_500,
             "fees_minor": 125, "net_minor": 12_375, "paid_out_on": DAY},
            {"payout_id": "po_2", "partner_id": "acme", "currency": "USD", "gross_minor": 999,
             "fees_minor": 0, "net_minor": 999, "paid_out_on": DAY}])
        conn.execute(sa.insert(s.payments), [
            {"payment_id": pid, "partner_id": "acme", "invoice_id": iid, "source": src,
             "amount_minor": amount, "currency": cur, "paid_on": paid_later.get(pid, DAY), "status": status,
             "payout_id": payout, "xero_payment_id": xid}
            for pid, iid, src, amount, cur, status, payout, xid, _ in pays])
        writes = [(kind, pid, status, {"payment_id": pid}) for pid, *_, ws in pays for kind, status in ws]
        writes += [("payout", "po_1", "done", payout_payload),
                   ("payout", "po_2", "pending", {"payout_id": "po_2", "gross_minor": 999,
                                                   "fees_minor": 0, "net_minor": 999})]
        for kind, subject, status, payload in writes:
            conn.execute(sa.insert(s.outbox).values(
                partner_id="acme", kind=kind, subject_id=subject, idempotency_key=f"xs-acme-{kind}-{subject}",
                reference=subject, payload=payload, status=status,
                error="Payment amount exceeds the amount outstanding" if status == "rejected" else None))
        conn.execute(sa.insert(s.xero_invoices), [
            {"partner_id": "acme", "invoice_id": xid, "type": typ, "status": st, "contact_id": "XC-1",
             "month": DAY.replace(day=1), "date": DAY, "currency": cur, "total_minor": total,
             "amount_due_minor": due, "amount_paid_minor": total - due, "amount_credited_minor": 0,
             "updated_at": T, "pulled_at": T} for xid, typ, st, cur, total, due in xinv])
        conn.execute(sa.insert(s.xero_payments), [
            {"partner_id": "acme", "payment_id": pid, "invoice_id": iid, "month": DAY.replace(day=1),
             "date": DAY, "amount_minor": amount, "status": st, "reference": ref, "account_id": acct,
             "updated_at": T, "pulled_at": T} for pid, iid, amount, st, ref, acct in xpays])


def _store(url: str) -> sa.Engine:
    upgrade(url)
    engine = make_engine(url)
    _seed(engine)
    return engine


def _load(engine: sa.Engine, partner: str = "acme") -> reconcile.ReconcileInput:
    with engine.connect() as conn:
        return diffs.load_reconcile_input(conn, partner, PULLED, payments_account_minor=BALANCE, as_of=DAY)


def _rows(diff: pd.DataFrame) -> list[tuple]:
    return sorted(((r.kind, r.subject_type, r.subject_id,
                    None if pd.isna(r.platform_minor) else int(r.platform_minor),
                    None if pd.isna(r.xero_minor) else int(r.xero_minor),
                    None if pd.isna(r.currency) else r.currency, bool(r.explained))
                   for r in diff.itertuples()), key=repr)


def _frames(inp: reconcile.ReconcileInput) -> dict[str, pd.DataFrame]:
    """Each frame sorted by its first column (backends return rows in their own order)."""
    return {name: getattr(inp, name).sort_values(list(getattr(inp, name).columns[:1]))
            .reset_index(drop=True) for name in
            ("platform_invoices", "xero_invoices", "platform_payments", "xero_payments", "payouts",
             "customers", "rejected")}


def test_the_loaded_partner_diffs_as_the_previous_loader_did(db_url: str) -> None:
    engine = _store(db_url)
    try:
        inp = _load(engine)
        assert _rows(reconcile.diff(inp)) == EXPECTED_DIFF
        assert (inp.awaiting_payout_minor, inp.in_doubt_minor, inp.payments_account_balance_minor,
                inp.currency) == (None, 0, None, "USD")
        assert "our payments in CAD of unknown outcome" in inp.balance_unverified
        pi = inp.platform_invoices.set_index("invoice_id")
        # Money is integer minor units: never a float column; NULL money is NA in Int64.
        for name, frame in _frames(inp).items():
            assert not any(pd.api.types.is_float_dtype(t) for t in frame.dtypes), name
        assert str(pi["xero_total_minor"].dtype) == "Int64" and pd.isna(pi.loc[4, "xero_total_minor"])
        assert pi["pending_payments_minor"].to_dict() == {1: 0, 2: 300, 3: 0, 4: 0, 5: 0, 6: 3000,
                                                          7: 0, 8: 0, 9: 0}
        assert pd.isna(pi.loc[1, "xero_invoice_id"]) is False and pd.isna(pi.loc[4, "xero_invoice_id"])
        assert sorted(pi["currency"].unique()) == ["CAD", "EUR", "JPY", "USD"]
        po = inp.payouts.set_index("payout_id")
        assert po.loc["po_1", ["xero_amount_minor", "expected_xero_minor", "listed_deposits_minor"]
                      ].tolist() == [9_875, 9_875, 2_500]
        assert pd.isna(po.loc["po_2", "xero_amount_minor"])
        pp = inp.platform_payments.set_index("payment_id")
        assert pd.isna(pp.loc["xero_XP-3", "outbox_status"]) and pp.loc["pay_f", "outbox_status"] == "pending"
        assert inp.rejected["error"].tolist() == ["Payment amount exceeds the amount outstanding"]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_both_backends_and_both_postgres_paths_read_the_same_frames(sqlite_url: str, pg_url: str) -> None:
    lite, pg = _store(sqlite_url), _store(pg_url)
    try:
        expected = _frames(_load(lite))
        for name, frame in _frames(_load(pg)).items():
            pd.testing.assert_frame_equal(frame, expected[name], check_exact=True, obj=name)
        # ADBC's Arrow path and the SQLAlchemy rows path over the same PostgreSQL statements.
        with pg.connect() as conn:
            queries = diffs.reconcile_queries("acme")
            columnar, rows = frames.read_frames(conn, queries), frames.read_rows(conn, queries)
        for name in queries:
            key = list(rows[name].columns[:1])
            pd.testing.assert_frame_equal(
                columnar[name].sort_values(key).reset_index(drop=True),
                rows[name].sort_values(key).reset_index(drop=True), check_exact=True, obj=name)
    finally:
        lite.dispose()
        pg.dispose()


def test_a_partner_with_no_rows_loads_empty_frames_and_an_empty_diff(db_url: str) -> None:
    engine = _store(db_url)
    try:
        empty, full = _frames(_load(engine, "empty")), _frames(_load(engine))
        for name, frame in empty.items():
            assert frame.empty, name
            assert frame.dtypes.to_dict() == full[name].dtypes.to_dict(), name
        assert reconcile.diff(_load(engine, "empty")).empty
    finally:
        engine.dispose()


def test_payloads_and_odd_text_read_back_as_they_are(db_url: str) -> None:
    """The payout write's payload goes through CAST(... AS TEXT) + json.loads on both backends."""
    engine = _store(db_url)
    try:
        with engine.connect() as conn:
            text = frames.read_frames(conn, {"p": (
                sa.select(sa.cast(schema.outbox.c.payload, sa.Text)).where(
                    schema.outbox.c.subject_id == "po_1"), {"payload": "str"})})["p"]["payload"]
        assert json.loads(text.iloc[0])["deposits"] == [{"payment_id": "pay_4", "amount_minor": 2500}]
        # Values are rendered into the SQL on PostgreSQL (so ADBC can stream it with COPY):
        # quotes, percents and backslashes must arrive as they are.
        odd = "it's 100% \\ odd"
        with engine.connect() as conn:
            got = frames.read_frames(conn, {"x": (sa.select(sa.literal(odd)), {"x": "str"})})
        assert got["x"]["x"].tolist() == [odd]
    finally:
        engine.dispose()
