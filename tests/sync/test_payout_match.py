"""sync.payout_match: what Xero shows for a payout, matched as the bank feed line would be."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from xero_sync.sync.payout_match import batches, lookup_references, xero_payout_amounts


@dataclass(frozen=True)
class Tx:
    type: str
    reference: str | None
    total: Decimal
    status: str = "AUTHORISED"


@dataclass(frozen=True)
class Transfer:
    reference: str | None
    amount: Decimal


PAYOUTS = {"po_1": "USD", "po_2": "USD"}


def amounts(*txs: Tx) -> dict[str, int | None]:
    return xero_payout_amounts(PAYOUTS, payments_account_is_bank=False, bank_transactions=txs)


def test_receive_with_negative_fees_line_shows_its_total_and_missing_is_none() -> None:
    # Total of a RECEIVE with lines gross 1000.00 and fees -25.00, as Xero returns it.
    assert amounts(Tx("RECEIVE", "po_1", Decimal("975.00"))) == {"po_1": 97_500, "po_2": None}


def test_deleted_and_voided_receives_do_not_count() -> None:
    got = amounts(Tx("RECEIVE", "po_1", Decimal("975.00"), "DELETED"),
                  Tx("RECEIVE", "po_2", Decimal("10.00"), "VOIDED"))
    assert got == {"po_1": None, "po_2": None}


def test_separate_fees_spend_is_taken_off_the_gross_receive() -> None:
    got = amounts(Tx("RECEIVE", "po_1", Decimal("1000.00")), Tx("SPEND", "po_1 fees", Decimal("25.00")),
                  Tx("SPEND", "po_2 fees", Decimal("25.00"), "DELETED"), Tx("RECEIVE", "po_2", Decimal("5")))
    assert got == {"po_1": 97_500, "po_2": 500}


def test_fees_spend_alone_shows_minus_the_fees_and_other_types_are_ignored() -> None:
    # A payout of stand-alone deposits only writes just its fees SPEND (issue 8); a payout that
    # should have a RECEIVE then shows as an amount mismatch, not as a match.
    got = amounts(Tx("SPEND", "po_1 fees", Decimal("25.00")), Tx("SPEND", "po_2", Decimal("3.00")),
                  Tx("RECEIVE", "other", Decimal("1.00")), Tx("RECEIVE", None, Decimal("1.00")))
    assert got == {"po_1": -2_500, "po_2": None}


def test_duplicate_receives_add_up_so_they_show_as_another_amount() -> None:
    assert amounts(Tx("RECEIVE", "po_1", Decimal("9.75")), Tx("RECEIVE", "po_1", Decimal("9.75")))["po_1"] == 1950


def test_bank_payments_account_reads_transfers_only() -> None:
    got = xero_payout_amounts(
        PAYOUTS, payments_account_is_bank=True,
        bank_transactions=[Tx("RECEIVE", "po_2", Decimal("1.00"))],
        bank_transfers=[Transfer("po_1", Decimal("975.00")), Transfer("other", Decimal("1.00"))],
    )
    assert got == {"po_1": 97_500, "po_2": None}


def test_zero_decimal_currency_converts_in_its_own_minor_units() -> None:
    got = xero_payout_amounts({"po_j": "JPY"}, payments_account_is_bank=True,
                              bank_transfers=[Transfer("po_j", Decimal("1200"))])
    assert got == {"po_j": 1200}


def test_references_and_batches() -> None:
    assert lookup_references(["a", "b", "a"], payments_account_is_bank=True) == ["a", "b"]
    assert lookup_references(["a"], payments_account_is_bank=False) == ["a", "a fees"]
    refs = [f"r{n}" for n in range(51)]
    assert [len(b) for b in batches(refs)] == [25, 25, 1]
    assert batches([]) == []
    with pytest.raises(ValueError, match="at least 1"):
        batches(refs, 0)
