"""Writes to Xero: payments, bank transactions (stand-alone deposits, fees), bank transfers
(payouts), deletes, and the look-ups by reference that follow an unknown outcome.

Bodies are built here and serialised by `dumps_exact`, so a Decimal amount reaches the wire with
exactly its digits (the SDK would turn it into a float first). Every write carries the caller's
`Idempotency-Key`; a write whose answer was lost raises OutcomeUnknown (never re-sent blindly).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from xero_sync.core.errors import MalformedXeroPayload
from xero_sync.xero.parse import _decimal, _Reader, _text, parse_date, parse_datetime

MAX_PAYMENTS_PER_CALL = 50
MAX_IDEMPOTENCY_KEY = 128


@dataclass(frozen=True)
class NewPayment:
    invoice_id: str
    account_id: str
    date: dt.date
    amount: Decimal
    reference: str


@dataclass(frozen=True)
class PaymentResult:
    """One element of a PUT /Payments?summarizeErrors=false answer, in request order."""

    ok: bool
    payment_id: str | None
    messages: list[str] = field(default_factory=list)
    reference: str | None = None
    record: Any = None  # the PaymentRecord Xero answered with (write-through landing), if parseable


@dataclass(frozen=True)
class NewLine:
    description: str
    amount: Decimal
    account_id: str | None = None
    account_code: str | None = None

    def __post_init__(self) -> None:
        if (self.account_id is None) == (self.account_code is None):
            raise ValueError("NewLine needs exactly one of account_id or account_code")


@dataclass(frozen=True)
class NewBankTransaction:
    type: str  # "RECEIVE" | "SPEND"
    bank_account_id: str
    contact_id: str
    date: dt.date
    reference: str
    lines: list[NewLine]

    def __post_init__(self) -> None:
        if self.type not in {"RECEIVE", "SPEND"}:
            raise ValueError(f"bank transaction type must be RECEIVE or SPEND, got {self.type!r}")
        if not self.lines:
            raise ValueError("a bank transaction needs at least one line")


@dataclass(frozen=True)
class NewBankTransfer:
    from_account_id: str
    to_account_id: str
    amount: Decimal
    date: dt.date
    reference: str


@dataclass(frozen=True)
class BankTransactionRecord:
    """What a look-up by reference needs to know about an existing bank transaction."""

    bank_transaction_id: str
    type: str
    status: str
    reference: str | None
    date: dt.date
    total: Decimal
    updated_at: dt.datetime | None


# --- exact JSON -------------------------------------------------------------------------------


def dumps_exact(obj: Any) -> bytes:
    """JSON where Decimals are written digit for digit; floats are refused (money never floats)."""
    out: list[str] = []

    def write(value: Any) -> None:
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise ValueError(f"amount {value} is not finite")
            out.append(format(value, "f"))
        elif isinstance(value, float):
            raise TypeError("floats are not allowed in Xero bodies; use Decimal")
        elif isinstance(value, dict):
            out.append("{")
            for i, (k, v) in enumerate(value.items()):
                if i:
                    out.append(",")
                out.append(json.dumps(str(k)))
                out.append(":")
                write(v)
            out.append("}")
        elif isinstance(value, (list, tuple)):
            out.append("[")
            for i, v in enumerate(value):
                if i:
                    out.append(",")
                write(v)
            out.append("]")
        elif isinstance(value, dt.date):
            out.append(json.dumps(value.isoformat()))
        else:
            out.append(json.dumps(value))

    write(obj)
    return "".join(out).encode()


def check_idempotency_key(key: str) -> str:
    if not isinstance(key, str) or not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise ValueError(f"idempotency_key must be 1..{MAX_IDEMPOTENCY_KEY} characters, got {key!r}")
    return key


def _amount(value: Decimal, what: str) -> Decimal:
    if not isinstance(value, Decimal):
        raise TypeError(f"{what} must be Decimal, got {type(value).__name__}")
    return value


def _date(value: dt.date) -> str:
    return value.isoformat()


def reference_where(reference: str) -> str:
    if '"' in reference or "\\" in reference:
        raise ValueError(f"reference {reference!r} contains a quote or backslash")
    return f'Reference=="{reference}"'


# --- bodies -----------------------------------------------------------------------------------


def payments_body(payments: list[NewPayment]) -> dict:
    if not payments:
        raise ValueError("no payments to create")
    if len(payments) > MAX_PAYMENTS_PER_CALL:
        raise ValueError(f"at most {MAX_PAYMENTS_PER_CALL} payments per call, got {len(payments)}")
    return {
        "Payments": [
            {
                "Invoice": {"InvoiceID": p.invoice_id},
                "Account": {"AccountID": p.account_id},
                "Date": _date(p.date),
                "Amount": _amount(p.amount, "payment amount"),
                "Reference": p.reference,
            }
            for p in payments
        ]
    }


def bank_transaction_body(tx: NewBankTransaction) -> dict:
    lines = []
    for line in tx.lines:
        amount = _amount(line.amount, "line amount")
        item: dict[str, Any] = {
            "Description": line.description,
            "Quantity": Decimal("1"),
            "UnitAmount": amount,
            "LineAmount": amount,
        }
        if line.account_id is not None:
            item["AccountID"] = line.account_id
        else:
            item["AccountCode"] = line.account_code
        lines.append(item)
    return {
        "BankTransactions": [
            {
                "Type": tx.type,
                "BankAccount": {"AccountID": tx.bank_account_id},
                "Contact": {"ContactID": tx.contact_id},
                "Date": _date(tx.date),
                "Reference": tx.reference,
                "LineAmountTypes": "NoTax",
                "LineItems": lines,
            }
        ]
    }


def bank_transfer_body(tr: NewBankTransfer) -> dict:
    return {
        "BankTransfers": [
            {
                "FromBankAccount": {"AccountID": tr.from_account_id},
                "ToBankAccount": {"AccountID": tr.to_account_id},
                "Amount": _amount(tr.amount, "transfer amount"),
                "Date": _date(tr.date),
                "Reference": tr.reference,
            }
        ]
    }


# --- answers ----------------------------------------------------------------------------------


def payment_results(payload: Any, sent: list[NewPayment]) -> list[PaymentResult]:
    """One result per sent payment; any element we cannot read raises MalformedXeroPayload
    (naming the element), never AttributeError/TypeError."""
    items = payload.get("Payments") if isinstance(payload, dict) else None
    if not isinstance(items, list) or len(items) != len(sent):
        raise MalformedXeroPayload(
            "Payment", None, "Payments",
            f"expected {len(sent)} elements in the answer, got {len(items) if isinstance(items, list) else 'none'}",
        )
    return [_payment_result(i, item, p) for i, (item, p) in enumerate(zip(items, sent))]


def _payment_result(index: int, item: Any, sent: NewPayment) -> PaymentResult:
    where = f"Payments[{index}]"
    if not isinstance(item, dict):
        raise MalformedXeroPayload("Payment", None, where, f"expected an object, got {type(item).__name__}")
    payment_id = item.get("PaymentID")
    if payment_id is not None and not isinstance(payment_id, str):
        raise MalformedXeroPayload("Payment", None, f"{where}.PaymentID",
                                   f"expected a string, got {type(payment_id).__name__}")
    raw_errors = item.get("ValidationErrors")
    if raw_errors is not None and not isinstance(raw_errors, list):
        raise MalformedXeroPayload("Payment", payment_id, f"{where}.ValidationErrors",
                                   f"expected an array, got {type(raw_errors).__name__}")
    errors = []
    for j, entry in enumerate(raw_errors or []):
        message = entry.get("Message") if isinstance(entry, dict) else None
        if not isinstance(message, str):
            raise MalformedXeroPayload("Payment", payment_id, f"{where}.ValidationErrors[{j}].Message",
                                       "expected an object with a string Message")
        errors.append(message)
    raw_status = item.get("StatusAttributeString")
    if raw_status is not None and not isinstance(raw_status, str):
        raise MalformedXeroPayload("Payment", payment_id, f"{where}.StatusAttributeString",
                                   f"expected a string, got {type(raw_status).__name__}")
    status = (raw_status or ("ERROR" if errors else "OK")).upper()
    ok = status in {"OK", "WARNING"} and not errors and bool(payment_id)
    return PaymentResult(ok=ok, payment_id=payment_id if ok else None, messages=errors,
                         reference=sent.reference, record=_payment_record(item) if ok else None)


def _payment_record(item: dict) -> Any:
    """The answered payment as the pull path would parse it; None if it cannot be (the write
    still counts; the next pull lands it)."""
    from xero_sync.xero.parse import PARSERS

    try:
        return PARSERS["Payments"](item, [])
    except (MalformedXeroPayload, ValueError, TypeError, KeyError):
        return None


def first_id(payload: Any, key: str, id_field: str) -> str:
    items = payload.get(key) if isinstance(payload, dict) else None
    if not isinstance(items, list) or not items or not isinstance(items[0], dict) or not items[0].get(id_field):
        raise MalformedXeroPayload(key.rstrip("s"), None, id_field, "missing from the answer")
    value = items[0][id_field]
    if not isinstance(value, str):
        raise MalformedXeroPayload(key.rstrip("s"), None, id_field,
                                   f"expected a string, got {type(value).__name__}")
    return value


def parse_bank_transaction(data: Any) -> BankTransactionRecord:
    r = _Reader("BankTransaction", data, "BankTransactionID", [])
    return BankTransactionRecord(
        bank_transaction_id=r.object_id,
        type=r.req("Type", _text),
        status=r.req("Status", _text),
        reference=r.opt("Reference", _text),
        date=r.req("Date", parse_date),
        total=r.opt("Total", _decimal, Decimal(0)),
        updated_at=r.opt("UpdatedDateUTC", parse_datetime),
    )


@dataclass(frozen=True)
class BankTransferRecord:
    """What a look-up by reference needs to know about an existing bank transfer."""

    bank_transfer_id: str
    reference: str | None
    date: dt.date
    amount: Decimal
    from_account_id: str | None
    to_account_id: str | None


def parse_bank_transfer(data: Any) -> BankTransferRecord:
    r = _Reader("BankTransfer", data, "BankTransferID", [])
    return BankTransferRecord(
        bank_transfer_id=r.object_id,
        reference=r.opt("Reference", _text),
        date=r.req("Date", parse_date),
        amount=r.req("Amount", _decimal),
        from_account_id=r.opt("FromBankAccount.AccountID", _text),
        to_account_id=r.opt("ToBankAccount.AccountID", _text),
    )


def contact_body(name: str) -> dict:
    if not name or '"' in name:
        raise ValueError(f"contact name {name!r} must be non-empty and free of quotes")
    return {"Contacts": [{"Name": name}]}


def name_where(name: str) -> str:
    if '"' in name or "\\" in name:
        raise ValueError(f"name {name!r} contains a quote or backslash")
    return f'Name=="{name}"'
