"""ISO 4217 currency codes: the `iso4217` package carries the list SIX publishes (the maintenance
agency), so a code like "QQQ" is refused instead of being booked against an invoice."""

from __future__ import annotations

import functools

import iso4217


@functools.cache
def _codes() -> frozenset[str]:
    return frozenset(currency.code for currency in iso4217.Currency)


def is_iso4217(code: str) -> bool:
    """True for a current ISO 4217 alphabetic code (USD, EUR, NZD, ...), exactly as written."""
    return code in _codes()
