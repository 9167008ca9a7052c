"""Cohort planning, settings, outcomes and the thread runner: pure, no store, no Dagster."""

from __future__ import annotations

import threading

import pytest

from xero_sync.cohorts.outcomes import FAILED, OK, SKIPPED, CohortSummary, PartnerOutcome, failure_text
from xero_sync.cohorts.plan import plan_cohorts, run_key
from xero_sync.cohorts.runner import run_concurrently
from xero_sync.config import ConfigError, Settings


@pytest.mark.parametrize(("n", "size", "sizes"), [
    (0, 100, []), (1, 100, [1]), (100, 100, [100]), (101, 100, [51, 50]), (5, 2, [2, 2, 1]),
    (10_000, 100, [100] * 100), (7, 1, [1] * 7),
])
def test_partners_split_into_ceil_n_over_size_cohorts_of_nearly_equal_size(n, size, sizes):
    ids = [f"p{i:05d}" for i in range(n)]
    cohorts = plan_cohorts(reversed(ids), size)
    assert [len(c.partners) for c in cohorts] == sizes
    assert [p for c in cohorts for p in c.partners] == ids  # each partner once, in order
    assert [c.label for c in cohorts] == [f"{i + 1}-of-{len(sizes)}" for i in range(len(sizes))]


def test_duplicates_are_planned_once_and_a_bad_size_is_refused():
    assert [c.partners for c in plan_cohorts(["b", "a", "b"], 10)] == [("a", "b")]
    with pytest.raises(ValueError, match="at least 1"):
        plan_cohorts(["a"], 0)


def test_run_keys_name_phase_tick_and_cohort():
    first, second = plan_cohorts(["a", "b", "c"], 2)
    assert run_key("incremental", "20261125T0315", first) == "incremental:20261125T0315:cohort-1-of-2"
    assert run_key("reread", "20261125", second) == "reread:20261125:cohort-2-of-2"
    with pytest.raises(ValueError, match="phase"):
        run_key("push", "20261125", first)


def test_settings_default_and_read_the_environment():
    default = Settings.from_env({})
    assert (default.cohort_size, default.cohort_workers) == (100, 8)
    given = Settings.from_env({"XERO_SYNC_COHORT_SIZE": " 25 ", "XERO_SYNC_COHORT_WORKERS": "4"})
    assert (given.cohort_size, given.cohort_workers) == (25, 4)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("XERO_SYNC_COHORT_SIZE", "ten", "XERO_SYNC_COHORT_SIZE='ten' is not a whole number"),
    ("XERO_SYNC_COHORT_SIZE", "0", "XERO_SYNC_COHORT_SIZE=0 must be between 1 and 1000"),
    ("XERO_SYNC_COHORT_WORKERS", "-2", "XERO_SYNC_COHORT_WORKERS=-2 must be between 1 and 64"),
    ("XERO_SYNC_COHORT_WORKERS", "1.5", "XERO_SYNC_COHORT_WORKERS='1.5' is not a whole number"),
])
def test_bad_settings_are_refused_naming_the_variable(name, value, message):
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({name: value})
    assert str(refused.value) == message


def test_the_summary_names_failed_partners_only():
    summary = CohortSummary.of([
        PartnerOutcome("gamma", OK), PartnerOutcome("beta", FAILED, "partner beta: reconnect Xero"),
        PartnerOutcome("acme", OK), PartnerOutcome("delta", SKIPPED, "parked"),
    ])
    assert summary.ok == ("acme", "gamma") and summary.skipped == ("delta",)
    assert summary.line() == "2 of 4 partners synced, 1 skipped, 1 failed"
    assert summary.describe_failures() == \
        "1 of 4 partners failed (2 synced, 1 skipped): beta: partner beta: reconnect Xero"
    assert summary.metadata()["failed_partners"] == ["beta"]
    many = CohortSummary.of([PartnerOutcome(f"p{i:02d}", FAILED, "x") for i in range(12)])
    assert many.describe_failures().endswith("p09: x; and 2 more")


def test_failure_text_prefers_a_description_to_a_traceback():
    class Described(Exception):
        description = "partner beta: Xero refused our authorisation"

    assert failure_text(Described("ignored")) == "partner beta: Xero refused our authorisation"
    assert failure_text(KeyError("x")) == "KeyError: 'x'"
    assert failure_text(RuntimeError()) == "RuntimeError"


def test_the_runner_overlaps_partners_and_keeps_each_error_to_its_partner():
    meet = threading.Barrier(3, timeout=10)  # only passable if three partners run at once

    def work(partner_id: str) -> str:
        meet.wait()
        if partner_id == "beta":
            raise RuntimeError("beta broke")
        return partner_id.upper()

    finished = {f.partner_id: f for f in run_concurrently(["acme", "beta", "gamma"], work, workers=3)}
    assert {p: f.result for p, f in finished.items()} == {"acme": "ACME", "beta": None, "gamma": "GAMMA"}
    assert str(finished["beta"].error) == "beta broke"
    assert finished["acme"].error is None and finished["gamma"].error is None
    assert list(run_concurrently([], work, workers=3)) == []
