"""What failed for a partner, and which later success clears it (pure: no store, no Dagster).

One policy for every path that records a partner's failure: the run-status sensors (runs of one
partner, however launched, UI `__ASSET_JOB` runs included) and the cohort jobs (many partners in
one run, each partner's outcome its own). A failure is kept per partner and per *work*:

- an asset over a range of months (`xero_invoices` 2024-01-01..2024-03-01), or an asset
  partitioned by partner only (`reconciliation_diff`, no months);
- a job without assets (`push_job`; a cohort job and its per-partner job are the same work);
- a check (`check:no_unexplained_differences`), recorded by the reconciliation itself.

Only a later success of the same work clears it: the same asset over months covering the failed
ones (no months: the whole asset), the same job, the check passing. Materializing another asset
for the same partner clears nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Jobs that do the same work for a partner: a success of either clears a failure of both.
SAME_JOB = {"incremental_cohort_job": "incremental_sync_job"}
CHECK_PREFIX = "check:"


@dataclass(frozen=True, order=True)
class Work:
    name: str  # asset name (no shard prefix), job name, or check:<name>
    first_month: str = ""  # YYYY-MM-DD of the first month, '' when not by month
    last_month: str = ""

    def covers(self, failed: "Work") -> bool:
        """Does a success of this work clear `failed`?"""
        if self.name != failed.name:
            return False
        if not self.first_month or not failed.first_month:
            return not self.first_month  # a success over every month covers any range
        return self.first_month <= failed.first_month and failed.last_month <= self.last_month

    def label(self) -> str:
        if not self.first_month:
            return self.name
        if self.first_month == self.last_month:
            return f"{self.name} {self.first_month[:7]}"
        return f"{self.name} {self.first_month[:7]}..{self.last_month[:7]}"


def job_work(job_name: str) -> Work:
    return Work(SAME_JOB.get(job_name, job_name))


def check_work(check_name: str) -> Work:
    return Work(f"{CHECK_PREFIX}{check_name}")


def month_of(partition_key: str) -> str:
    """`2026-10-01|acme` -> `2026-10-01` (partner x month keys: dimensions sorted by name, the
    month first); a partner-only key (`acme`) has no month."""
    return partition_key.split("|")[0] if "|" in partition_key else ""


def asset_works(asset_names: Iterable[str], partition_keys: Iterable[str]) -> list[Work]:
    """One Work per asset over the months of `partition_keys` (first..last)."""
    months = sorted({m for m in (month_of(k) for k in partition_keys) if m})
    first, last = (months[0], months[-1]) if months else ("", "")
    return [Work(name, first, last) for name in sorted(set(asset_names))]


def asset_name(key_path: Iterable[str]) -> str:
    """The asset's own name: shard N's keys are `shard_N/<name>`, and a partner's work is the same
    whichever shard holds it."""
    return list(key_path)[-1]
