"""Splitting a shard's partners into cohort runs (pure: no store, no Dagster).

`plan_cohorts` sorts the partners and splits them into ceil(N / size) cohorts of nearly equal
size (101 partners at size 100 make cohorts of 51 and 50, not 100 and 1), so a tick's runs take
about as long as each other. A run key names the phase, the tick and the cohort's place: asking
again for the same tick (a daemon restart) is deduplicated by Dagster.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

PHASES = ("incremental", "reread", "reconcile")
INCREMENTAL_JOB, REREAD_JOB = "incremental_cohort_job", "reread_cohort_job"
RECONCILE_JOB = "reconcile_cohort_job"


@dataclass(frozen=True)
class Cohort:
    index: int  # 0-based place in the tick's plan
    count: int  # cohorts in the plan
    partners: tuple[str, ...]

    @property
    def label(self) -> str:
        """`3-of-12`: the `xero/cohort` run tag."""
        return f"{self.index + 1}-of-{self.count}"


def plan_cohorts(partner_ids: Iterable[str], size: int) -> list[Cohort]:
    """The partners (deduplicated, sorted) in ceil(N / size) cohorts of at most `size`, the
    first ones one partner larger when N does not divide evenly."""
    if size < 1:
        raise ValueError(f"cohort size must be at least 1, got {size}")
    ids = sorted(set(partner_ids))
    if not ids:
        return []
    count = -(-len(ids) // size)
    base, extra = divmod(len(ids), count)
    cohorts, start = [], 0
    for index in range(count):
        n = base + (1 if index < extra else 0)
        cohorts.append(Cohort(index, count, tuple(ids[start:start + n])))
        start += n
    return cohorts


def run_key(phase: str, tick: str, cohort: Cohort) -> str:
    """`incremental:20261125T0315:cohort-3-of-12`."""
    if phase not in PHASES:
        raise ValueError(f"unknown cohort phase {phase!r}; one of {PHASES}")
    return f"{phase}:{tick}:cohort-{cohort.label}"
