"""Calendar months as sync units: the partner x month partitions of onboarding and re-reads.

A month is represented by its first day (`date(2025, 3, 1)`). SPEC section 3, item 2: the last
12 full and current months sync first, newest first; then all older history back to the
organisation's first transaction, in chunks, newest chunk first.

"Today" is always the UTC date (`utc_today`), as Dagster's month partitions and Xero's
UpdatedDateUTC are: a machine's local date would move the current month at local midnight.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import TypeVar

T = TypeVar("T")

RECENT_MONTHS = 12  # current month + the 11 before it (SPEC section 3, item 2)
# The oldest month partition; an organisation's older history lands in it (partitions.py).
HISTORY_START = date(2012, 1, 1)


def utc_today() -> date:
    """Today's date in UTC: the one "today" of the pulls, plans and partitions."""
    return datetime.now(timezone.utc).date()


def month_start(d: date) -> date:
    """First day of the month holding `d` (a datetime is accepted and becomes a date)."""
    return date(d.year, d.month, 1)


def month_key(month: date) -> str:
    """A month's partition key: its first day, `2026-10-01`."""
    return month.strftime("%Y-%m-%d")


def partition_months(today: date) -> list[date]:
    """Every month partition, ascending: HISTORY_START through the month holding `today` (the
    months Dagster's `partitions.months` has on that day)."""
    return months_in(HISTORY_START, add_months(month_start(today), 1))


def add_months(month: date, n: int) -> date:
    """Start of the month `n` months after (negative: before) the month holding `month`."""
    index = month.year * 12 + (month.month - 1) + n
    return date(index // 12, index % 12 + 1, 1)


def months_in(start: date, end_exclusive: date) -> list[date]:
    """Month starts m, ascending, from the month holding `start` while m < `end_exclusive`."""
    months: list[date] = []
    m = month_start(start)
    while m < end_exclusive:
        months.append(m)
        m = add_months(m, 1)
    return months


def recent_months(today: date, n: int = RECENT_MONTHS) -> list[date]:
    """The current month and the previous n-1, newest first."""
    if n < 1:
        raise ValueError(f"recent_months: n must be at least 1, got {n}")
    current = month_start(today)
    return [add_months(current, -i) for i in range(n)]


def history_chunks(first_month: date, before: date, size: int = 12) -> list[list[date]]:
    """Months from `first_month` up to (excluding) the month `before`, in chunks of `size`.

    Newest chunk first, each chunk ascending. Chunks are aligned on `before` (the newest chunk is
    the `size` months right before it), so only the oldest chunk can be short.
    """
    if size < 1:
        raise ValueError(f"history_chunks: size must be at least 1, got {size}")
    months = months_in(first_month, month_start(before))
    chunks: list[list[date]] = []
    end = len(months)
    while end > 0:
        chunks.append(months[max(0, end - size):end])
        end -= size
    return chunks


def window_of(months: Iterable[date]) -> tuple[date, date]:
    """(start, end_exclusive) of a contiguous run of month starts, given in any order.

    Raises ValueError on an empty run, a date that is not a month start, duplicates or gaps:
    a window with a hole would silently re-read or skip a month.
    """
    ordered = sorted(months)
    if not ordered:
        raise ValueError("window_of: no months given")
    for m in ordered:
        if m != month_start(m):
            raise ValueError(f"window_of: {m} is not the first day of a month")
    for prev, nxt in zip(ordered, ordered[1:]):
        if nxt != add_months(prev, 1):
            what = "duplicate month" if nxt == prev else f"gap between {prev} and {nxt}"
            raise ValueError(f"window_of: months are not contiguous ({what})")
    return ordered[0], add_months(ordered[-1], 1)


def split_by_month(
    records: Iterable[T], date_of: Callable[[T], date], months: Sequence[date] | None = None
) -> dict[date, list[T]]:
    """Group records by the month of `date_of(record)`, months ascending, record order kept.

    With `months`, every one of them is a key (empty list when it has no records). A record
    outside `months` is kept under its own month, never dropped: the caller decides what an
    out-of-window record means.
    """
    groups: dict[date, list[T]] = {month_start(m): [] for m in months or ()}
    for record in records:
        groups.setdefault(month_start(date_of(record)), []).append(record)
    return dict(sorted(groups.items()))


def slice_into_months(
    records: Iterable[T], date_of: Callable[[T], date], months: Sequence[date]
) -> dict[date, list[T]]:
    """Group a run's records into its months (ascending, every month a key), for per-partition
    figures. A record dated before the first month or after the last belongs to that end month:
    the run's window is open at the start for the organisation's first month and at the end for
    the current month, and those partitions hold such records."""
    first, last = month_start(min(months)), month_start(max(months))
    groups: dict[date, list[T]] = {month_start(m): [] for m in sorted(months)}
    for record in records:
        month = min(max(month_start(date_of(record)), first), last)
        groups.setdefault(month, []).append(record)
    return groups


@dataclass(frozen=True, slots=True)
class OnboardingPlan:
    """Month partitions of an initial sync, in the order they run."""

    recent: list[date]  # newest first; materialized first
    history: list[list[date]] = field(default_factory=list)  # newest chunk first, lower priority


def onboarding_plan(today: date, first_month: date | None, chunk: int = 12) -> OnboardingPlan:
    """Recent months (trimmed to the organisation's age) first, then older history in chunks.

    `first_month` is the month of the organisation's first transaction; None for an empty
    organisation, which only needs the current month.
    """
    current = month_start(today)
    if first_month is None:
        return OnboardingPlan(recent=[current], history=[])
    first = month_start(first_month)
    # Months before the organisation's first transaction hold nothing: don't count or read them.
    recent = [m for m in recent_months(today) if m >= first] or [current]
    return OnboardingPlan(recent=recent, history=history_chunks(first, recent[-1], chunk))


def months_total(plan: OnboardingPlan) -> int:
    """How many month partitions the plan holds (the "total" of the progress shown)."""
    return len(plan.recent) + sum(len(c) for c in plan.history)
