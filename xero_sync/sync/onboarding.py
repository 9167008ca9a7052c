"""What the initial sync of a partner should do next: pure, so the sensor stays thin.

The order is the product's promise (SPEC section 3, item 2): the last 12 months first, newest first,
as one range run (one `where` per entity instead of one call per month); then older history in
chunks, newest chunk first, one chunk at a time at lower priority, so a large organisation that
hits Xero's daily limit resumes with the chunk it stopped in. Dagster's own backfills sort oldest
first, so the sensor issues these range runs itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from xero_sync.sync.month_slices import add_months, history_chunks, month_start, recent_months

RECENT_PRIORITY = 10
HISTORY_PRIORITY = -10
DEFAULT_CHUNK_MONTHS = 12
# Longer than any history the partitions hold (they start in 2012): one chunk for all of it.
MAX_CHUNK_MONTHS = 240
PAGE_SIZE = 1000
# Records of the busiest entity per history chunk. Every chunk ends on a partly filled page per
# entity (4 calls), so a chunk must hold many pages for those to stay a small share: at 100,000,
# at most 4 extra calls per 100 pages (calls / floor <= 1.04 from history chunks). It also bounds
# what a daily-limit park costs (the chunk is re-read) to ~100 pages per entity, 2 % of a day.
CHUNK_RECORDS = 100_000


def history_chunk_months(recent_records: int, recent_months: int = 12) -> int:
    """Months per history chunk, following the organisation's volume: about CHUNK_RECORDS of
    its busiest entity at the rate of its last 12 months, never fewer than 12 months.

    Calendar-sized chunks cost one partly filled page per entity per chunk: 50,000 invoices
    over 10 years in yearly chunks made 127 calls for a floor of 100. Sized by records, most
    organisations read their whole history as one chunk, and only very busy ones (more than
    100,000 records a year) split it, into chunks of many full pages.
    """
    per_month = max(recent_records, 1) / recent_months
    return max(DEFAULT_CHUNK_MONTHS, min(MAX_CHUNK_MONTHS, int(CHUNK_RECORDS // per_month)))


@dataclass(frozen=True, slots=True)
class OnboardingState:
    today: dt.date
    # Month of the organisation's first transaction, clamped to the oldest partition; None until
    # the recent-months run has asked Xero.
    first_month: dt.date | None
    oldest_partition: dt.date
    materialized: frozenset[dt.date]  # months whose partition has succeeded
    in_flight: bool  # an onboarding run for this partner is queued or running
    parked: bool  # daily limit reached: no request until the window reopens


@dataclass(frozen=True, slots=True)
class RangeRequest:
    phase: str  # "recent" | "history"
    months: tuple[dt.date, ...]  # contiguous, ascending
    priority: int

    @property
    def key(self) -> str:
        return f"{self.phase}:{self.months[0]:%Y-%m}:{self.months[-1]:%Y-%m}"


@dataclass(frozen=True, slots=True)
class OnboardingStep:
    request: RangeRequest | None
    months_done: int
    months_total: int
    complete: bool


def planned_months(state: OnboardingState, chunk: int = DEFAULT_CHUNK_MONTHS) -> tuple[list[dt.date], list[list[dt.date]]]:
    """(recent months newest first, history chunks newest first) for this state."""
    recent = [m for m in recent_months(state.today, 12) if m >= state.oldest_partition]
    if state.first_month is None:
        return recent, []
    first = max(month_start(state.first_month), state.oldest_partition)
    recent = [m for m in recent if m >= first] or [month_start(state.today)]
    return recent, history_chunks(first, min(recent), chunk)


def plan_size(today: dt.date, first_month: dt.date, oldest_partition: dt.date) -> int:
    """How many month partitions the initial sync covers, from the first month to today's."""
    state = OnboardingState(today, first_month, oldest_partition, frozenset(), False, False)
    recent, history = planned_months(state)
    return len(recent) + sum(len(chunk) for chunk in history)


def _missing_span(months: list[dt.date], done: frozenset[dt.date]) -> tuple[dt.date, ...]:
    """The smallest contiguous run of months covering every month not yet done."""
    missing = sorted(m for m in months if m not in done)
    if not missing:
        return ()
    span, m = [], missing[0]
    while m <= missing[-1]:
        span.append(m)
        m = add_months(m, 1)
    return tuple(span)


def next_step(state: OnboardingState, chunk: int = DEFAULT_CHUNK_MONTHS) -> OnboardingStep:
    recent, history = planned_months(state, chunk)
    all_months = set(recent).union(*map(set, history)) if history else set(recent)
    done = sum(1 for m in all_months if m in state.materialized)
    total = len(all_months)
    known = state.first_month is not None
    complete = known and done == total

    request = None
    if not (complete or state.in_flight or state.parked):
        span = _missing_span(recent, state.materialized)
        if span or not known:
            # Recent months first (and again if the first run could not learn the first month).
            request = RangeRequest("recent", span or tuple(sorted(recent)), RECENT_PRIORITY)
        else:
            for months in history:  # newest chunk first
                span = _missing_span(months, state.materialized)
                if span:
                    request = RangeRequest("history", span, HISTORY_PRIORITY)
                    break
    return OnboardingStep(request=request, months_done=done, months_total=total, complete=complete)
