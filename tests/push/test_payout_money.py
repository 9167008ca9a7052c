"""Issue 8, finding 1: a payout moves only the money that sits in the payments account.

Every mix is pushed into the sandbox through the real client and checked against Xero's own
balances (GET /Reports/TrialBalance through XeroClient.trial_balance): the deposit account moved
by exactly the payouts' net, the payments account by exactly what went through it and was not
paid out, the fees account by exactly the fees. Both account shapes (payments-enabled Undeposited
Funds 615, BANK Payments Clearing 095), both fee shapes, SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.push.world import PAID_ON, World, account_id, build_world
from xero_sync.commands.accounts import choose_accounts
from xero_sync.store import outbox, schema

AS_OF = PAID_ON + dt.timedelta(days=365)  # after every write the tests make


@dataclass(frozen=True)
class Balances:
    deposit: Decimal
    payments: Decimal
    fees: Decimal


class Books:
    """Alternative activity with exact amounts, and Xero's balances through the real client."""

    def __init__(self, world: World, payments_code: str) -> None:
        self.world = world
        self.payments_code = payments_code
        self.invoices = iter(world.open_invoices())
        self.n = 0

    def balances(self) -> Balances:
        tb = self.world.client().trial_balance(AS_OF)
        org = self.world.org
        return Balances(*(tb.balance_of(account_id(org, code))
                          for code in ("090", self.payments_code, "404")))

    def pay(self, amount: int) -> str:
        """A payment of `amount` on the next open Xero invoice that can take it."""
        inv = next(i for i in self.invoices if i.outstanding_minor >= amount)
        self.n += 1
        pid = f"pay_m{self.n}"
        with self.world.engine.begin() as conn:
            outbox.record_payment(conn, payment_id=pid, partner_id=self.world.partner_id,
                                  invoice_id=inv.invoice_id, amount_minor=amount, fee_minor=0,
                                  currency=inv.currency, paid_on=PAID_ON)
        return pid

    def deposit(self, amount: int) -> str:
        """A payment of `amount` on an invoice created in Alternative (a stand-alone deposit)."""
        self.n += 1
        pid = f"dep_m{self.n}"
        with self.world.engine.begin() as conn:
            invoice_id = conn.execute(sa.insert(schema.invoices).values(
                partner_id=self.world.partner_id, source="alternative", number=f"ALT-M{self.n}",
                currency=self.world.org.currency, issue_date=PAID_ON, total_minor=amount,
                outstanding_minor=0, status="paid").returning(schema.invoices.c.invoice_id)).scalar_one()
            outbox.record_payment(conn, payment_id=pid, partner_id=self.world.partner_id,
                                  invoice_id=invoice_id, amount_minor=amount, fee_minor=0,
                                  currency=self.world.org.currency, paid_on=PAID_ON)
        return pid

    def refund(self, payment_id: str) -> None:
        with self.world.engine.begin() as conn:
            outbox.record_payment_failure(conn, payment_id, "refunded")

    def payout(self, payment_ids: list[str], fees: int, refund_ids: tuple[str, ...] = ()) -> int:
        """Record a payout; returns its net (the bank line)."""
        self.n += 1
        with self.world.engine.begin() as conn:
            oid = outbox.record_payout(conn, payout_id=f"po_m{self.n}", partner_id=self.world.partner_id,
                                       currency=self.world.org.currency, payment_ids=payment_ids,
                                       fees_minor=fees, paid_out_on=PAID_ON, refund_ids=refund_ids)
            return outbox.get(conn, oid).payload["net_minor"]

    def push(self) -> None:
        self.world.push_until_quiet()
        statuses = self.world.statuses()
        assert set(statuses) <= {"done"}, (statuses, [r.error for r in self.world.outbox_rows() if r.error])

    def moved(self, before: Balances) -> tuple[int, int, int]:
        """Minor-unit movement of (deposit, payments, fees) since `before`."""
        after = self.balances()
        return tuple(int((a - b) * 100) for a, b in zip(
            (after.deposit, after.payments, after.fees), (before.deposit, before.payments, before.fees)))


def _mixes(books: Books) -> list[tuple[str, int, int, int]]:
    """Each mix: (name, expected deposit Δ, payments Δ, fees Δ), recorded and pushed in turn."""
    out = []

    def check(name: str, act) -> None:
        before = books.balances()
        expected = act()
        books.push()
        out.append((name, *expected, *books.moved(before)))

    check("finding 1: 250.00 deposit + 100.00 on a Xero invoice, fees 2.00",
          lambda: (books.payout([books.deposit(25_000), books.pay(10_000)], 200), 0, 200))
    check("all on Xero invoices, fees", lambda: (
        books.payout([books.pay(4_000), books.pay(6_001)], 150), 0, 150))
    check("all on Xero invoices, no fees", lambda: (books.payout([books.pay(3_333)], 0), 0, 0))
    check("all stand-alone deposits, fees", lambda: (
        books.payout([books.deposit(7_000), books.deposit(1_234)], 99), 0, 99))
    check("all stand-alone deposits, no fees", lambda: (
        books.payout([books.deposit(5_000)], 0), 0, 0))
    check("mixed, no fees", lambda: (books.payout([books.deposit(800), books.pay(1_200)], 0), 0, 0))

    def not_paid_out():
        books.pay(2_500)
        books.deposit(700)
        # A BANK payments account holds stand-alone deposits too, until a payout moves them;
        # otherwise they go straight into the deposit account.
        bank = books.payments_code == "095"
        return (0 if bank else 700), 2_500 + (700 if bank else 0), 0
    check("received, not paid out", not_paid_out)

    before = books.balances()
    p1, p2, d1 = books.pay(2_000), books.pay(3_000), books.deposit(1_500)
    net_a = books.payout([p1, p2, d1], 100)
    books.push()
    books.refund(p1)
    books.refund(d1)
    books.push()  # the refunds delete the Xero payment and the stand-alone deposit
    net_b = books.payout([books.pay(9_000), books.deposit(400)], 300, refund_ids=(p1, d1))
    books.push()
    out.append(("refunds taken back by a later payout", net_a + net_b, 0, 400, *books.moved(before)))
    return out


@pytest.mark.parametrize(("payments_code", "fees_as_spend"), [
    pytest.param("615", False, id="payments-enabled-fees-line"),
    pytest.param("615", True, id="payments-enabled-fees-spend"),
    pytest.param("095", False, id="bank-payments-account"),
])
def test_every_mix_moves_exactly_the_net_the_payments_and_the_fees(
    sandbox_factory, store_engine, payments_code, fees_as_spend
) -> None:
    world = build_world(sandbox_factory(invoices=80, seed=5), store_engine, payments_code=payments_code)
    # The fees setting as a partner saves it (xero-sync accounts --fees-as).
    choose_accounts(world.engine, world.client(), world.partner_id, {},
                    "spend" if fees_as_spend else "line")
    books = Books(world, payments_code)

    results = _mixes(books)

    wrong = [r for r in results if r[1:4] != r[4:7]]
    assert not wrong, "\n".join(f"{r[0]}: expected (deposit, payments, fees) {r[1:4]}, "
                                f"Xero moved {r[4:7]}" for r in wrong)
    # The money is right, so the diff (balances and every payout's bank line) is empty.
    diff = world.diff(as_of=AS_OF)
    assert diff.empty, diff.to_dict("records")


def test_fee_shapes_are_what_xero_holds(sandbox_factory, store_engine) -> None:
    """The fees as a negative line on the payout deposit (default) or as a separate SPEND."""
    world = build_world(sandbox_factory(invoices=40, seed=6), store_engine, payments_code="615")
    books = Books(world, "615")
    books.payout([books.pay(5_000)], 120)
    books.push()
    (line_shape,) = [t for t in world.org.bank_transactions.values() if t.reference == "po_m2"]
    assert [li.line_amount for li in line_shape.line_items] == [Decimal("50.00"), Decimal("-1.20")]

    choose_accounts(world.engine, world.client(), world.partner_id, {}, "spend")
    books.payout([books.pay(5_000)], 120)
    books.push()
    shapes = sorted((t.type, t.total) for t in world.org.bank_transactions.values()
                    if t.reference in ("po_m4", "po_m4 fees"))
    assert shapes == [("RECEIVE", Decimal("50.00")), ("SPEND", Decimal("1.20"))]
