"""Reports/TrialBalance JSON -> typed records: Decimal amounts, account ids from the cells'
attributes, and a clear error naming the account and column when Xero's report is malformed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from xero_sync.core.errors import MalformedXeroPayload
from xero_sync.xero.reports import parse_trial_balance

DAY = dt.date(2026, 11, 30)


def report(*rows: dict) -> dict:
    header = {"RowType": "Header", "Cells": [{"Value": v} for v in
                                             ("Account", "Debit", "Credit", "YTD Debit", "YTD Credit")]}
    return {"Reports": [{"ReportType": "TrialBalance", "ReportDate": "30 November 2026",
                         "Rows": [header, {"RowType": "Section", "Title": "Assets", "Rows": list(rows)},
                                  {"RowType": "Section", "Rows": [{"RowType": "SummaryRow",
                                                                  "Cells": [{"Value": "Total"}]}]}]}]}


def row(name: str, account_id: str, *values: str) -> dict:
    attrs = [{"Id": "account", "Value": account_id}]
    return {"RowType": "Row", "Cells": [{"Value": v, "Attributes": attrs} for v in (name, *values)]}


def test_balances_are_decimal_and_keyed_by_account_id():
    tb = parse_trial_balance(report(
        row("Undeposited Funds (615)", "acc-615", "1,234.50", "", "10.00", ""),
        row("Business Checking (090)", "acc-090", "", "99.99", "", "5.00")), DAY)
    assert tb.balance_of("acc-615") == Decimal("1234.50") and tb.accounts["acc-615"].code == "615"
    assert tb.balance_of("acc-090") == Decimal("-99.99")
    assert tb.balance_of("acc-missing") == Decimal(0)  # Xero leaves out accounts with nothing
    assert tb.accounts["acc-090"].section == "Assets"


def test_malformed_amount_names_account_and_column():
    with pytest.raises(MalformedXeroPayload, match="acc-615: field Credit not an amount"):
        parse_trial_balance(report(row("Undeposited Funds (615)", "acc-615", "", "12,x", "", "")), DAY)


def test_row_without_account_id_and_missing_columns_are_refused():
    bad = report(row("Sales (200)", "", "1.00", "", "", ""))
    with pytest.raises(MalformedXeroPayload, match="has no account id"):
        parse_trial_balance(bad, DAY)
    with pytest.raises(MalformedXeroPayload, match="lacks columns"):
        parse_trial_balance({"Reports": [{"Rows": [{"RowType": "Header", "Cells": []}]}]}, DAY)
