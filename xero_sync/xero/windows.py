"""Read windows: a half-open date range (`where` filter) and an If-Modified-Since watermark."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class DateWindow:
    """Records with `start <= field < end` (end exclusive), e.g. one month slice."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"DateWindow end {self.end} must be after start {self.start}")

    def where(self, field: str = "Date") -> str:
        """Xero `where` clause; contacts pass field="UpdatedDateUTC" (they have no Date)."""
        s, e = self.start, self.end
        return (
            f"{field}>=DateTime({s.year},{s.month:02d},{s.day:02d})"
            f"&&{field}<DateTime({e.year},{e.month:02d},{e.day:02d})"
        )

    @classmethod
    def month(cls, year: int, month: int) -> "DateWindow":
        start = dt.date(year, month, 1)
        end = dt.date(year + (month == 12), month % 12 + 1, 1)
        return cls(start, end)


@dataclass(frozen=True)
class ModifiedSince:
    """Aware UTC watermark sent as If-Modified-Since (Xero compares it with UpdatedDateUTC)."""

    since: dt.datetime

    def __post_init__(self) -> None:
        if self.since.tzinfo is None:
            raise ValueError("ModifiedSince needs an aware datetime (UTC)")

    def header_value(self) -> dt.datetime:
        # Second precision in UTC: Xero is "accurate to the second".
        return self.since.astimezone(dt.timezone.utc).replace(microsecond=0)
