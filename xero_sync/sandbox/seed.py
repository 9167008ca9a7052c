"""Deterministic organisations from a seed number (work in progress)."""

from __future__ import annotations

import datetime as dt

from xero_sync.sandbox.clock import Clock
from xero_sync.sandbox.org import OnChange, Organisation


def seed_organisations(*, seed: int, invoices: int, months: int, tenants: int = 1,
                       currency: str = "USD", clock: Clock, on_change: OnChange | None = None,
                       end: dt.date | None = None) -> list[Organisation]:
    raise NotImplementedError
