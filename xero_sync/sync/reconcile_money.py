"""The diff's money checks (SPEC section 5): each payout's bank line and the payments account.

Pure, vectorised over payouts. Two checks:

- Per payout: what Xero shows for the payout's own writes (the targeted pull: its RECEIVE less
  its fees/refund SPEND, or its BankTransfer; `xero_amount_minor`) plus the stand-alone deposits
  listed with it that sit in the deposit account (`listed_deposits_minor`) must equal the
  payout's net, the bank line. A payout whose writes should move nothing (stand-alone deposits
  only, no fees) counts as found with 0. Optional payout columns (PAYOUT_MONEY_COLUMNS), absent
  for old callers: `expected_xero_minor` (default: the net), `listed_deposits_minor` (0),
  `listed_in_flight` (False: a listed deposit's write still on its way explains a mismatch).
- The payments account: its balance in Xero (Reports/TrialBalance as at the report date) must
  equal the payments received into it and not yet paid out, as Alternative and the landed Xero
  payments say (`ReconcileInput.awaiting_payout_minor`). A gap equal to the writes whose outcome
  is in doubt (`in_doubt_minor`) is explained.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xero_sync.sync.diff_rows import IN_FLIGHT_OUTBOX, empty_diff, rows

PAYOUT_MONEY_COLUMNS = ("expected_xero_minor", "listed_deposits_minor", "listed_in_flight")


def payout_differences(inp, alt_mask: np.ndarray, payment_invoice_source: np.ndarray) -> list[pd.DataFrame]:
    """payout_not_recorded / payout_amount_mismatch rows, naming the payout."""
    po = inp.payouts
    if po.empty:
        return []
    net = po["net_minor"].astype("Int64").to_numpy(dtype=object)
    found = po["xero_amount_minor"].astype("Int64")
    expected = (po["expected_xero_minor"].astype("Int64") if "expected_xero_minor" in po
                else po["net_minor"].astype("Int64")).fillna(0).to_numpy(dtype=np.int64)
    listed = (po["listed_deposits_minor"].astype("Int64").fillna(0).to_numpy(dtype=np.int64)
              if "listed_deposits_minor" in po else np.zeros(len(po), dtype=np.int64))
    listed_in_flight = (po["listed_in_flight"].fillna(False).to_numpy(dtype=bool)
                        if "listed_in_flight" in po else np.zeros(len(po), dtype=bool))
    nothing = found.isna().to_numpy(dtype=bool)
    own = found.fillna(0).to_numpy(dtype=np.int64)
    shows = own + listed
    not_recorded = nothing & (expected != 0)
    other_amount = ~not_recorded & (shows != net.astype(np.int64))
    if not (not_recorded.any() or other_amount.any()):
        return []
    members = _standalone_deposits(inp, alt_mask, payment_invoice_source,
                                   po["payout_id"].loc[not_recorded | other_amount])
    names = po["payout_id"].map(members).astype(object).fillna("none").to_numpy()
    detail = (
        "payout's own writes " + own.astype(str).astype(object)
        + " (expected " + expected.astype(str).astype(object) + ") + stand-alone deposits "
        + listed.astype(str).astype(object) + " in the bank line: " + names
    )
    in_flight = po["outbox_status"].isin(IN_FLIGHT_OUTBOX).to_numpy(dtype=bool)
    xero_shown = np.where(nothing & (listed == 0), np.array(None, dtype=object), shows).astype(object)
    parts = []
    for kind, m, action in (
        ("payout_not_recorded", not_recorded, "push"),
        ("payout_amount_mismatch", other_amount, "investigate payout in Xero"),
    ):
        if m.any():
            explained = (in_flight[m] & (kind == "payout_not_recorded")) | listed_in_flight[m]
            parts.append(rows(
                kind, "payout", po["payout_id"].to_numpy()[m],
                platform_minor=net[m], xero_minor=xero_shown[m],
                explained=explained, action=action, detail=detail[m],
            ))
    return parts


def _standalone_deposits(inp, alt_mask: np.ndarray, payment_invoice_source: np.ndarray,
                         payout_ids: pd.Series) -> pd.Series:
    """payout_id -> space-separated stand-alone deposit payment ids of that payout."""
    pp = inp.platform_payments
    m = alt_mask & (payment_invoice_source == "alternative")
    m &= pp["payout_id"].isin(payout_ids).to_numpy()
    sub = pp.loc[m, ["payout_id", "payment_id"]].sort_values("payment_id")
    return sub.groupby("payout_id")["payment_id"].agg(" ".join)


def account_balance(inp) -> pd.DataFrame:
    """payments_account_balance_mismatch: Xero's balance vs received and not yet paid out;
    payments_account_unverified (explained, action review) when an amount reaching or leaving
    the account is in another currency at a rate not known, so no comparison in the base
    currency is honest (platform.money_position says which)."""
    unverified = getattr(inp, "balance_unverified", None)
    if unverified:
        return rows("payments_account_unverified", "account", ["payments_account"],
                    currency=inp.currency, explained=True,
                    action="review: verify the payments account in Xero",
                    detail=unverified)
    if inp.payments_account_balance_minor is None or inp.awaiting_payout_minor is None:
        return empty_diff()
    gap = inp.awaiting_payout_minor - inp.payments_account_balance_minor
    if gap == 0:
        return empty_diff()
    in_doubt = int(getattr(inp, "in_doubt_minor", 0) or 0)
    return rows(
        "payments_account_balance_mismatch", "account", ["payments_account"],
        platform_minor=np.array([inp.awaiting_payout_minor]),
        xero_minor=np.array([inp.payments_account_balance_minor]),
        currency=inp.currency, explained=in_doubt != 0 and gap == -in_doubt,
        action="investigate payments account",
        detail=(f"received and not paid out {inp.awaiting_payout_minor}, Xero balance "
                f"{inp.payments_account_balance_minor} as at {getattr(inp, 'as_of', None) or 'the report date'}"
                f" (difference {-gap}; writes in doubt {in_doubt})"),
    )
