"""Xero's JSON dialect: PascalCase bodies, `/Date(ms+0000)/` dates, money as exact numbers.

Money is written from Decimal digits verbatim (never through float), and request bodies are read
with `parse_float=Decimal`, so an amount survives the round trip exactly. `RawJSON` lets callers
embed an already-serialised fragment (per-record caches) without re-encoding it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
# Above any amount Xero takes; keeps cents arithmetic inside Decimal's 28 digits.
MAX_AMOUNT = Decimal("1e12")
_encode_str = json.encoder.encode_basestring


class RawJSON(str):
    """A string that is already JSON; written into the output as is."""


class BodyError(ValueError):
    """A request body or value Xero would not accept; the message says which."""


def money(value: Decimal | int | str) -> Decimal:
    """Round to cents, as Xero stores amounts."""
    return Decimal(value).quantize(CENT)


def ms_date(value: dt.date | dt.datetime) -> str:
    """`/Date(1518685950940+0000)/` for a date (midnight UTC) or an aware/naive-UTC datetime."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    ms = int(value.timestamp() * 1000) if value.microsecond % 1000 == 0 else (
        int(value.timestamp()) * 1000 + value.microsecond // 1000)
    return f"/Date({ms}+0000)/"


def date_string(value: dt.date) -> str:
    """The `DateString` twin Xero sends next to a date: `2024-02-15T00:00:00`."""
    return f"{value.isoformat()}T00:00:00"


def iso_utc(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def dumps(obj: Any) -> str:
    """Serialise to JSON, writing Decimals verbatim and RawJSON fragments untouched."""
    parts: list[str] = []
    _write(obj, parts.append)
    return "".join(parts)


def _write(obj: Any, out: Any) -> None:
    if isinstance(obj, RawJSON):
        out(obj)
    elif isinstance(obj, str):
        out(_encode_str(obj))
    elif obj is None:
        out("null")
    elif obj is True:
        out("true")
    elif obj is False:
        out("false")
    elif isinstance(obj, Decimal):
        out(format(obj, "f"))
    elif isinstance(obj, int):
        out(str(obj))
    elif isinstance(obj, Mapping):
        out("{")
        first = True
        for key, value in obj.items():
            if not first:
                out(",")
            first = False
            out(_encode_str(key))
            out(":")
            _write(value, out)
        out("}")
    elif isinstance(obj, (list, tuple)):
        out("[")
        for i, value in enumerate(obj):
            if i:
                out(",")
            _write(value, out)
        out("]")
    elif isinstance(obj, dt.datetime | dt.date):
        out(_encode_str(ms_date(obj)))
    elif isinstance(obj, float):
        raise TypeError("floats are not written to Xero JSON; use Decimal")
    else:
        raise TypeError(f"cannot serialise {type(obj).__name__} to Xero JSON")


def loads(body: bytes | str) -> Any:
    """Parse a request body; numbers with a fraction become Decimal."""
    try:
        return json.loads(body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BodyError(f"request body is not valid JSON: {exc}") from exc


def parse_date(value: Any, field: str = "Date") -> dt.date:
    """A date as xero-python sends it: `YYYY-MM-DD`, ISO datetime, `/Date(ms)/`, `/Date(ms+0000)/`."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not value:
        raise BodyError(f"{field} must be a date string, got {value!r}")
    match = _MS_DATE.match(value)
    try:
        if match:
            return (_EPOCH + dt.timedelta(milliseconds=int(match.group(1)))).date()
        return dt.date.fromisoformat(value[:10])
    except (ValueError, OverflowError) as exc:  # e.g. /Date(99999999999999999)/: past year 9999
        raise BodyError(f"{field} is not a valid date: {value[:40]!r}") from exc


def parse_decimal(value: Any, field: str) -> Decimal:
    """A number from a body (int, Decimal or numeric string); floats are refused upstream."""
    if isinstance(value, bool) or value is None:
        raise BodyError(f"{field} must be a number, got {value!r}")
    try:
        number = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation as exc:
        raise BodyError(f"{field} must be a number, got {value!r}") from exc
    if not number.is_finite() or abs(number) >= MAX_AMOUNT:
        raise BodyError(f"{field} must be a finite number below {MAX_AMOUNT:f}, got {value!r}")
    return number


# ---- records -> Xero JSON dicts ------------------------------------------------------------
# These read the Organisation's dataclasses duck-typed (no import of sandbox.org, which imports us).

def _dates(day: dt.date, key: str) -> dict[str, Any]:
    return {key: ms_date(day), f"{key}String": date_string(day)}


def account_json(a: Any) -> dict[str, Any]:
    out = {"AccountID": a.account_id, "Code": a.code, "Name": a.name, "Status": a.status,
           "Type": a.type, "TaxType": a.tax_type, "Class": a.cls,
           "EnablePaymentsToAccount": a.enable_payments, "ShowInExpenseClaims": False,
           "BankAccountType": a.bank_account_type, "ReportingCode": "",
           "HasAttachments": False, "UpdatedDateUTC": ms_date(a.updated), "AddToWatchlist": False}
    if a.type == "BANK":
        out["BankAccountNumber"] = a.bank_account_number
        out["CurrencyCode"] = a.currency_code
    if a.system_account:
        out["SystemAccount"] = a.system_account
    return out


def contact_ref(c: Any) -> dict[str, Any]:
    return {"ContactID": c.contact_id, "Name": c.name}


def contact_json(c: Any, summary: bool = False) -> dict[str, Any]:
    out = {"ContactID": c.contact_id, "ContactStatus": c.status, "Name": c.name,
           "FirstName": c.first_name, "LastName": c.last_name, "EmailAddress": c.email,
           "AccountNumber": c.account_number, "IsSupplier": c.is_supplier,
           "IsCustomer": c.is_customer, "UpdatedDateUTC": ms_date(c.updated),
           "HasAttachments": False, "HasValidationErrors": False}
    if not summary:
        out["Addresses"] = [{"AddressType": "STREET"}, {"AddressType": "POBOX"}]
        out["Phones"] = [{"PhoneType": "DEFAULT"}]
        out["ContactGroups"] = []
        out["ContactPersons"] = []
    return out


def line_json(li: Any) -> dict[str, Any]:
    out = {"LineItemID": li.line_item_id, "Description": li.description, "Quantity": li.quantity,
           "UnitAmount": li.unit_amount, "TaxType": li.tax_type, "TaxAmount": li.tax_amount,
           "LineAmount": li.line_amount, "AccountCode": li.account_code, "Tracking": []}
    if li.item_code:
        out["ItemCode"] = li.item_code
    return out


def payment_ref(p: Any) -> dict[str, Any]:
    return {"PaymentID": p.payment_id, "Date": ms_date(p.date), "Amount": p.amount,
            "Reference": p.reference, "CurrencyRate": p.currency_rate, "HasAccount": True,
            "HasValidationErrors": False}


def invoice_json(inv: Any, org: Any, summary: bool = False) -> dict[str, Any]:
    contact = org.contacts[inv.contact_id]
    out: dict[str, Any] = {
        "Type": inv.type, "InvoiceID": inv.invoice_id, "InvoiceNumber": inv.number,
        "Reference": inv.reference, "Contact": contact_ref(contact),
        **_dates(inv.date, "Date"), **_dates(inv.due_date, "DueDate"),
        "Status": inv.status, "LineAmountTypes": inv.line_amount_types,
        "SubTotal": inv.sub_total, "TotalTax": inv.total_tax, "Total": inv.total,
        "AmountDue": inv.amount_due, "AmountPaid": inv.amount_paid,
        "AmountCredited": inv.amount_credited, "CurrencyCode": inv.currency_code,
        "CurrencyRate": Decimal("1.0000000000"), "IsDiscounted": False, "HasAttachments": False,
        "HasErrors": False, "SentToContact": False,
        "UpdatedDateUTC": ms_date(inv.updated), "UpdatedDateUTCString": iso_utc(inv.updated)}
    if inv.fully_paid_on is not None:
        out["FullyPaidOnDate"] = ms_date(inv.fully_paid_on)
    if summary:
        return out
    out["LineItems"] = [line_json(li) for li in inv.line_items]
    out["Payments"] = [payment_ref(org.payments[p]) for p in inv.payment_ids
                       if org.payments[p].status != "DELETED"]
    groups: dict[str, list[dict[str, Any]]] = {"CREDITNOTE": [], "OVERPAYMENT": [], "PREPAYMENT": []}
    for al in inv.allocations:
        if al.is_deleted:
            continue
        if al.source_kind == "CREDITNOTE":
            note = org.credit_notes[al.source_id]
            groups["CREDITNOTE"].append({
                "CreditNoteID": note.credit_note_id, "CreditNoteNumber": note.number,
                "Date": ms_date(al.date), "Total": note.total, "AppliedAmount": al.amount,
                "HasErrors": False})
        else:
            key = "OverpaymentID" if al.source_kind == "OVERPAYMENT" else "PrepaymentID"
            groups[al.source_kind].append({key: al.source_id, "Date": ms_date(al.date),
                                           "AppliedAmount": al.amount, "Total": al.amount})
    out["CreditNotes"] = groups["CREDITNOTE"]
    out["Overpayments"] = groups["OVERPAYMENT"]
    out["Prepayments"] = groups["PREPAYMENT"]
    return out


def payment_json(p: Any, org: Any) -> dict[str, Any]:
    inv = org.invoices[p.invoice_id]
    account = org.accounts[p.account_id]
    return {
        "PaymentID": p.payment_id, "Date": ms_date(p.date), "BankAmount": p.amount,
        "Amount": p.amount, "Reference": p.reference, "CurrencyRate": p.currency_rate,
        "PaymentType": p.payment_type, "Status": p.status, "UpdatedDateUTC": ms_date(p.updated),
        "UpdatedDateUTCString": iso_utc(p.updated), "HasAccount": True,
        "IsReconciled": p.is_reconciled, "HasValidationErrors": False,
        "Account": {"AccountID": account.account_id, "Code": account.code},
        "Invoice": {"InvoiceID": inv.invoice_id, "InvoiceNumber": inv.number, "Type": inv.type,
                    "Contact": contact_ref(org.contacts[inv.contact_id]),
                    "CurrencyCode": inv.currency_code, "IsDiscounted": False,
                    "HasErrors": False, "Payments": [], "CreditNotes": [], "Prepayments": [],
                    "Overpayments": [], "LineItems": []}}


def allocation_json(al: Any, org: Any) -> dict[str, Any]:
    inv = org.invoices[al.invoice_id]
    return {"AllocationID": al.allocation_id, "Amount": al.amount, "Date": ms_date(al.date),
            "IsDeleted": al.is_deleted,
            "Invoice": {"InvoiceID": inv.invoice_id, "InvoiceNumber": inv.number,
                        "Payments": [], "CreditNotes": [], "Prepayments": [], "Overpayments": [],
                        "HasErrors": False, "IsDiscounted": False}}


def credit_note_json(n: Any, org: Any) -> dict[str, Any]:
    return {
        "CreditNoteID": n.credit_note_id, "CreditNoteNumber": n.number, "Type": n.type,
        "Reference": n.reference, "Contact": contact_ref(org.contacts[n.contact_id]),
        **_dates(n.date, "Date"), "Status": n.status, "LineAmountTypes": n.line_amount_types,
        "LineItems": [line_json(li) for li in n.line_items], "SubTotal": n.sub_total,
        "TotalTax": n.total_tax, "Total": n.total, "RemainingCredit": n.remaining_credit,
        "CurrencyCode": n.currency_code, "CurrencyRate": Decimal("1.0000000000"),
        "UpdatedDateUTC": ms_date(n.updated), "UpdatedDateUTCString": iso_utc(n.updated),
        "Allocations": [allocation_json(a, org) for a in n.allocations], "Payments": [],
        "HasAttachments": False, "HasErrors": False}


def credit_json(c: Any, org: Any) -> dict[str, Any]:
    key = "OverpaymentID" if c.kind == "OVERPAYMENT" else "PrepaymentID"
    return {
        key: c.credit_id, "Type": c.type, "Reference": c.reference,
        "Contact": contact_ref(org.contacts[c.contact_id]), **_dates(c.date, "Date"),
        "Status": c.status, "LineAmountTypes": c.line_amount_types,
        "LineItems": [line_json(li) for li in c.line_items], "SubTotal": c.sub_total,
        "TotalTax": c.total_tax, "Total": c.total, "RemainingCredit": c.remaining_credit,
        "CurrencyCode": c.currency_code, "CurrencyRate": Decimal("1.0000000000"),
        "UpdatedDateUTC": ms_date(c.updated), "UpdatedDateUTCString": iso_utc(c.updated),
        "Allocations": [allocation_json(a, org) for a in c.allocations], "Payments": [],
        "HasAttachments": False}


def bank_transaction_json(t: Any, org: Any) -> dict[str, Any]:
    bank = org.accounts[t.bank_account_id]
    out: dict[str, Any] = {
        "BankTransactionID": t.bank_transaction_id, "Type": t.type, "Reference": t.reference,
        **_dates(t.date, "Date"), "Status": t.status, "LineAmountTypes": t.line_amount_types,
        "LineItems": [line_json(li) for li in t.line_items], "SubTotal": t.sub_total,
        "TotalTax": t.total_tax, "Total": t.total, "CurrencyCode": t.currency_code,
        "IsReconciled": t.is_reconciled, "HasAttachments": False,
        "UpdatedDateUTC": ms_date(t.updated),
        "BankAccount": {"AccountID": bank.account_id, "Code": bank.code, "Name": bank.name}}
    if t.contact_id:
        out["Contact"] = contact_ref(org.contacts[t.contact_id])
    if t.overpayment_id:
        out["OverpaymentID"] = t.overpayment_id
    if t.prepayment_id:
        out["PrepaymentID"] = t.prepayment_id
    return out


def bank_transfer_json(b: Any, org: Any) -> dict[str, Any]:
    src, dst = org.accounts[b.from_account_id], org.accounts[b.to_account_id]
    return {
        "BankTransferID": b.bank_transfer_id, **_dates(b.date, "Date"), "Amount": b.amount,
        "CurrencyRate": Decimal("1.0000000000"), "Reference": b.reference, "Status": b.status,
        "FromBankAccount": {"AccountID": src.account_id, "Code": src.code, "Name": src.name},
        "ToBankAccount": {"AccountID": dst.account_id, "Code": dst.code, "Name": dst.name},
        "FromBankTransactionID": b.from_transaction_id, "ToBankTransactionID": b.to_transaction_id,
        "FromIsReconciled": b.from_is_reconciled, "ToIsReconciled": b.to_is_reconciled,
        "HasAttachments": False, "CreatedDateUTC": ms_date(b.created),
        "CreatedDateUTCString": iso_utc(b.created)}


def manual_journal_json(j: Any) -> dict[str, Any]:
    return {"ManualJournalID": j.manual_journal_id, "Narration": j.narration,
            **_dates(j.date, "Date"), "Status": j.status, "LineAmountTypes": j.line_amount_types,
            "JournalLines": j.lines, "ShowOnCashBasisReports": j.show_on_cash_basis_reports,
            "HasAttachments": False, "UpdatedDateUTC": ms_date(j.updated)}


def organisation_json(org: Any) -> dict[str, Any]:
    country = "US" if org.currency == "USD" else "CA"
    return {"OrganisationID": org.tenant_id, "APIKey": "", "Name": org.name, "LegalName": org.name,
            "PaysTax": True, "Version": "US" if country == "US" else "GLOBAL",
            "OrganisationType": "COMPANY", "BaseCurrency": org.currency, "CountryCode": country,
            "IsDemoCompany": True, "OrganisationStatus": "ACTIVE", "FinancialYearEndDay": 31,
            "FinancialYearEndMonth": 12, "SalesTaxBasis": "ACCRUAL", "SalesTaxPeriod": "NONE",
            "CreatedDateUTC": ms_date(org.created), "OrganisationEntityType": "COMPANY",
            "Timezone": "EASTERNSTANDARDTIME", "ShortCode": org.short_code, "Class": "DEMO",
            "Edition": "BUSINESS", "LineOfBusiness": "Demo", "Addresses": [], "Phones": [],
            "ExternalLinks": [], "PaymentTerms": {}}
