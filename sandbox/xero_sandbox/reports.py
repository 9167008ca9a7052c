"""The sandbox's `GET /Reports/TrialBalance`: every account's balance, computed from the books.

Xero's report shape (ReportWithRows in the vendored xero_accounting.yaml): one report whose Rows
are a Header (Account | Debit | Credit | YTD Debit | YTD Credit), one Section per account class
with a Row per account (every cell carries the AccountID as attribute `account`), and a final
Section holding the SummaryRow of totals. Accounts with no postings are left out, as Xero does.

Columns as the sandbox fills them (the official spec documents the shape, not the arithmetic):
Debit/Credit = the account's balance as at `date` (every posting dated on or before it), on the
side it falls; YTD Debit/Credit = the movement from 1 January of that year to `date`.

Postings (double entry, amounts in the organisation's base currency; a payment on a foreign
currency invoice is converted at the CurrencyRate it was booked at, amount / rate):
- approved sales invoices: AR debit total, lines' accounts credit (bills the other way round);
  sales credit notes the reverse of invoices;
- payments (AUTHORISED): the payment's account debit and AR credit for ACCREC payments; the
  other payment types by the side of the ledger they settle;
- bank transactions (AUTHORISED): RECEIVE debits the bank account and credits each line's account
  (a negative line debits it), SPEND the reverse; transfer legs (…-TRANSFER) move only the two
  bank accounts;
- posted manual journals: each line as given (positive = debit).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from flask import Blueprint, Response, request

from xero_sandbox import xero_json as xj
from xero_sandbox.accounting.responses import envelope, error_response
from xero_sandbox.context import current_org
from xero_sandbox.org import Organisation

reports = Blueprint("reports", __name__)

ZERO = Decimal(0)
SECTIONS = (("REVENUE", "Revenue"), ("EXPENSE", "Expenses"), ("ASSET", "Assets"),
            ("LIABILITY", "Liabilities"), ("EQUITY", "Equity"))
APPROVED = ("AUTHORISED", "PAID")
_AR_SIDE = ("ACCREC", "ARCREDIT", "AROVERPAYMENT", "ARPREPAYMENT")
_MONEY_IN = ("ACCRECPAYMENT", "APCREDITPAYMENT", "APOVERPAYMENTPAYMENT", "APPREPAYMENTPAYMENT")


class _Ledger:
    """Debit-positive postings per account code, dated."""

    def __init__(self, org: Organisation) -> None:
        self.org = org
        self.postings: list[tuple[dt.date, str, Decimal]] = []

    def post(self, day: dt.date, code: str, debit: Decimal) -> None:
        if code and debit:
            self.postings.append((day, code, debit))

    def lines(self, day: dt.date, lines: Iterable, sign: int) -> None:
        for line in lines:
            self.post(day, line.account_code, sign * line.line_amount)
            if line.tax_amount:
                self.post(day, "820", sign * line.tax_amount)


def _in_base(amount: Decimal, rate: Decimal) -> Decimal:
    return amount if rate == 1 else (amount / rate).quantize(Decimal("0.01"))


def _postings(org: Organisation) -> list[tuple[dt.date, str, Decimal]]:
    led = _Ledger(org)
    code_of = {a.account_id: a.code for a in org.accounts.values()}
    for inv in org.invoices.values():
        if inv.status not in APPROVED:
            continue
        sign = 1 if inv.type == "ACCREC" else -1
        led.post(inv.date, "610" if sign == 1 else "800", sign * inv.total)
        led.lines(inv.date, inv.line_items, -sign)
    for note in org.credit_notes.values():
        if note.status not in APPROVED:
            continue
        sign = -1 if note.type == "ACCRECCREDIT" else 1
        led.post(note.date, "610" if sign == -1 else "800", sign * note.total)
        led.lines(note.date, note.line_items, -sign)
    for p in org.payments.values():
        if p.status != "AUTHORISED":
            continue
        sign = 1 if p.payment_type in _MONEY_IN else -1
        control = "610" if p.payment_type.startswith(_AR_SIDE) else "800"
        base = _in_base(p.amount, p.currency_rate)  # a foreign payment at the rate it was booked at
        led.post(p.date, code_of.get(p.account_id, ""), sign * base)
        led.post(p.date, control, -sign * base)
    for t in org.bank_transactions.values():
        if t.status != "AUTHORISED":
            continue
        sign = 1 if t.type.startswith("RECEIVE") else -1
        led.post(t.date, code_of.get(t.bank_account_id, ""), sign * t.total)
        if not t.type.endswith("-TRANSFER"):  # the other leg holds the other bank account
            led.lines(t.date, t.line_items, -sign)
    for j in org.manual_journals.values():
        if j.status == "POSTED":
            for line in j.lines:
                led.post(j.date, line["AccountCode"], line["LineAmount"])
    return led.postings


def balances(org: Organisation, as_of: dt.date) -> dict[str, tuple[Decimal, Decimal]]:
    """account code -> (balance as at `as_of`, movement since 1 January), debit-positive."""
    year_start = dt.date(as_of.year, 1, 1)
    out: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for day, code, amount in _postings(org):
        if day <= as_of:
            out[code][0] += amount
            if day >= year_start:
                out[code][1] += amount
    return {code: (b, ytd) for code, (b, ytd) in out.items()}


def _sides(amount: Decimal) -> tuple[str, str]:
    """(debit, credit) cells: the amount on its side, the other blank."""
    if amount > 0:
        return f"{xj.money(amount):.2f}", ""
    if amount < 0:
        return "", f"{xj.money(-amount):.2f}"
    return "", ""


def trial_balance_json(org: Organisation, as_of: dt.date) -> dict:
    """One ReportWithRow: the trial balance of `org` as at `as_of`."""
    found = balances(org, as_of)
    rows: list[dict] = [{"RowType": "Header", "Cells": [
        {"Value": v} for v in ("Account", "Debit", "Credit", "YTD Debit", "YTD Credit")]}]
    totals = [ZERO, ZERO, ZERO, ZERO]
    for cls, title in SECTIONS:
        section_rows = []
        for account in sorted(org.accounts.values(), key=lambda a: a.code):
            if account.cls != cls or account.code not in found:
                continue
            balance, ytd = found[account.code]
            if not balance and not ytd:
                continue
            cells = [f"{account.name} ({account.code})", *_sides(balance), *_sides(ytd)]
            for n, value in enumerate(cells[1:]):
                totals[n] += Decimal(value or "0")
            attrs = [{"Value": account.account_id, "Id": "account"}]
            section_rows.append({"RowType": "Row",
                                 "Cells": [{"Value": c, "Attributes": attrs} for c in cells]})
        if section_rows:
            rows.append({"RowType": "Section", "Title": title, "Rows": section_rows})
    rows.append({"RowType": "Section", "Title": "", "Rows": [{"RowType": "SummaryRow", "Cells": [
        {"Value": "Total"}, *({"Value": f"{t:.2f}"} for t in totals)]}]})
    day = f"{as_of.day} {as_of:%B %Y}"
    return {
        "ReportID": "TrialBalance", "ReportName": "Trial Balance", "ReportType": "TrialBalance",
        "ReportTitles": ["Trial Balance", org.name, f"As at {day}"], "ReportDate": day,
        "UpdatedDateUTC": xj.ms_date(org.now()), "Fields": [], "Rows": rows,
    }


@reports.get("/Reports/TrialBalance")
def trial_balance() -> Response:
    org = current_org()
    raw = request.args.get("date")
    try:
        as_of = dt.date.fromisoformat(raw) if raw else org.now().date()
    except ValueError:
        return error_response(f"'{raw}' is not a valid date for the date parameter")
    with org.lock:
        return envelope("Reports", [trial_balance_json(org, as_of)])
