"""Xero's report JSON (ReportWithRows) -> typed records, for the reports the sync reads.

`GET /Reports/TrialBalance`: one report; a Header row names the columns (Account, Debit, Credit,
YTD Debit, YTD Credit), Section rows hold a Row per account whose cells carry the AccountID as
attribute `account`, a SummaryRow holds the totals. Amounts are strings ("1234.50", "" for none)
and become Decimal; nothing else is trusted: a row without an account id, or an amount that is
not a number, raises MalformedXeroPayload naming the account and column.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from xero_sync.core.errors import MalformedXeroPayload

_CODE = re.compile(r"\(([^()]*)\)\s*$")  # "Undeposited Funds (615)" -> 615
_COLUMNS = ("Debit", "Credit", "YTD Debit", "YTD Credit")


@dataclass(frozen=True)
class AccountBalance:
    """One account's line of the trial balance (Decimal, major units)."""

    account_id: str
    name: str
    code: str | None
    section: str
    debit: Decimal
    credit: Decimal
    ytd_debit: Decimal
    ytd_credit: Decimal

    @property
    def balance(self) -> Decimal:
        """Debit-positive balance as at the report date (an asset account's money in it)."""
        return self.debit - self.credit


@dataclass(frozen=True)
class TrialBalance:
    as_of: dt.date
    report_date: str
    accounts: dict[str, AccountBalance]  # by AccountID

    def balance_of(self, account_id: str) -> Decimal:
        """An account's balance; an account the report leaves out has none (Xero omits zeros)."""
        found = self.accounts.get(account_id)
        return found.balance if found is not None else Decimal(0)


def parse_trial_balance(payload: Any, as_of: dt.date) -> TrialBalance:
    reports = payload.get("Reports") if isinstance(payload, dict) else None
    if not isinstance(reports, list) or len(reports) != 1 or not isinstance(reports[0], dict):
        raise MalformedXeroPayload("Report", "TrialBalance", "Reports", "expected one report")
    report = reports[0]
    rows = report.get("Rows")
    if not isinstance(rows, list):
        raise MalformedXeroPayload("Report", "TrialBalance", "Rows", "missing list")
    header = next((r for r in rows if isinstance(r, dict) and r.get("RowType") == "Header"), None)
    names = [str(c.get("Value", "")) for c in (header or {}).get("Cells", [])]
    missing = [c for c in ("Account", *_COLUMNS) if c not in names]
    if missing:
        raise MalformedXeroPayload("Report", "TrialBalance", "Header", f"lacks columns {missing}")
    index = {name: names.index(name) for name in _COLUMNS}
    accounts: dict[str, AccountBalance] = {}
    for section in rows:
        if not isinstance(section, dict) or section.get("RowType") != "Section":
            continue
        for row in section.get("Rows") or []:
            if not isinstance(row, dict) or row.get("RowType") != "Row":
                continue
            record = _account_row(row, str(section.get("Title") or ""), index)
            accounts[record.account_id] = record
    return TrialBalance(as_of, str(report.get("ReportDate") or ""), accounts)


def _account_row(row: dict, section: str, index: dict[str, int]) -> AccountBalance:
    cells = row.get("Cells") or []
    first = cells[0] if cells and isinstance(cells[0], dict) else {}
    name = str(first.get("Value") or "")
    account_id = next((str(a.get("Value")) for a in first.get("Attributes") or []
                       if isinstance(a, dict) and a.get("Id") == "account" and a.get("Value")), None)
    if account_id is None:
        raise MalformedXeroPayload("Report", "TrialBalance", f"row {name!r}", "has no account id")

    def amount(column: str) -> Decimal:
        n = index[column]
        raw = cells[n].get("Value") if n < len(cells) and isinstance(cells[n], dict) else ""
        try:
            return Decimal(str(raw).replace(",", "")) if raw not in (None, "") else Decimal(0)
        except InvalidOperation:
            raise MalformedXeroPayload("Report", account_id, column, f"not an amount: {raw!r}") from None

    code = _CODE.search(name)
    return AccountBalance(account_id, name, code.group(1) if code else None, section,
                          amount("Debit"), amount("Credit"), amount("YTD Debit"), amount("YTD Credit"))
