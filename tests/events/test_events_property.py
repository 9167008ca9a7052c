"""Property: whatever Alternative sends, an event either records completely or is refused with
EventRefused and leaves every table exactly as it was; nothing else ever escapes, and the store
stays consistent (each payment has its one write, Alternative invoices' balances add up)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.events.test_events import snapshot
from xero_sync.events import api as events
from xero_sync.store import schema
from xero_sync.store.connections import ensure_partner
from xero_sync.events.checks import EventRefused

IDS = ["pay_1", "pay_2", "pay_3", "dep_1", "po_1", "po_2", "ALT-1", "ALT-2"]
hostile_text = st.text(max_size=70)


def mostly(valid: st.SearchStrategy, *hostile: st.SearchStrategy) -> st.SearchStrategy:
    """Valid values three times in four, so events also record (and later ones build on them)."""
    return st.one_of(valid, valid, valid, st.one_of(*hostile))


ids = mostly(st.sampled_from(IDS), hostile_text, st.integers(-3, 3), st.none())
row_ids = mostly(st.integers(1, 3), st.integers(-2, 12), st.sampled_from(["1", "x", "", "1.0"]),
                 st.none(), st.floats(allow_nan=True))
amounts = mostly(
    st.sampled_from(["1.00", "0.01", "25", "5.50", "60"]),
    st.sampled_from(["99.999", "-1", "0", "1e2", "NaN"]),
    st.decimals(allow_nan=True, allow_infinity=True, places=None),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-10**3, 10**12), hostile_text, st.none(), st.booleans(),
)
days = mostly(st.sampled_from(["2026-11-10", "2026-11-20"]),
              st.dates(dt.date(1990, 1, 1), dt.date(2110, 1, 1)),
              st.sampled_from(["2026-02-30", "10/11/2026", ""]), hostile_text, st.none())
FIELDS = {
    "name": mostly(st.just("Jane"), st.sampled_from(["  ", "a\x00b"]), hostile_text),
    "email": mostly(st.just("jane@example.com"), st.just("x@y"), hostile_text, st.none()),
    "number": ids, "payment_id": ids, "payout_id": ids,
    "currency": mostly(st.just("USD"), st.sampled_from(["CAD", "usd", "JPY", ""]), hostile_text),
    "amount": amounts, "fee": amounts, "fees": amounts,
    "issue_date": days, "due_date": days, "paid_on": days, "paid_out_on": days,
    "customer_id": row_ids, "invoice_id": row_ids, "subject_id": row_ids,
    "subject": mostly(st.sampled_from(["invoice", "customer"]), st.sampled_from(["payment", ""])),
    "status": st.sampled_from(["failed", "refunded", "chargeback"]),
    "payment_ids": mostly(st.lists(st.sampled_from(["pay_1", "pay_2", "pay_3", "dep_1"]), min_size=1,
                                   max_size=3, unique=True),
                          st.lists(st.sampled_from(["pay_1", "nope"]), max_size=4),
                          st.lists(hostile_text, max_size=3), hostile_text),
    "refund_ids": mostly(st.lists(st.sampled_from(["pay_1", "pay_2", "pay_3"]), max_size=2, unique=True),
                         st.lists(st.sampled_from(["pay_1", "nope"]), max_size=3), hostile_text),
}


VALID = {
    "name": st.just("Jane"), "email": st.just("jane@example.com"),
    "number": st.sampled_from(["ALT-2", "ALT-3"]), "payment_id": st.sampled_from(["pay_1", "pay_2", "pay_3"]),
    "payout_id": st.sampled_from(["po_1", "po_2"]), "currency": st.just("USD"),
    "amount": st.sampled_from(["1.00", "0.01", "25", "5.50", "60"]), "fee": st.sampled_from(["0", "0.10"]),
    "fees": st.sampled_from(["0", "1.00"]), "issue_date": st.just("2026-11-10"),
    "due_date": st.just("2026-12-10"), "paid_on": st.just("2026-11-10"), "paid_out_on": st.just("2026-11-20"),
    "customer_id": st.just(1), "invoice_id": st.sampled_from([1, 3]), "subject_id": st.sampled_from([1, 3]),
    "subject": st.sampled_from(["invoice", "customer"]), "status": st.sampled_from(["failed", "refunded"]),
    "payment_ids": st.lists(st.sampled_from(["pay_1", "pay_2"]), min_size=1, max_size=2, unique=True),
    "refund_ids": st.lists(st.sampled_from(["pay_1", "pay_3"]), max_size=1),
}


@st.composite
def event_calls(draw):
    kind = draw(st.sampled_from(sorted(events.EVENTS)))
    spec = events.EVENTS[kind]
    # Half the calls are well formed (so events record and later ones build on them); the rest
    # draw every field from valid and hostile values alike.
    pool = VALID if draw(st.booleans()) else FIELDS
    values = {f: draw(pool[f]) for f in spec.fields if f in spec.required or draw(st.booleans())}
    if draw(st.integers(0, 9)) == 0:
        values[draw(st.sampled_from(["extra", "Bad key", "amount_minor"]))] = 1
    partner = draw(st.sampled_from(["acme"] * 6 + ["beta", "nobody", "a'b"]))
    return kind, partner, values


def consistent(engine: sa.Engine) -> None:
    p, i, o = schema.payments.c, schema.invoices.c, schema.outbox.c
    with engine.connect() as conn:
        # Payment ids are the partner's own: one write per (partner, payment).
        writes = {(r[0], r[1]): r[2] for r in conn.execute(
            sa.select(o.partner_id, o.subject_id, sa.func.count()).where(o.kind.in_(("payment", "deposit")))
            .group_by(o.partner_id, o.subject_id)).all()}
        paid_ids = [tuple(r) for r in conn.execute(sa.select(p.partner_id, p.payment_id)).all()]
        assert {pid: writes.get(pid) for pid in paid_ids} == {pid: 1 for pid in paid_ids}
        for inv in conn.execute(sa.select(i.invoice_id, i.total_minor, i.outstanding_minor)
                                .where(i.source == "alternative")):
            paid = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(p.amount_minor), 0))
                                .where(p.invoice_id == inv.invoice_id, p.status == "succeeded")).scalar_one()
            assert inv.outstanding_minor == inv.total_minor - paid >= 0
        for po in conn.execute(sa.select(schema.payouts)):
            assert po.net_minor == po.gross_minor - po.fees_minor >= 0


@pytest.fixture
def store(store_engine):
    with store_engine.begin() as conn:
        ensure_partner(conn, "acme", "Acme")
        ensure_partner(conn, "beta", "Beta")
    # Some valid state for generated events to hit: two Alternative invoices, two payments.
    events.invoice_created(store_engine, partner_id="acme", number="ALT-1", currency="USD",
                           amount=Decimal("250.00"), issue_date=dt.date(2026, 11, 1))
    events.invoice_created(store_engine, partner_id="beta", number="ALT-1", currency="CAD",
                           amount="25", issue_date="2026-11-01")
    for pid in ("pay_1", "pay_2"):
        events.payment_taken(store_engine, partner_id="acme", payment_id=pid, invoice_id=1,
                             amount="25", currency="USD", paid_on="2026-11-10")
    return store_engine


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(calls=st.lists(event_calls(), min_size=1, max_size=6))
def test_generated_events_record_whole_or_not_at_all(store, calls):
    for kind, partner, values in calls:
        before = snapshot(store)
        try:
            events.EVENTS[kind].call(store, partner, values)
            event(f"{kind} recorded")
        except EventRefused as exc:
            event(f"{kind} refused")
            assert exc.field and exc.reason
            assert snapshot(store) == before, f"{kind} refused ({exc}) but wrote"
        consistent(store)
