"""The reconciliation diff's reads from Xero, made through the client (the store does no Xero I/O).

Two reads, both bounded:
- the targeted pull of payouts: the partner's latest payouts whose write may exist
  (platform.diffs.payouts_to_check) looked up by reference, 25 per call, and matched as the bank
  feed line would be (sync.payout_match);
- the payments account's balance: one GET /Reports/TrialBalance as at the diff's date.
Nothing is read while the accounts are not set up (there is nothing of ours to check).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from xero_sync.core.money import to_minor
from xero_sync.store.connections import Connection
from xero_sync.sync import payout_match
from xero_sync.xero.client import XeroClient


@dataclass(frozen=True)
class PayoutPull:
    """What the targeted pull found: payout_id -> minor units in Xero (None: nothing live)."""

    amounts: dict[str, int | None]
    calls: int


@dataclass(frozen=True)
class XeroSide:
    """What the diff read from Xero."""

    as_of: dt.date
    payout_amounts: dict[str, int | None] = field(default_factory=dict)
    payments_account_minor: int | None = None  # None: not read
    calls: int = 0


def pull_payout_amounts(client: XeroClient, to_check: Mapping[str, str], *,
                        payments_account_is_bank: bool) -> PayoutPull:
    """Look the payouts up in Xero by reference (≤ 25 references per call) and say what Xero
    shows for each payout's own writes (sync.payout_match)."""
    refs = payout_match.lookup_references(to_check, payments_account_is_bank=payments_account_is_bank)
    transactions, transfers = [], []
    calls = 0
    for batch in payout_match.batches(refs):
        calls += 1
        if payments_account_is_bank:
            transfers += client.find_bank_transfers_by_references(batch)
        else:
            transactions += client.find_bank_transactions_by_references(batch)
    amounts = payout_match.xero_payout_amounts(
        dict(to_check), payments_account_is_bank=payments_account_is_bank,
        bank_transactions=transactions, bank_transfers=transfers)
    return PayoutPull(amounts=amounts, calls=calls)


def read_xero_side(client: XeroClient, connection: Connection, to_check: Mapping[str, str],
                   as_of: dt.date) -> XeroSide:
    """The payouts' amounts and the payments account's balance as at `as_of`."""
    if connection.payments_account_is_bank is None or not connection.payments_account_id:
        return XeroSide(as_of)
    pulled = PayoutPull({}, 0)
    if to_check:
        pulled = pull_payout_amounts(client, to_check,
                                     payments_account_is_bank=connection.payments_account_is_bank)
    report = client.trial_balance(as_of)
    balance = report.balance_of(connection.payments_account_id)
    currency = connection.base_currency or "USD"
    return XeroSide(as_of, pulled.amounts, to_minor(balance, currency), pulled.calls + 1)
