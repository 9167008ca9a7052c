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
_encode_str = json.encoder.encode_basestring  # type: ignore[attr-defined]


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
    if match:
        return dt.datetime.fromtimestamp(int(match.group(1)) / 1000, tz=dt.timezone.utc).date()
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError as exc:
        raise BodyError(f"{field} is not a valid date: {value!r}") from exc


def parse_decimal(value: Any, field: str) -> Decimal:
    """A number from a body (int, Decimal or numeric string); floats are refused upstream."""
    if isinstance(value, bool) or value is None:
        raise BodyError(f"{field} must be a number, got {value!r}")
    try:
        return Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation as exc:
        raise BodyError(f"{field} must be a number, got {value!r}") from exc
