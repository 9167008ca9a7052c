"""Edge checks for the platform's events API (SPEC section 8): each turns one raw input (from Python,
the CLI or a JSON body) into a typed value, or raises `EventRefused` naming the field and why.

No database access here: `platform.events` checks what needs the store (partner, invoice,
balance) and records. Hostile input is never echoed in full: messages quote at most a short,
escaped prefix.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation

from xero_sync.core.money import exponent
from xero_sync.sync.currency_codes import is_iso4217

# Alternative's string ids (payments, payouts, partners, invoice numbers): ASCII letters, digits
# and `_ . : -`, starting with a letter or digit, at most 64 characters (the columns' width).
# No quotes, whitespace, control or non-ASCII characters: they end up in Xero references.
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
MAX_ID_LENGTH = 64
MAX_ROW_ID = 2**63 - 1  # integer ids (invoice_id, customer_id) fit a BigInteger
MAX_TEXT = 200  # names
MAX_EMAIL = 254
# The largest amount one event may carry, in major units: far above any real invoice, and well
# inside a BigInteger of minor units.
MAX_AMOUNT = Decimal("1000000000")
MAX_PAYOUT_PAYMENTS = 10_000
CURRENCY_PATTERN = re.compile(r"[A-Z]{3}")
EMAIL_PATTERN = re.compile(r"[^@\s\x00-\x1f\x7f]{1,64}@[A-Za-z0-9.-]{1,189}\.[A-Za-z]{2,24}")
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2099, 12, 31)
FAILED_STATUSES = ("failed", "refunded")


class EventRefused(ValueError):
    """An event refused at the edge; nothing was written. `field` names the input at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class EventConflict(EventRefused):
    """Refused because of what is already recorded, not because of the input's form: the same id
    (payment, payout, invoice number, idempotency key) with other details, or a payment another
    payout already took. The JSON endpoints answer 409; nothing was written."""


class UnknownPartner(EventRefused):
    """The partner does not exist (the JSON endpoints answer 404)."""

    def __init__(self, partner_id: str) -> None:
        super().__init__("partner_id", f"unknown partner {partner_id!r}")


def shown(value: object) -> str:
    """A short, escaped rendering of a refused value (never the whole of a hostile input)."""
    text = ascii(value)
    return text if len(text) <= 40 else text[:37] + "..."


def text_id(field: str, value: object) -> str:
    """An Alternative string id: see ID_PATTERN."""
    if not isinstance(value, str):
        raise EventRefused(field, f"must be a string id, got {type(value).__name__}")
    if not value:
        raise EventRefused(field, "must not be empty")
    if len(value) > MAX_ID_LENGTH:
        raise EventRefused(field, f"is {len(value)} characters long; at most {MAX_ID_LENGTH}")
    if not ID_PATTERN.fullmatch(value):
        raise EventRefused(field, f"{shown(value)} is not an id: use letters, digits and _ . : - "
                                  "(starting with a letter or digit)")
    return value


def row_id(field: str, value: object) -> int:
    """A platform row id (invoice_id, customer_id): a positive integer, or its decimal digits."""
    if isinstance(value, bool):
        raise EventRefused(field, "must be a positive integer id, got a boolean")
    if isinstance(value, str):
        if not value.isascii() or not value.isdigit() or len(value) > 19:
            raise EventRefused(field, f"{shown(value)} is not a positive integer id")
        value = int(value)
    if not isinstance(value, int):
        raise EventRefused(field, f"must be a positive integer id, got {type(value).__name__}")
    if not 0 < value <= MAX_ROW_ID:
        raise EventRefused(field, f"{value} is not a positive integer id")
    return value


def currency(field: str, value: object) -> str:
    if not isinstance(value, str) or not CURRENCY_PATTERN.fullmatch(value):
        raise EventRefused(field, f"{shown(value)} is not a currency code (three capital letters, e.g. USD)")
    if not is_iso4217(value):
        raise EventRefused(field, f"{value} is not an ISO 4217 currency code")
    return value


def amount_minor(field: str, value: object, currency_code: str, *, allow_zero: bool = False) -> int:
    """Major units (Decimal, a decimal string or an int) -> exact integer minor units.

    Floats are refused (a binary float is not an exact amount), as are NaN/Infinity, negative
    (or zero unless `allow_zero`) amounts and more decimals than the currency has.
    """
    if isinstance(value, bool) or isinstance(value, float):
        what = "NaN/Infinity" if isinstance(value, float) and not math.isfinite(value) else type(value).__name__
        raise EventRefused(field, f"must be an exact decimal amount (e.g. \"12.50\"), not a {what}")
    if isinstance(value, int):
        value = Decimal(value)
    elif isinstance(value, str):
        if len(value) > 32 or not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value):
            raise EventRefused(field, f"{shown(value)} is not a decimal amount like \"12.50\"")
        try:
            value = Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern above admits only decimals
            raise EventRefused(field, f"{shown(value)} is not a decimal amount") from None
    if not isinstance(value, Decimal):
        raise EventRefused(field, f"must be a decimal amount, got {type(value).__name__}")
    if not value.is_finite():
        raise EventRefused(field, "must be a finite amount, not NaN/Infinity")
    if value < 0 or (value == 0 and not allow_zero):
        raise EventRefused(field, f"must be {'>= 0' if allow_zero else 'positive'}, got {value}")
    if value > MAX_AMOUNT:
        raise EventRefused(field, f"{value} exceeds the largest accepted amount {MAX_AMOUNT}")
    places = exponent(currency_code)
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise EventRefused(field, f"{value} has more than {places} decimals, the most {currency_code} allows")
    return int(scaled)


def day(field: str, value: object) -> dt.date:
    """A date, or its ISO form YYYY-MM-DD, within 2000..2099."""
    if isinstance(value, dt.datetime):
        raise EventRefused(field, "must be a date, not a date and time")
    if isinstance(value, str):
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            raise EventRefused(field, f"{shown(value)} is not a date YYYY-MM-DD")
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            raise EventRefused(field, f"{shown(value)} is not a calendar date") from None
    if not isinstance(value, dt.date):
        raise EventRefused(field, f"must be a date YYYY-MM-DD, got {type(value).__name__}")
    if not EARLIEST <= value <= LATEST:
        raise EventRefused(field, f"{value} is outside {EARLIEST.year}..{LATEST.year}")
    return value


def name(field: str, value: object) -> str:
    """Free text for people (customer names): non-empty, bounded, no control characters."""
    if not isinstance(value, str):
        raise EventRefused(field, f"must be text, got {type(value).__name__}")
    text = value.strip()
    if not text:
        raise EventRefused(field, "must not be empty")
    if len(text) > MAX_TEXT:
        raise EventRefused(field, f"is {len(text)} characters long; at most {MAX_TEXT}")
    if any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 or ch in "\u2028\u2029" for ch in text):
        raise EventRefused(field, "must not contain control characters")
    return text


def email(field: str, value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_EMAIL or not EMAIL_PATTERN.fullmatch(value):
        raise EventRefused(field, f"{shown(value)} is not an email address")
    return value


def failure_status(field: str, value: object) -> str:
    if value not in FAILED_STATUSES:
        raise EventRefused(field, f"{shown(value)} must be one of {', '.join(FAILED_STATUSES)}")
    return str(value)


IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,128}")  # printable ASCII, no spaces


def idempotency_key(field: str, value: object) -> str:
    """An `Idempotency-Key`: 1-128 printable ASCII characters without spaces (a UUID fits)."""
    if not isinstance(value, str) or not IDEMPOTENCY_KEY.fullmatch(value):
        raise EventRefused(field, f"{shown(value)} is not an idempotency key: 1-128 printable "
                                  "ASCII characters without spaces, e.g. a UUID")
    return value


def id_list(field: str, values: object, *, allow_empty: bool = False) -> list[str]:
    """A list of distinct string ids (a payout's payments; non-empty unless `allow_empty`)."""
    if isinstance(values, str) or not isinstance(values, list | tuple):
        raise EventRefused(field, "must be a list of ids")
    if not values and not allow_empty:
        raise EventRefused(field, "must name at least one id")
    if len(values) > MAX_PAYOUT_PAYMENTS:
        raise EventRefused(field, f"names {len(values)} ids; at most {MAX_PAYOUT_PAYMENTS}")
    ids = [text_id(f"{field}[{n}]", v) for n, v in enumerate(values)]
    if len(set(ids)) != len(ids):
        raise EventRefused(field, "names the same id twice")
    return ids
