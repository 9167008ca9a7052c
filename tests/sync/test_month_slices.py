from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from xero_sync.sync.month_slices import (
    OnboardingPlan,
    add_months,
    history_chunks,
    month_start,
    months_in,
    months_total,
    onboarding_plan,
    recent_months,
    slice_into_months,
    split_by_month,
    window_of,
)


def d(y: int, m: int, day: int = 1) -> date:
    return date(y, m, day)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(d(2025, 3, 31), d(2025, 3)), (d(2024, 2, 29), d(2024, 2)), (d(2025, 1, 1), d(2025, 1)),
     (datetime(2024, 12, 31, 23, 59, tzinfo=UTC), d(2024, 12))],
)
def test_month_start(value, expected):
    assert month_start(value) == expected
    assert type(month_start(value)) is date


@pytest.mark.parametrize(
    ("month", "n", "expected"),
    [(d(2025, 1), -1, d(2024, 12)), (d(2024, 12), 1, d(2025, 1)), (d(2025, 3), -14, d(2024, 1)),
     (d(2024, 2, 29), 12, d(2025, 2)), (d(2024, 1, 31), 1, d(2024, 2)), (d(2025, 6), 0, d(2025, 6)),
     (d(2023, 11), 27, d(2026, 2))],
)
def test_add_months(month, n, expected):
    assert add_months(month, n) == expected


def test_months_in_across_year_boundary():
    assert months_in(d(2024, 11, 15), d(2025, 2)) == [d(2024, 11), d(2024, 12), d(2025, 1)]


def test_months_in_empty_when_end_not_after_start():
    assert months_in(d(2025, 2), d(2025, 2)) == []
    assert months_in(d(2025, 3), d(2025, 1)) == []


def test_recent_months_newest_first_across_year():
    months = recent_months(d(2025, 2, 28))
    assert len(months) == 12
    assert months[0] == d(2025, 2) and months[1] == d(2025, 1) and months[2] == d(2024, 12)
    assert months[-1] == d(2024, 3)
    assert months == sorted(months, reverse=True)


def test_recent_months_leap_day_and_n():
    assert recent_months(d(2024, 2, 29), 3) == [d(2024, 2), d(2024, 1), d(2023, 12)]
    with pytest.raises(ValueError, match="at least 1"):
        recent_months(d(2024, 2, 29), 0)


def test_history_chunks_aligned_on_before():
    chunks = history_chunks(d(2022, 2, 10), d(2024, 4), size=12)
    assert [(c[0], c[-1], len(c)) for c in chunks] == [
        (d(2023, 4), d(2024, 3), 12),
        (d(2022, 4), d(2023, 3), 12),
        (d(2022, 2), d(2022, 3), 2),
    ]
    for c in chunks:
        assert c == sorted(c)
    flat = [m for c in reversed(chunks) for m in c]
    assert flat == months_in(d(2022, 2), d(2024, 4))  # every month once, no gaps


def test_history_chunks_exact_multiple_and_small_size():
    assert len(history_chunks(d(2023, 1), d(2025, 1), 12)) == 2
    assert history_chunks(d(2024, 11), d(2025, 2), size=2) == [[d(2024, 12), d(2025, 1)],
                                                               [d(2024, 11)]]


def test_history_chunks_empty_when_first_month_not_before():
    assert history_chunks(d(2025, 1), d(2025, 1)) == []
    assert history_chunks(d(2025, 5), d(2025, 1)) == []
    with pytest.raises(ValueError, match="size"):
        history_chunks(d(2020, 1), d(2025, 1), size=0)


def test_window_of_contiguous_any_order():
    assert window_of(recent_months(d(2025, 1, 5), 3)) == (d(2024, 11), d(2025, 2))
    assert window_of([d(2024, 2)]) == (d(2024, 2), d(2024, 3))


@pytest.mark.parametrize(
    ("months", "message"),
    [([], "no months"), ([d(2024, 1), d(2024, 3)], "gap"), ([d(2024, 1), d(2024, 1)], "duplicate"),
     ([d(2024, 1, 15)], "not the first day")],
)
def test_window_of_refuses_bad_runs(months, message):
    with pytest.raises(ValueError, match=message):
        window_of(months)


def test_split_by_month_groups_and_keeps_order():
    recs = [("a", d(2024, 12, 31)), ("b", d(2025, 1, 1)), ("c", d(2024, 12, 1))]
    out = split_by_month(recs, lambda r: r[1])
    assert list(out) == [d(2024, 12), d(2025, 1)]
    assert [r[0] for r in out[d(2024, 12)]] == ["a", "c"]
    assert [r[0] for r in out[d(2025, 1)]] == ["b"]


def test_split_by_month_window_has_empty_months_and_keeps_outsiders():
    recs = [("leap", datetime(2024, 2, 29, 10, tzinfo=UTC)), ("late", d(2024, 6, 2))]
    out = split_by_month(recs, lambda r: r[1], months=months_in(d(2024, 1), d(2024, 4)))
    assert out == {d(2024, 1): [], d(2024, 2): [recs[0]], d(2024, 3): [], d(2024, 6): [recs[1]]}


def test_onboarding_plan_long_history():
    plan = onboarding_plan(d(2025, 3, 15), d(2022, 2, 10))
    assert plan.recent == recent_months(d(2025, 3, 15))
    assert plan.history[0][-1] == d(2024, 3)  # right before the oldest recent month
    assert plan.history[-1][0] == d(2022, 2)
    assert months_total(plan) == len(months_in(d(2022, 2), d(2025, 4))) == 38


def test_onboarding_plan_first_month_inside_recent_window():
    plan = onboarding_plan(d(2025, 1, 20), d(2024, 11, 3))
    assert plan == OnboardingPlan(recent=[d(2025, 1), d(2024, 12), d(2024, 11)], history=[])
    assert months_total(plan) == 3


def test_onboarding_plan_first_month_exactly_twelve_back():
    plan = onboarding_plan(d(2025, 1, 20), d(2024, 2, 29))
    assert plan.recent[-1] == d(2024, 2) and plan.history == []
    assert months_total(plan) == 12


def test_onboarding_plan_first_month_thirteen_back():
    plan = onboarding_plan(d(2025, 1, 20), d(2024, 1, 31))
    assert plan.history == [[d(2024, 1)]]
    assert months_total(plan) == 13


@pytest.mark.parametrize("first_month", [None, d(2025, 7, 1)])
def test_onboarding_plan_empty_or_future_org_is_current_month(first_month):
    plan = onboarding_plan(d(2025, 3, 31), first_month)
    assert plan == OnboardingPlan(recent=[d(2025, 3)], history=[])
    assert months_total(plan) == 1


def test_onboarding_plan_chunk_size():
    plan = onboarding_plan(d(2025, 12, 1), d(2024, 1, 1), chunk=5)
    assert plan.recent[-1] == d(2025, 1)
    assert plan.history == [
        [d(2024, 8), d(2024, 9), d(2024, 10), d(2024, 11), d(2024, 12)],
        [d(2024, 3), d(2024, 4), d(2024, 5), d(2024, 6), d(2024, 7)],
        [d(2024, 1), d(2024, 2)],
    ]


def test_slice_into_months_puts_records_outside_the_run_in_its_end_months():
    months = months_in(d(2024, 1), d(2024, 4))
    recs = [("early", d(2019, 5)), ("jan", d(2024, 1)), ("mar", d(2024, 3)), ("ahead", d(2024, 9))]
    out = slice_into_months(recs, lambda r: r[1], months)
    assert list(out) == months
    assert [[r[0] for r in v] for v in out.values()] == [["early", "jan"], [], ["mar", "ahead"]]


def test_today_is_the_utc_date_whatever_the_machine_timezone() -> None:
    """At 23:30 UTC on a machine 14 hours ahead, the local date is already tomorrow: the
    current month must still be UTC's (Dagster's partitions and Xero's dates are UTC)."""
    import os
    import subprocess
    import sys

    code = ("import datetime as dt, time; from xero_sync.sync.month_slices import utc_today; "
            "print(utc_today() == dt.datetime.now(dt.timezone.utc).date(), time.localtime().tm_gmtoff)")
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "TZ": "Pacific/Kiritimati"},
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", str(14 * 3600)]


def test_no_product_code_asks_for_the_local_date() -> None:
    """One "today": `date.today()` / naive `datetime.now()` would be the machine's local date."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "xero_sync"
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            owner = ast.unparse(node.func.value)
            if owner not in {"dt.date", "date", "dt.datetime", "datetime"}:
                continue  # e.g. an injected clock's self.now()
            naive_now = node.func.attr == "now" and not node.args and not node.keywords
            if node.func.attr in {"today", "utcnow"} or naive_now:
                offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert offenders == []
