"""Property (issue 18): random interleavings of payments, payouts, refunds, failures and replays,
run concurrently (one thread per event, released together) through the events module, keep every invariant on SQLite
(200 runs) and PostgreSQL (60 runs). Each run gets its own partner (its ids are its own, so runs
never see each other), with a Xero invoice of 100.00 due and an Alternative one of 100.00."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from xero_sync.events import api as events
from xero_sync.store import schema
from xero_sync.store.connections import ensure_partner
from xero_sync.events.checks import EventRefused

DAY = dt.date(2026, 11, 10)
PAYMENTS, PAYOUTS = 4, 3
_partners = itertools.count(1)

payment_terms = st.tuples(st.sampled_from(["xero", "alt"]), st.sampled_from(["10.00", "25.00", "40.00"]))
payouts = st.tuples(st.just("payout"), st.integers(0, PAYOUTS - 1),
                    st.frozensets(st.integers(0, PAYMENTS - 1), min_size=1, max_size=3),
                    st.frozensets(st.integers(0, PAYMENTS - 1), max_size=1))
ops = st.one_of(
    st.tuples(st.just("pay"), st.integers(0, PAYMENTS - 1), st.booleans()),  # True: other details
    payouts, payouts,
    st.tuples(st.just("fail"), st.integers(0, PAYMENTS - 1), st.sampled_from(["refunded", "failed"])),
)


@st.composite
def interleavings(draw):
    """A batch of events, some of them replays of others (same request, sometimes keyed)."""
    terms = draw(st.lists(payment_terms, min_size=PAYMENTS, max_size=PAYMENTS))
    before = draw(st.integers(0, PAYMENTS))  # payments recorded before the batch
    batch = draw(st.lists(ops, min_size=2, max_size=12))
    for _ in range(draw(st.integers(0, 4))):
        batch.append(draw(st.sampled_from(batch)))  # a replay, anywhere in the interleaving
    return terms, before, draw(st.permutations(batch))


def run_op(engine: sa.Engine, partner: str, invoices: dict[str, int], terms, op) -> object:
    if op[0] == "pay":
        _, k, other = op
        where, amount = terms[k]
        return events.payment_taken(engine, partner_id=partner, payment_id=f"pay_{k}",
                                    invoice_id=invoices["alt" if other and where == "xero" else
                                                        "xero" if other else where],
                                    amount=amount, currency="USD", paid_on=DAY)
    if op[0] == "payout":
        _, j, paid, refunds = op
        return events.payout_sent(engine, partner_id=partner, payout_id=f"po_{j}", currency="USD",
                                  payment_ids=[f"pay_{k}" for k in sorted(paid)],
                                  refund_ids=[f"pay_{k}" for k in sorted(refunds - paid)],
                                  fees="0.50", paid_out_on=DAY)
    _, k, status = op
    return events.payment_failed(engine, partner_id=partner, payment_id=f"pay_{k}", status=status)


def check_invariants(engine: sa.Engine, partner: str, invoices: dict[str, int]) -> None:
    p, i, o, po = schema.payments.c, schema.invoices.c, schema.outbox.c, schema.payouts.c
    with engine.connect() as conn:
        pays = {r.payment_id: r for r in conn.execute(sa.select(schema.payments).where(p.partner_id == partner))}
        outs = conn.execute(sa.select(o.kind, o.subject_id, o.status).where(o.partner_id == partner)).all()
        payouts = conn.execute(sa.select(schema.payouts).where(po.partner_id == partner)).all()
        balances = dict(conn.execute(sa.select(i.invoice_id, i.outstanding_minor)
                                     .where(i.partner_id == partner)).all())
    # Each payment has exactly one original write, at most one delete.
    writes = [(r.subject_id, r.kind) for r in outs if r.kind in ("payment", "deposit")]
    assert sorted(s for s, _ in writes) == sorted(pays), (writes, sorted(pays))
    deletes = [r.subject_id for r in outs if r.kind.startswith("delete_")]
    assert len(deletes) == len(set(deletes))
    # Never more paid than payable: the Alternative invoice's balance is its total less its live
    # payments; live payments on the Xero invoice stay within its 100.00 due.
    live = {name: sum(int(r.amount_minor) for r in pays.values()
                      if r.invoice_id == inv and r.status == "succeeded") for name, inv in invoices.items()}
    assert balances[invoices["alt"]] == 10_000 - live["alt"] >= 0
    assert live["xero"] <= 10_000
    # One payout write per payout; each payout's money is its own payments less its refunds, and
    # a refund is taken back only by a later payout than the one that paid it out.
    assert sorted(r.subject_id for r in outs if r.kind == "payout") == sorted(x.payout_id for x in payouts)
    for x in payouts:
        mine = [r for r in pays.values() if r.payout_id == x.payout_id]
        back = [r for r in pays.values() if r.refund_payout_id == x.payout_id]
        assert mine, f"payout {x.payout_id} without payments"
        assert x.gross_minor == sum(int(r.amount_minor) for r in mine) - sum(int(r.amount_minor) for r in back) > 0
        assert x.net_minor == x.gross_minor - x.fees_minor >= 0
        assert all(r.status == "refunded" and r.payout_id not in (None, x.payout_id) for r in back)


def test_random_interleavings_keep_every_invariant(store_engine, db_url):
    examples = 200 if db_url.startswith("sqlite") else 60

    @settings(max_examples=examples, deadline=None, database=None)
    @given(case=interleavings())
    def run(case) -> None:
        terms, before, batch = case
        partner = f"prop-{next(_partners)}"
        with store_engine.begin() as conn:
            ensure_partner(conn, partner, partner)
            xero = conn.execute(sa.insert(schema.invoices).values(
                partner_id=partner, source="xero", xero_invoice_id=f"x-{partner}", number="INV-1",
                currency="USD", issue_date=DAY, total_minor=10_000, outstanding_minor=10_000,
                status="unpaid", xero_status="AUTHORISED", xero_total_minor=10_000,
            ).returning(schema.invoices.c.invoice_id)).scalar_one()
        alt = events.invoice_created(store_engine, partner_id=partner, number="ALT-1", currency="USD",
                                     amount="100.00", issue_date=DAY)
        invoices = {"xero": xero, "alt": alt}
        for k in range(before):
            try:
                run_op(store_engine, partner, invoices, terms, ("pay", k, False))
            except EventRefused:
                pass  # more than an invoice's balance

        barrier = threading.Barrier(len(batch))

        def one(op) -> object:
            barrier.wait()  # every event of the batch released at once
            try:
                return run_op(store_engine, partner, invoices, terms, op)
            except EventRefused as exc:
                return exc

        with ThreadPoolExecutor(len(batch)) as pool:
            answers = list(pool.map(one, batch))
        check_invariants(store_engine, partner, invoices)
        # Replays: the same request, both accepted, answered alike.
        firsts: dict[object, object] = {}
        for op, answer in zip(batch, answers):
            if isinstance(answer, EventRefused) or op[0] == "fail":
                continue
            assert firsts.setdefault(op, answer) == answer, (op, firsts[op], answer)

    run()
