"""The initial sync's order: last 12 months first (one range), then history newest chunk first."""

from __future__ import annotations

import datetime as dt

import pytest

from xero_sync.sync.month_slices import add_months, months_in
from xero_sync.sync.onboarding import (
    HISTORY_PRIORITY,
    RECENT_PRIORITY,
    OnboardingState,
    history_chunk_months,
    next_step,
)

TODAY = dt.date(2026, 11, 15)
OLDEST = dt.date(2012, 1, 1)


def state(first_month=None, done=(), in_flight=False, parked=False) -> OnboardingState:
    return OnboardingState(TODAY, first_month, OLDEST, frozenset(done), in_flight, parked)


def test_first_request_is_the_last_12_months_as_one_range_at_high_priority():
    step = next_step(state())
    assert step.request.phase == "recent"
    assert step.request.months == tuple(months_in(dt.date(2025, 12, 1), dt.date(2026, 12, 1)))
    assert step.request.priority == RECENT_PRIORITY
    assert not step.complete


def test_after_recent_months_history_comes_newest_chunk_first_at_low_priority():
    recent = months_in(dt.date(2025, 12, 1), dt.date(2026, 12, 1))
    step = next_step(state(dt.date(2023, 11, 1), recent))
    assert step.request.phase == "history"
    assert step.request.months == tuple(months_in(dt.date(2024, 12, 1), dt.date(2025, 12, 1)))
    assert step.request.priority == HISTORY_PRIORITY < RECENT_PRIORITY
    older = next_step(state(dt.date(2023, 11, 1), recent + list(step.request.months)))
    assert older.request.months == tuple(months_in(dt.date(2023, 12, 1), dt.date(2024, 12, 1)))
    oldest = next_step(state(dt.date(2023, 11, 1), recent + months_in(dt.date(2023, 12, 1), dt.date(2025, 12, 1))))
    assert oldest.request.months == (dt.date(2023, 11, 1),)


def test_complete_when_every_planned_month_succeeded_and_progress_counts_months():
    all_months = months_in(dt.date(2023, 11, 1), dt.date(2026, 12, 1))
    step = next_step(state(dt.date(2023, 11, 1), all_months))
    assert step.complete and step.request is None
    assert (step.months_done, step.months_total) == (37, 37)
    partial = next_step(state(dt.date(2023, 11, 1), all_months[-12:]))
    assert (partial.months_done, partial.months_total) == (12, 37)


def test_a_failed_month_inside_a_chunk_is_retried_as_the_smallest_covering_range():
    recent = months_in(dt.date(2025, 12, 1), dt.date(2026, 12, 1))
    done = [m for m in recent if m != dt.date(2026, 3, 1)]
    step = next_step(state(dt.date(2020, 1, 1), done))
    assert step.request.phase == "recent" and step.request.months == (dt.date(2026, 3, 1),)


@pytest.mark.parametrize("flag", ["in_flight", "parked"])
def test_nothing_is_requested_while_a_run_is_in_flight_or_the_partner_is_parked(flag):
    step = next_step(state(**{flag: True}))
    assert step.request is None and not step.complete


def test_young_organisation_has_no_history_and_history_before_partitions_is_clamped():
    young = next_step(state(dt.date(2026, 9, 1), months_in(dt.date(2026, 9, 1), dt.date(2026, 12, 1))))
    assert young.complete and young.months_total == 3
    ancient = next_step(state(dt.date(1999, 5, 1), months_in(OLDEST, dt.date(2026, 12, 1))))
    assert ancient.complete and ancient.months_total == len(months_in(OLDEST, dt.date(2026, 12, 1)))
    assert add_months(OLDEST, ancient.months_total) == dt.date(2026, 12, 1)


@pytest.mark.parametrize(
    ("recent_records", "months"),
    # Chunks follow the volume: ~100,000 records of the busiest entity each, 12 months at least.
    [(0, 240), (30, 240), (4_000, 240), (16_000, 75), (100_000, 12), (1_000_000, 12)],
)
def test_history_chunks_grow_for_quiet_organisations(recent_records, months):
    assert history_chunk_months(recent_records) == months


def test_fifty_thousand_invoices_over_ten_years_read_their_history_as_one_chunk():
    """At 5,000 invoices a year, 9 years of history is ~45,000 invoices: one chunk, so one partly
    filled page per entity for the whole history instead of one per year."""
    first = dt.date(2016, 12, 1)
    recent = months_in(dt.date(2025, 12, 1), dt.date(2026, 12, 1))
    step = next_step(state(first, recent), history_chunk_months(5_000))
    assert step.request.months == tuple(months_in(first, dt.date(2025, 12, 1)))


def test_a_quiet_ten_year_organisation_needs_two_runs():
    first = dt.date(2016, 12, 1)
    recent = months_in(dt.date(2025, 12, 1), dt.date(2026, 12, 1))
    step = next_step(state(first, recent), history_chunk_months(30))
    assert step.request.months == tuple(months_in(first, dt.date(2025, 12, 1)))


def test_plan_size_counts_every_month_from_the_first_to_the_current():
    from xero_sync.sync.onboarding import plan_size

    assert plan_size(TODAY, dt.date(2023, 12, 1), OLDEST) == 36
    assert plan_size(TODAY, dt.date(2026, 9, 1), OLDEST) == 3
