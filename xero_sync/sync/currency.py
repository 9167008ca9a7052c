"""Money in the organisation's base currency (pure, Decimal, no floats).

Xero books a payment in a foreign currency at its `CurrencyRate`: units of the foreign currency per
unit of the base currency, so the payment is worth amount / rate in the base currency (rounded
half up to the base currency's minor unit, as a ledger posting is). The direction
of CurrencyRate is assumed as the sandbox books it (UNVERIFIED against a live organisation).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from xero_sync.core.money import exponent, from_minor, to_minor


def to_base_minor(amount_minor: int, currency: str, rate: str | Decimal | None, base: str) -> int | None:
    """`amount_minor` of `currency` in minor units of `base`; None when no usable rate is known."""
    if currency == base:
        return int(amount_minor)
    try:
        rate = Decimal(rate) if rate is not None else None
    except (InvalidOperation, ValueError):
        return None
    if rate is None or not rate.is_finite() or rate <= 0:
        return None
    major = (from_minor(int(amount_minor), currency) / rate).quantize(
        Decimal(1).scaleb(-exponent(base)), rounding=ROUND_HALF_UP)
    return to_minor(major, base)
