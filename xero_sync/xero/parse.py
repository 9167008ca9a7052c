"""Xero JSON (parsed with Decimal floats) -> typed records in `records.py`.

Tolerant where Xero may grow (unknown enum values and unknown top-level fields become
`DriftNote`s), strict where we cannot go on (a missing required field or an unparseable value
raises `MalformedXeroPayload` naming entity, record id and field).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from xero_sync.core.errors import MalformedXeroPayload
from xero_sync.xero.known_fields import KNOWN_FIELDS
from xero_sync.core.records import (
    CONTACT_STATUSES,
    CREDIT_NOTE_STATUSES,
    INVOICE_STATUSES,
    INVOICE_TYPES,
    KNOWN_CURRENCIES,
    PAYMENT_STATUSES,
    AccountRecord,
    AllocationRecord,
    ContactRecord,
    CreditNoteRecord,
    DriftNote,
    InvoiceRecord,
    OrganisationRecord,
    PaymentRecord,
)

CREDIT_NOTE_TYPES = frozenset({"ACCRECCREDIT", "ACCPAYCREDIT"})
ACCOUNT_STATUSES = frozenset({"ACTIVE", "ARCHIVED", "DELETED"})

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_MISSING = object()

T = TypeVar("T")


# Beyond any amount Xero stores, and well inside BigInteger minor units (9.2e18).
MAX_AMOUNT = Decimal("1e15")
CENT = Decimal("0.01")


def loads(body: bytes | str) -> Any:
    """JSON with every non-integer number as Decimal (never float).

    `NaN`/`Infinity` literals (not JSON, but Python's decoder takes them) become Decimal too, so
    the field that holds one is named by `_decimal` instead of a float slipping through.
    """
    return json.loads(body, parse_float=Decimal, parse_constant=Decimal)


def parse_datetime(value: Any) -> dt.datetime:
    """`/Date(1439434356790+0000)/` or ISO 8601 -> aware UTC datetime (naive ISO means UTC)."""
    if isinstance(value, str):
        m = _MS_DATE.match(value.strip())
        if m:
            # The milliseconds are UTC epoch; the offset only says where the org is.
            return dt.datetime.fromtimestamp(int(m.group(1)) / 1000, tz=dt.timezone.utc)
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.timezone.utc)
        return parsed.astimezone(dt.timezone.utc)
    raise ValueError(f"not a Xero date: {value!r}")


def parse_date(value: Any) -> dt.date:
    if isinstance(value, str) and not _MS_DATE.match(value.strip()) and "T" not in value:
        return dt.date.fromisoformat(value.strip())
    return parse_datetime(value).date()


def _decimal(value: Any) -> Decimal:
    """An amount: finite, within MAX_AMOUNT and exact to the cent (Xero stores 2 decimals)."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not an amount: {value!r}")
    if isinstance(value, (Decimal, int)):
        amount = Decimal(value)
    elif isinstance(value, str):
        amount = Decimal(value.strip())
    else:
        raise ValueError(f"not an amount: {value!r}")  # floats never reach here (parse_float)
    if not amount.is_finite():
        raise ValueError("amount is not finite")
    if abs(amount) >= MAX_AMOUNT:
        raise ValueError(f"amount out of range (|amount| must be below {MAX_AMOUNT:f})")
    if amount != amount.quantize(CENT):
        raise ValueError("amount is not exact to the cent")
    return amount


def _text(value: Any) -> str:
    """A string field (ids, names, codes): Xero sends JSON strings; anything else is malformed,
    never stringified (an object where a GUID belongs would become "{'a': 1}")."""
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _array(value: Any) -> list:
    if not isinstance(value, list):
        raise TypeError(f"expected an array, got {type(value).__name__}")
    return value


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    raise ValueError(f"not a boolean: {value!r}")


class _Reader:
    """Reads one Xero object, collecting drift and naming the field on failure."""

    def __init__(self, entity: str, data: Any, id_field: str, notes: list[DriftNote]) -> None:
        if not isinstance(data, dict):
            raise MalformedXeroPayload(entity, None, "<object>", f"expected an object, got {type(data).__name__}")
        self.entity = entity
        self.data = data
        self.notes = notes
        self.record_id: str | None = None  # None while the id itself is read
        self.object_id = self.req(id_field, _text)
        self.record_id = self.object_id
        known = KNOWN_FIELDS.get(entity)
        if known is not None:
            for key in data:
                if key not in known:
                    notes.append(DriftNote(entity, self.record_id, key, key, "unknown_field"))

    def _get(self, path: str) -> Any:
        node: Any = self.data
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node or node[part] is None:
                return _MISSING
            node = node[part]
        return node

    def _convert(self, path: str, raw: Any, conv: Callable[[Any], T]) -> T:
        try:
            return conv(raw)
        except (ValueError, TypeError, InvalidOperation, OverflowError, OSError) as exc:
            raise MalformedXeroPayload(self.entity, self.record_id, path, f"unparseable value {raw!r}: {exc}") from None

    def req(self, path: str, conv: Callable[[Any], T]) -> T:
        raw = self._get(path)
        if raw is _MISSING or raw == "":
            raise MalformedXeroPayload(self.entity, self.record_id, path, "is missing")
        return self._convert(path, raw, conv)

    def opt(self, path: str, conv: Callable[[Any], T], default: Any = None) -> Any:
        raw = self._get(path)
        if raw is _MISSING or raw == "":
            return default
        return self._convert(path, raw, conv)

    def enum(self, path: str, known: Iterable[str], *, required: bool = True, default: str | None = None) -> Any:
        value = self.req(path, _text) if required else self.opt(path, _text, default)
        if value is not None and value not in known:
            self.notes.append(DriftNote(self.entity, self.record_id or "", path, value, "unknown_enum"))
        return value


def parse_invoice(data: Any, notes: list[DriftNote]) -> InvoiceRecord:
    r = _Reader("Invoice", data, "InvoiceID", notes)
    return InvoiceRecord(
        invoice_id=r.object_id,
        invoice_number=r.opt("InvoiceNumber", _text),
        type=r.enum("Type", INVOICE_TYPES),
        status=r.enum("Status", INVOICE_STATUSES),
        contact_id=r.req("Contact.ContactID", _text),
        contact_name=r.opt("Contact.Name", _text),
        date=r.req("Date", parse_date),
        due_date=r.opt("DueDate", parse_date),
        currency_code=r.enum("CurrencyCode", KNOWN_CURRENCIES),
        sub_total=r.opt("SubTotal", _decimal, Decimal(0)),
        total_tax=r.opt("TotalTax", _decimal, Decimal(0)),
        total=r.req("Total", _decimal),
        amount_due=r.req("AmountDue", _decimal),
        amount_paid=r.opt("AmountPaid", _decimal, Decimal(0)),
        amount_credited=r.opt("AmountCredited", _decimal, Decimal(0)),
        updated_at=r.req("UpdatedDateUTC", parse_datetime),
        reference=r.opt("Reference", _text),
        fully_paid_on=r.opt("FullyPaidOnDate", parse_date),
    )


def parse_contact(data: Any, notes: list[DriftNote]) -> ContactRecord:
    r = _Reader("Contact", data, "ContactID", notes)
    return ContactRecord(
        contact_id=r.object_id,
        name=r.req("Name", _text),
        status=r.enum("ContactStatus", CONTACT_STATUSES, required=False, default="ACTIVE"),
        is_customer=r.opt("IsCustomer", _bool, False),
        is_supplier=r.opt("IsSupplier", _bool, False),
        email=r.opt("EmailAddress", _text),
        updated_at=r.req("UpdatedDateUTC", parse_datetime),
    )


def parse_payment(data: Any, notes: list[DriftNote]) -> PaymentRecord:
    r = _Reader("Payment", data, "PaymentID", notes)
    currency = r.opt("Invoice.CurrencyCode", _text) or r.opt("CreditNote.CurrencyCode", _text)
    return PaymentRecord(
        payment_id=r.object_id,
        invoice_id=r.opt("Invoice.InvoiceID", _text),
        date=r.req("Date", parse_date),
        amount=r.req("Amount", _decimal),
        currency_code=currency,
        status=r.enum("Status", PAYMENT_STATUSES),
        payment_type=r.opt("PaymentType", _text),
        reference=r.opt("Reference", _text),
        account_id=r.opt("Account.AccountID", _text),
        account_code=r.opt("Account.Code", _text),
        is_reconciled=r.opt("IsReconciled", _bool, False),
        updated_at=r.req("UpdatedDateUTC", parse_datetime),
        currency_rate=r.opt("CurrencyRate", _decimal),
    )


def _allocation(parent: _Reader, index: int, data: Any) -> AllocationRecord:
    where = f"Allocations[{index}]"
    if not isinstance(data, dict):
        raise MalformedXeroPayload(parent.entity, parent.record_id, where, "expected an object")
    sub = _Reader.__new__(_Reader)
    sub.entity, sub.data, sub.notes, sub.record_id = parent.entity, data, parent.notes, parent.record_id

    def named(path: str, conv: Callable[[Any], T]) -> T:
        try:
            return sub.req(path, conv)
        except MalformedXeroPayload as exc:
            raise MalformedXeroPayload(parent.entity, parent.record_id, f"{where}.{path}", str(exc)) from None

    return AllocationRecord(
        allocation_id=sub.opt("AllocationID", _text),
        invoice_id=named("Invoice.InvoiceID", _text),
        amount=named("Amount", _decimal),
        date=named("Date", parse_date),
    )


def parse_credit_note(data: Any, notes: list[DriftNote]) -> CreditNoteRecord:
    r = _Reader("CreditNote", data, "CreditNoteID", notes)
    allocations = r.opt("Allocations", _array, [])
    return CreditNoteRecord(
        credit_note_id=r.object_id,
        credit_note_number=r.opt("CreditNoteNumber", _text),
        type=r.enum("Type", CREDIT_NOTE_TYPES),
        status=r.enum("Status", CREDIT_NOTE_STATUSES),
        contact_id=r.req("Contact.ContactID", _text),
        date=r.req("Date", parse_date),
        currency_code=r.enum("CurrencyCode", KNOWN_CURRENCIES),
        total=r.req("Total", _decimal),
        remaining_credit=r.opt("RemainingCredit", _decimal, Decimal(0)),
        updated_at=r.req("UpdatedDateUTC", parse_datetime),
        allocations=tuple(_allocation(r, i, a) for i, a in enumerate(allocations)),
    )


def parse_account(data: Any, notes: list[DriftNote]) -> AccountRecord:
    r = _Reader("Account", data, "AccountID", notes)
    return AccountRecord(
        account_id=r.object_id,
        code=r.opt("Code", _text),
        name=r.req("Name", _text),
        type=r.req("Type", _text),
        status=r.enum("Status", ACCOUNT_STATUSES, required=False, default="ACTIVE"),
        enable_payments_to_account=r.opt("EnablePaymentsToAccount", _bool, False),
        bank_account_type=r.opt("BankAccountType", _text),
        currency_code=r.opt("CurrencyCode", _text),
    )


def parse_organisation(data: Any, notes: list[DriftNote]) -> OrganisationRecord:
    r = _Reader("Organisation", data, "OrganisationID", notes)
    return OrganisationRecord(
        organisation_id=r.object_id,
        name=r.req("Name", _text),
        base_currency=r.req("BaseCurrency", _text),
        created_at=r.opt("CreatedDateUTC", parse_datetime),
    )


def parse_bank_transaction_id(data: Any) -> str:
    r = _Reader("BankTransaction", data, "BankTransactionID", [])
    return r.object_id


PARSERS: dict[str, Callable[[Any, list[DriftNote]], Any]] = {
    "Invoices": parse_invoice,
    "Contacts": parse_contact,
    "Payments": parse_payment,
    "CreditNotes": parse_credit_note,
    "Accounts": parse_account,
    "Organisations": parse_organisation,
}


def parse_collection(key: str, payload: Any) -> tuple[list, list[DriftNote], dict | None]:
    """The records under `payload[key]`, drift notes, and the `pagination` block if any."""
    if not isinstance(payload, dict) or not isinstance(payload.get(key), list):
        raise MalformedXeroPayload(key.rstrip("s"), None, key, "response has no list under this key")
    notes: list[DriftNote] = []
    parser = PARSERS[key]
    records = [parser(item, notes) for item in payload[key]]
    pagination = payload.get("pagination") if isinstance(payload.get("pagination"), dict) else None
    return records, notes, pagination
