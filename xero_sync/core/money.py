"""Exact money: Xero sends decimal amounts, the platform stores integer minor units.

Alternative serves USD and CAD partners; both have two decimal places. Amounts that do not fit
exactly are refused rather than rounded, because a rounded amount is a silent difference.
"""

from __future__ import annotations

from decimal import Decimal

# ISO 4217 exponents for the currencies we expect; anything else defaults to 2 (Xero's own
# amounts are at most 2 dp on totals) and is reported by the parser as drift, not rejected.
_EXPONENTS = {"JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3, "OMR": 3}


class InexactAmountError(ValueError):
    """An amount has more decimal places than its currency allows."""


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def to_minor(amount: Decimal, currency: str = "USD") -> int:
    """Decimal major units -> integer minor units, exactly (raises on sub-minor remainders)."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be Decimal, got {type(amount).__name__}")
    scaled = amount.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise InexactAmountError(f"{amount} {currency} is not a whole number of minor units")
    return int(scaled)


def from_minor(minor: int, currency: str = "USD") -> Decimal:
    """Integer minor units -> Decimal major units with the currency's exponent."""
    return Decimal(minor).scaleb(-exponent(currency))
