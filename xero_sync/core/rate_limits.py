"""The app-wide Xero call budget's protocol: what a shared counter answers (`xero.rate_budget`
paces calls with it; `store.rate_windows` implements it in the platform store)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SharedRefusal:
    """A call the shared budget did not take: which window is full, and when it has room."""

    scope: str  # "app_minute" | "tenant_minute" | "tenant_day"
    retry_after: float  # seconds

    @property
    def is_daily(self) -> bool:
        return self.scope == "tenant_day"


class SharedBudget(Protocol):
    """Call counters shared by every process of the app (e.g. rows in the platform store)."""

    def take(self, tenant_id: str, now: float) -> SharedRefusal | None:
        """Count one call of `tenant_id` at `now` if every window has room (None); otherwise
        count nothing and say which window is full."""
        ...
