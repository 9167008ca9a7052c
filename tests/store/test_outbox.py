"""Outbox: payment/payout recording in the caller's transaction, claiming, status moves."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from xero_sync.store import outbox
from xero_sync.store.connections import ensure_partner
from xero_sync.store.schema import invoices, outbox as outbox_table, payments, payouts

DAY = dt.date(2024, 3, 5)


def _invoice(conn, source="xero", partner="acme", currency="USD") -> int:
    return conn.execute(sa.insert(invoices).values(
        partner_id=partner, source=source, xero_invoice_id="x-inv-1" if source == "xero" else None,
        number="INV-7", currency=currency, issue_date=dt.date(2024, 3, 1), total_minor=10_000,
        outstanding_minor=10_000, status="unpaid",
    ).returning(invoices.c.invoice_id)).scalar_one()


@pytest.fixture
def setup(store_engine):
    with store_engine.begin() as conn:
        ensure_partner(conn, "acme", "Acme")
        xero_inv = _invoice(conn, "xero")
        alt_inv = _invoice(conn, "alternative")
    return store_engine, xero_inv, alt_inv


def _pay(conn, payment_id, invoice_id, amount=4_000, fee=100, currency="USD"):
    return outbox.record_payment(conn, payment_id=payment_id, partner_id="acme", invoice_id=invoice_id,
                                 amount_minor=amount, fee_minor=fee, currency=currency, paid_on=DAY)


def test_record_payment_writes_payment_and_outbox_rows(setup):
    engine, xero_inv, alt_inv = setup
    with engine.begin() as conn:
        oid = _pay(conn, "pay_1", xero_inv)
        did = _pay(conn, "pay_2", alt_inv)
        assert _pay(conn, "pay_1", xero_inv) == oid  # recording again: same write
        with pytest.raises(outbox.OutboxError, match="other details"):
            _pay(conn, "pay_1", xero_inv, amount=5)
    with engine.connect() as conn:
        row = outbox.get(conn, oid)
        dep = outbox.get(conn, did)
        pay = conn.execute(sa.select(payments).where(payments.c.payment_id == "pay_1")).one()
    assert (row.kind, row.status, row.reference, row.idempotency_key) == ("payment", "pending", "pay_1", "xs/acme/payment/pay_1")
    assert row.payload["xero_invoice_id"] == "x-inv-1" and row.payload["amount_minor"] == 4_000
    assert (dep.kind, dep.idempotency_key) == ("deposit", "xs/acme/deposit/pay_2")
    assert (pay.source, pay.status, pay.amount_minor, pay.fee_minor) == ("alternative", "succeeded", 4_000, 100)


def test_record_payment_is_atomic_with_the_callers_transaction(setup):
    engine, xero_inv, _ = setup
    with pytest.raises(RuntimeError), engine.begin() as conn:
        _pay(conn, "pay_1", xero_inv)
        raise RuntimeError("platform event failed after recording")
    # A failure inside record_payment itself (outbox insert refused) leaves no payment row either.
    with engine.begin() as conn:
        conn.execute(sa.insert(outbox_table).values(
            partner_id="acme", kind="payment", subject_id="other", idempotency_key=outbox.idempotency_key("acme", "payment", "pay_2"),
            reference="other", payload={}))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        _pay(conn, "pay_2", xero_inv)
    with engine.connect() as conn:
        assert conn.execute(sa.select(payments.c.payment_id)).all() == []
        assert conn.execute(sa.select(outbox_table.c.subject_id)).scalars().all() == ["other"]


def test_record_payment_validation(setup):
    engine, xero_inv, _ = setup
    with engine.begin() as conn:
        with pytest.raises(outbox.OutboxError, match="not an invoice of partner"):
            outbox.record_payment(conn, payment_id="p", partner_id="beta", invoice_id=xero_inv,
                                  amount_minor=1, fee_minor=0, currency="USD", paid_on=DAY)
        with pytest.raises(outbox.OutboxError, match="currency CAD differs"):
            _pay(conn, "p", xero_inv, currency="CAD")
        with pytest.raises(TypeError, match="int minor units"):
            _pay(conn, "p", xero_inv, amount=12.5)


def test_long_ids_get_a_hashed_key(setup):
    key = outbox.idempotency_key("p" * 64, "delete_payment", "s" * 64)
    assert len(key) <= 128 and key == outbox.idempotency_key("p" * 64, "delete_payment", "s" * 64)
    assert key != outbox.idempotency_key("p" * 64, "delete_payment", "t" * 64)


def test_claim_moves_pending_to_sending_once(setup):
    engine, xero_inv, alt_inv = setup
    with engine.begin() as conn:
        a = _pay(conn, "pay_1", xero_inv)
        b = _pay(conn, "pay_2", alt_inv)
        assert [r.outbox_id for r in outbox.pending(conn, limit=1)] == [a]
        assert [r.outbox_id for r in outbox.pending(conn, after_id=a)] == [b]
        assert outbox.pending(conn, partner_id="beta") == []
        claimed = outbox.claim(conn, [a, b], "pusher-1")
        assert [(r.status, r.claimed_by) for r in claimed] == [("sending", "pusher-1")] * 2
        assert outbox.claim(conn, [a, b], "pusher-2") == []  # a second pusher gets nothing
        assert outbox.pending(conn) == []
        # Attempts count sends (the request is stored first), not claims.
        sent_at = dt.datetime(2026, 11, 15, 12, tzinfo=dt.timezone.utc)
        outbox.record_request(conn, [a], key="k-1", request={"key": "k-1"}, sent_at=sent_at)
        unknown = outbox.mark_unknown(conn, a, "timeout")
        assert unknown.status == "unknown" and [r.outbox_id for r in outbox.pending(conn)] == [a]
        assert unknown.ever_unknown and unknown.claimed_by is None
        again = outbox.claim(conn, [a], "pusher-2")[0]
        outbox.record_request(conn, [a], key="k-other", request={"key": "k-other"},
                              sent_at=sent_at + dt.timedelta(seconds=60))
        row = outbox.get(conn, a)
        assert again.attempts == 1 and row.attempts == 2
        # The key and request first sent are kept; only the latest send time moves.
        assert (row.request_key, row.first_sent_at, row.sent_at) == (
            "k-1", sent_at, sent_at + dt.timedelta(seconds=60))
        done = outbox.mark_done(conn, a, {"PaymentID": "xp-1"})
        rejected = outbox.mark_rejected(conn, b, "Account is not enabled for payments")
        assert (done.status, done.xero_ids, rejected.status, rejected.error) == (
            "done", {"PaymentID": "xp-1"}, "rejected", "Account is not enabled for payments")
        assert conn.execute(sa.select(payments.c.xero_payment_id).where(payments.c.payment_id == "pay_1")).scalar() == "xp-1"
        with pytest.raises(outbox.OutboxError, match="is done; cannot mark it rejected"):
            outbox.mark_rejected(conn, a, "late")


def test_failure_cancels_an_unsent_write(setup):
    engine, xero_inv, _ = setup
    with engine.begin() as conn:
        oid = _pay(conn, "pay_1", xero_inv)
        assert outbox.record_payment_failure(conn, "pay_1", "failed") is None
        assert outbox.get(conn, oid).status == "cancelled"
        assert outbox.claim(conn, [oid]) == []
        assert conn.execute(sa.select(payments.c.status).where(payments.c.payment_id == "pay_1")).scalar() == "failed"


@pytest.mark.parametrize("invoice_source, delete_kind", [("xero", "delete_payment"), ("alternative", "delete_deposit")])
def test_failure_after_the_write_queues_a_delete(setup, invoice_source, delete_kind):
    engine, xero_inv, alt_inv = setup
    with engine.begin() as conn:
        oid = _pay(conn, "pay_1", xero_inv if invoice_source == "xero" else alt_inv)
        outbox.claim(conn, [oid])
        outbox.mark_done(conn, oid, {"PaymentID": "xp-1"})
        did = outbox.record_payment_failure(conn, "pay_1", "refunded")
        assert outbox.record_payment_failure(conn, "pay_1", "refunded") == did  # idempotent
        row = outbox.get(conn, did)
    assert (row.kind, row.status, row.reference, row.payload["original_outbox_id"]) == (delete_kind, "pending", "pay_1", oid)


def test_record_payout_links_payments(setup):
    engine, xero_inv, alt_inv = setup
    with engine.begin() as conn:
        _pay(conn, "pay_1", xero_inv, amount=4_000)
        _pay(conn, "pay_2", alt_inv, amount=2_500)
        oid = outbox.record_payout(conn, payout_id="po_1", partner_id="acme", currency="USD",
                                   payment_ids=["pay_1", "pay_2"], fees_minor=300, paid_out_on=DAY)
        po = conn.execute(sa.select(payouts)).one()
        linked = conn.execute(sa.select(payments.c.payout_id)).scalars().all()
        row = outbox.get(conn, oid)
        with pytest.raises(outbox.OutboxError, match="already in payout po_1"):
            outbox.record_payout(conn, payout_id="po_2", partner_id="acme", currency="USD",
                                 payment_ids=["pay_1"], fees_minor=0, paid_out_on=DAY)
        with pytest.raises(outbox.OutboxError, match="unknown payments"):
            outbox.record_payout(conn, payout_id="po_3", partner_id="acme", currency="USD",
                                 payment_ids=["nope"], fees_minor=0, paid_out_on=DAY)
    assert (po.gross_minor, po.fees_minor, po.net_minor) == (6_500, 300, 6_200)
    assert linked == ["po_1", "po_1"]
    assert (row.kind, row.idempotency_key, row.payload["net_minor"]) == ("payout", "xs/acme/payout/po_1", 6_200)


def test_payout_payload_splits_xero_invoice_money_from_standalone_deposits(setup):
    """Issue 8, finding 1: the payout carries its stand-alone deposits; only the money on Xero
    invoices is what a non-BANK payments account holds for it."""
    engine, xero_inv, alt_inv = setup
    with engine.begin() as conn:
        _pay(conn, "pay_x", xero_inv, amount=10_000)
        _pay(conn, "pay_alt", alt_inv, amount=25_000)
        row = outbox.get(conn, outbox.record_payout(
            conn, payout_id="po_1", partner_id="acme", currency="USD",
            payment_ids=["pay_alt", "pay_x"], fees_minor=200, paid_out_on=DAY))
    p = row.payload
    assert (p["gross_minor"], p["net_minor"], p["xero_invoice_minor"]) == (35_000, 34_800, 10_000)
    assert p["deposits"] == [{"payment_id": "pay_alt", "amount_minor": 25_000}]
    assert p["deposit_payment_ids"] == ["pay_alt"]


def test_refunds_are_taken_back_once_by_a_later_payout(setup):
    engine, xero_inv, alt_inv = setup

    def payout(conn, payout_id, ids, refunds=(), fees=0):
        return outbox.record_payout(conn, payout_id=payout_id, partner_id="acme", currency="USD",
                                    payment_ids=ids, fees_minor=fees, paid_out_on=DAY,
                                    refund_ids=refunds)

    with engine.begin() as conn:
        for pid, inv, amount in (("p1", xero_inv, 1_000), ("p2", xero_inv, 2_000),
                                 ("d1", alt_inv, 500), ("p3", xero_inv, 9_000),
                                 ("p4", xero_inv, 300)):
            _pay(conn, pid, inv, amount=amount)
        with pytest.raises(outbox.OutboxError, match="refund p1 is succeeded, not refunded"):
            payout(conn, "po_0", ["p3"], ["p1"])
        payout(conn, "po_1", ["p1", "p2", "d1"])
        outbox.record_payment_failure(conn, "p1", "refunded")
        outbox.record_payment_failure(conn, "d1", "refunded")
        row = outbox.get(conn, payout(conn, "po_2", ["p3"], ["p1", "d1"], fees=100))
        with pytest.raises(outbox.OutboxError, match="already taken back by payout po_2"):
            payout(conn, "po_3", ["p4"], ["p1"])
        with pytest.raises(outbox.OutboxError, match="both paid out and refunded"):
            payout(conn, "po_4", ["p4"], ["p4"])
        taken = conn.execute(sa.select(payments.c.refund_payout_id)
                             .where(payments.c.payment_id.in_(["p1", "d1"]))).scalars().all()
    p = row.payload
    assert (p["gross_minor"], p["net_minor"], p["xero_invoice_minor"]) == (7_500, 7_400, 8_000)
    assert p["deposits"] == [{"payment_id": "d1", "amount_minor": -500}]
    assert p["refund_ids"] == ["d1", "p1"] and taken == ["po_2", "po_2"]


def test_a_payout_refunds_would_empty_is_refused(setup):
    engine, xero_inv, _ = setup
    with engine.begin() as conn:
        _pay(conn, "p1", xero_inv, amount=5_000)
        _pay(conn, "p2", xero_inv, amount=1_000)
        outbox.record_payout(conn, payout_id="po_1", partner_id="acme", currency="USD",
                             payment_ids=["p1"], fees_minor=0, paid_out_on=DAY)
        outbox.record_payment_failure(conn, "p1", "refunded")
        with pytest.raises(outbox.OutboxError, match="leave nothing to pay out"):
            outbox.record_payout(conn, payout_id="po_2", partner_id="acme", currency="USD",
                                 payment_ids=["p2"], fees_minor=0, paid_out_on=DAY, refund_ids=["p1"])
