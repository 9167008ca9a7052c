"""Idempotency keys built from a structure (issue 21): two different writes never share a key.

Keys used to join partner, kind and subject with '-', which ids may contain, and a repair's key
added "-repair-N" to the subject: different writes could get the same key (and the outbox's
unique key column then refused the second write). Keys are now joined with '/', which no partner
id, record id or kind can contain (hashed from the parts' canonical JSON when needed); write keys
and batch keys follow. Rows already in the outbox keep the keys they were given.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from xero_sync.store import outbox
from xero_sync.store.connections import ensure_partner
from xero_sync.store.schema import invoices, outbox as outbox_table
from xero_sync.push.send import batch_key
from xero_sync.sync.ledger import write_key

DAY = dt.date(2024, 3, 5)


def old_key(partner_id: str, kind: str, subject_id: str) -> str:
    """The former scheme, for the record of what used to collide."""
    return f"xs-{partner_id}-{kind}-{subject_id}"


def _invoice(conn, partner: str) -> int:
    return conn.execute(sa.insert(invoices).values(
        partner_id=partner, source="xero", xero_invoice_id=f"x-{partner}", number="INV-1",
        currency="USD", issue_date=DAY, total_minor=10_000, outstanding_minor=10_000,
        status="unpaid").returning(invoices.c.invoice_id)).scalar_one()


def test_two_writes_that_shared_a_key_no_longer_do(store_engine) -> None:
    a = ("acme-payment", "payment", "x")  # partner "acme-payment", payment "x"
    b = ("acme", "payment", "payment-x")  # partner "acme", payment "payment-x"
    assert old_key(*a) == old_key(*b)  # the collision
    assert outbox.idempotency_key(*a) != outbox.idempotency_key(*b)

    with store_engine.begin() as conn:  # both are recorded (the unique key refused one before)
        for partner, _, payment_id in (a, b):
            ensure_partner(conn, partner, partner)
            outbox.record_payment(conn, payment_id=payment_id, partner_id=partner,
                                  invoice_id=_invoice(conn, partner), amount_minor=100,
                                  fee_minor=0, currency="USD", paid_on=DAY)
    with store_engine.connect() as conn:
        keys = conn.execute(sa.select(outbox_table.c.idempotency_key)).scalars().all()
    assert sorted(keys) == sorted([outbox.idempotency_key(*a), outbox.idempotency_key(*b)])


def test_a_repair_key_never_equals_another_writes_key() -> None:
    # payment "p1" repairing outbox row 7, against a payment whose id is "p1-repair-7"
    assert old_key("acme", "payment", "p1-repair-7") == old_key("acme", "payment", "p1-repair-7")
    repair = outbox.idempotency_key("acme", "payment", "p1", repair_of=7)
    assert repair != outbox.idempotency_key("acme", "payment", "p1-repair-7")
    assert repair == "xs/acme/payment/p1/repair/7"


def test_write_keys_of_a_row_never_equal_another_rows() -> None:
    # payout "po_1" has a fees SPEND; payout "po_1:fees" has its own RECEIVE
    fees = write_key(outbox.idempotency_key("acme", "payout", "po_1"), "fees")
    other = write_key(outbox.idempotency_key("acme", "payout", "po_1:fees"))
    assert fees != other
    # The old form kept ':' (its rows' writes keep the keys they were first sent with) and collided.
    assert write_key(old_key("acme", "payout", "po_1"), "fees") == write_key(old_key("acme", "payout", "po_1:fees"))


def test_parts_holding_the_separator_or_too_long_are_hashed_from_a_canonical_encoding() -> None:
    odd = outbox.idempotency_key("acme", "payment", "a/b")
    assert odd.startswith("xs/payment/h/") and odd != outbox.idempotency_key("acme/payment", "payment", "a/b")
    long = outbox.idempotency_key("p" * 63, "delete_payment", "s" * 64, repair_of=123)
    assert len(long) <= 128 and long == outbox.idempotency_key("p" * 63, "delete_payment", "s" * 64,
                                                              repair_of=123)


def test_batch_keys_are_a_hash_of_their_rows_keys_in_order() -> None:
    keys = [outbox.idempotency_key("acme", "payment", f"pay_{n}") for n in range(50)]
    assert batch_key("acme", keys) != batch_key("acme", keys[::-1])
    assert batch_key("acme", keys) != batch_key("acme", keys, generation=1)
    assert batch_key("a-b", ["c"]) != batch_key("a", ["b-c"])
    assert len(batch_key("p" * 63, keys, generation=99)) <= 128


def test_rows_already_in_the_outbox_keep_their_keys(store_engine) -> None:
    with store_engine.begin() as conn:
        ensure_partner(conn, "acme", "Acme")
        oid = outbox.record_payment(conn, payment_id="pay_old", partner_id="acme",
                                    invoice_id=_invoice(conn, "acme"), amount_minor=100,
                                    fee_minor=0, currency="USD", paid_on=DAY)
        conn.execute(sa.update(outbox_table).where(outbox_table.c.outbox_id == oid)
                     .values(idempotency_key=old_key("acme", "payment", "pay_old")))
        # Recording it again finds the row; nothing re-keys it.
        assert outbox.record_payment(conn, payment_id="pay_old", partner_id="acme",
                                     invoice_id=conn.execute(sa.select(invoices.c.invoice_id)).scalar(),
                                     amount_minor=100, fee_minor=0, currency="USD", paid_on=DAY) == oid
    with store_engine.connect() as conn:
        assert outbox.get(conn, oid).idempotency_key == "xs-acme-payment-pay_old"
    # Its writes keep the keys they were planned with under the old form.
    assert write_key("xs-acme-payout-po_1", "fees") == "xs-acme-payout-po_1:fees"
