"""What Xero shows for a payout, from records found by reference (SPEC section 5). Pure: no I/O.

The push books a payout as `ledger._plan_payout` plans it, and the bank feed line is matched the
way `ledger.payout_bank_line` describes:

- payments account not a BANK account: a RECEIVE into the deposit account with Reference ==
  payout_id (the money on Xero invoices, less the fees when they are a negative line) and/or a
  SPEND with Reference "<payout_id> fees" (the fees under the separate-SPEND setting or when the
  RECEIVE would not stay positive, and refunds taken back beyond the RECEIVE); the SPEND is
  subtracted whenever it exists. A payout of stand-alone deposits only has no RECEIVE: its SPEND
  alone (a negative amount) is what its writes show.
- BANK payments account: a BankTransfer with Reference == payout_id, whose Amount is the net
  (its fees SPEND leaves the payments account, not the bank line).

Only live records count: a bank transaction must be AUTHORISED (DELETED/VOIDED ones are gone
from the books); Xero returns no Status on transfers (a removed transfer is simply not listed),
so a transfer counts unless it carries a non-AUTHORISED status. Several live records with the
same reference are summed: a duplicate shows as an amount mismatch, not as a match.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Protocol

from xero_sync.core.money import to_minor

MAX_REFERENCES_PER_CALL = 25  # keeps the `where` query string short, like payments by reference
LIVE = "AUTHORISED"


class BankTransactionLike(Protocol):  # read-only members: frozen records match
    @property
    def type(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def reference(self) -> str | None: ...
    @property
    def total(self) -> Decimal: ...


class BankTransferLike(Protocol):
    @property
    def reference(self) -> str | None: ...
    @property
    def amount(self) -> Decimal: ...


def fees_reference(payout_id: str) -> str:
    """Reference of the fees SPEND the push writes for a payout (ledger._plan_payout)."""
    return f"{payout_id} fees"


def lookup_references(payout_ids: Iterable[str], *, payments_account_is_bank: bool) -> list[str]:
    """The references to look up: bank transactions (payout and its fees SPEND) for a non-BANK
    payments account, transfers (the payout id) for a BANK one."""
    ids = list(dict.fromkeys(payout_ids))
    if payments_account_is_bank:
        return ids
    return [ref for pid in ids for ref in (pid, fees_reference(pid))]


def batches(references: Sequence[str], size: int = MAX_REFERENCES_PER_CALL) -> list[list[str]]:
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}")
    return [list(references[i : i + size]) for i in range(0, len(references), size)]


def xero_payout_amounts(
    payouts: Mapping[str, str],
    *,
    payments_account_is_bank: bool,
    bank_transactions: Iterable[BankTransactionLike] = (),
    bank_transfers: Iterable[BankTransferLike] = (),
) -> dict[str, int | None]:
    """payout_id -> minor units Xero shows for it (None: nothing live found).

    `payouts` maps payout_id -> currency (for the minor-unit conversion); compare the result
    with the payout's net.
    """
    if payments_account_is_bank:
        found: dict[str, Decimal] = {}
        for t in bank_transfers:
            status = getattr(t, "status", None)
            ref = t.reference
            if ref is not None and ref in payouts and (status is None or status == LIVE):
                found[ref] = found.get(ref, Decimal(0)) + t.amount
        return {pid: _minor(found.get(pid), cur) for pid, cur in payouts.items()}

    receives: dict[str, Decimal] = {}
    fee_spends: dict[str, Decimal] = {}
    by_fees_ref = {fees_reference(pid): pid for pid in payouts}
    for tx in bank_transactions:
        if tx.status != LIVE or tx.reference is None:
            continue
        if tx.type == "RECEIVE" and tx.reference in payouts:
            receives[tx.reference] = receives.get(tx.reference, Decimal(0)) + tx.total
        elif tx.type == "SPEND" and tx.reference in by_fees_ref:
            pid = by_fees_ref[tx.reference]
            fee_spends[pid] = fee_spends.get(pid, Decimal(0)) + tx.total
    # A payout of stand-alone deposits only has just its fees SPEND: found, negative.
    return {
        pid: _minor(receives.get(pid, Decimal(0)) - fee_spends.get(pid, Decimal(0)), cur)
        if pid in receives or pid in fee_spends else None
        for pid, cur in payouts.items()
    }


def _minor(amount: Decimal | None, currency: str) -> int | None:
    return None if amount is None else to_minor(amount, currency)
