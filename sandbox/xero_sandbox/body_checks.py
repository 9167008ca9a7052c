"""Type checks of write bodies against Xero's request schemas, before anything is stored.

Xero deserialises each submitted element into its model first: a value of the wrong JSON type,
an unknown enum value, a non-finite or out-of-range number or an impossible date never reaches
its rules, and the element comes back with ValidationErrors. `read_element` does the same here
with the field types in `request_schema.py` (generated from the vendored spec), returning the
element *as the model holds it*: known fields only, enums in Xero's spelling, numbers as Decimal.
That model is what the rules act on and what an error echo returns (never the raw element).
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from xero_sandbox import xero_json as xj
from xero_sandbox.request_schema import SCHEMAS

# Beyond any amount Xero takes; keeps Quantity x UnitAmount (and cents) inside Decimal's
# 28-digit context, so no later arithmetic can overflow.
MAX_NUMBER = Decimal("1e12")
MAX_INT = 2**31 - 1
# The schema of each list key's elements.
ENTITY_OF = {"Contacts": "Contact", "Invoices": "Invoice", "Payments": "Payment",
             "CreditNotes": "CreditNote", "Allocations": "Allocation",
             "BankTransactions": "BankTransaction", "BankTransfers": "BankTransfer",
             "ManualJournals": "ManualJournal"}
_BAD = object()


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, Decimal)):
        number = Decimal(value)
    elif isinstance(value, str):  # Xero's deserialiser reads "12.50" as a number too
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    return number if number.is_finite() else None


def _value(desc: tuple, value: Any, path: str, errors: list[str]) -> Any:
    """The model's value for `value` under `desc`, or _BAD (with a message in `errors`)."""
    if value is None:
        return None
    kind = desc[0]
    if kind in ("str", "uuid", "datetime"):
        if not isinstance(value, str):
            errors.append(f"{path} must be a string, got {_show(value)}")
            return _BAD
        limit = desc[1] if kind == "str" else None
        if limit is not None and len(value) > limit:
            errors.append(f"{path} must be at most {limit} characters long")
            return _BAD
        if kind == "uuid" and value:
            try:
                uuid.UUID(value)
            except ValueError:
                errors.append(f"{path} must be a GUID, got {_show(value)}")
                return _BAD
        return value
    if kind == "num":
        number = _number(value)
        if number is None:
            errors.append(f"{path} must be a finite number, got {_show(value)}")
            return _BAD
        if abs(number) >= MAX_NUMBER:
            errors.append(f"{path} is too large (must be below {MAX_NUMBER:f})")
            return _BAD
        return number
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_INT:
            errors.append(f"{path} must be a whole number, got {_show(value)}")
            return _BAD
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            errors.append(f"{path} must be true or false, got {_show(value)}")
            return _BAD
        return value
    if kind == "date":
        try:
            xj.parse_date(value, path)
        except xj.BodyError as exc:
            errors.append(str(exc))
            return _BAD
        return value
    if kind == "enum":
        if isinstance(value, str):
            for known in desc[1]:
                if known.lower() == value.lower():
                    return known
        errors.append(f"{path} must be one of {', '.join(v for v in desc[1] if v) or 'the known values'}, "
                      f"got {_show(value)}")
        return _BAD
    if kind == "obj":
        if not isinstance(value, dict):
            errors.append(f"{path} must be an object, got {_show(value)}")
            return _BAD
        return _object(desc[1], value, path, errors)
    if kind == "arr":
        if not isinstance(value, list):
            errors.append(f"{path} must be an array, got {_show(value)}")
            return _BAD
        items = [_value(desc[1], item, f"{path}[{i}]", errors) for i, item in enumerate(value)]
        return [item for item in items if item is not _BAD]
    return value  # "any"


def _object(schema: str, data: dict, path: str, errors: list[str]) -> dict:
    fields = SCHEMAS[schema]
    model: dict[str, Any] = {}
    for key, raw in data.items():
        desc = fields.get(key)
        if desc is None:
            continue  # Xero ignores fields its model does not have
        value = _value(desc, raw, f"{path}.{key}" if path else key, errors)
        if value is not _BAD:
            model[key] = value
    return model


def read_element(list_key: str, element: dict) -> tuple[dict, list[str]]:
    """(the element as Xero's model holds it, the validation messages; empty when it is fine)."""
    errors: list[str] = []
    model = _object(ENTITY_OF[list_key], element, "", errors)
    return model, errors
