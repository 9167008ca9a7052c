"""Money in the base currency at the rate Xero booked it at (pure, Decimal)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from xero_sync.sync.currency import to_base_minor


@pytest.mark.parametrize("amount,currency,rate,base,expected", [
    (20_000, "USD", "0.73", "CAD", 27_397),          # 200.00 USD / 0.73 = 273.972... CAD
    (20_000, "USD", Decimal("0.7300000000"), "CAD", 27_397),
    (12_345, "CAD", None, "CAD", 12_345),             # the base currency needs no rate
    (1_000, "JPY", "110", "USD", 909),                # 1000 JPY / 110 = 9.0909 USD
    (5_000, "USD", "0.0065", "JPY", 7_692),           # 50.00 USD / 0.0065 = 7692.3 JPY (no decimals)
    (1_000, "USD", "2", "CAD", 500),
    (20_000, "USD", None, "CAD", None),               # no rate: unknown, never guessed
    (20_000, "USD", "0", "CAD", None),
    (20_000, "USD", "NaN", "CAD", None),
    (20_000, "USD", "abc", "CAD", None),
])
def test_to_base_minor(amount, currency, rate, base, expected):
    assert to_base_minor(amount, currency, rate, base) == expected
