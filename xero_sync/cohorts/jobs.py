"""The cohort jobs: one run syncs a cohort of a shard's partners, concurrently.

- `incremental_cohort_job` (op `pull_changes_cohort`): the If-Modified-Since pull of each partner,
  reporting the months it touched as materializations (as `incremental_sync_job` does).
- `reread_cohort_job` (op `reread_cohort`): the current and previous month of each partner in
  full, reporting one materialization per partner, month and asset of the shard's 4 xero_* and
  3 platform_* assets with the assets' own per-month metadata, and the assets' checks per partner.
- `reconcile_cohort_job` (op `reconcile_cohort`): each partner's reconciliation (the
  reconciliation_diff asset's work), one materialization per partner, then the shard-level check
  `no_unexplained_differences` naming every partner whose latest result is red.

The partners come in the run config (the schedules put them there). Each partner's failure stays
its own: the others complete and land, the failure is recorded for that partner and work
(sync/failure_policy.py, the policy the run-status sensors apply to per-partner runs), and
the run fails at the end naming the failed partners. Cohort runs carry no partner tag, so
`partner_run_failure_sensor` never attributes their failure to a partner. (No
`from __future__ import annotations` here: Dagster reads the ops' config annotation.)
"""

import datetime as dt
import functools
from collections.abc import Callable, Iterator

import dagster as dg

from xero_sync.cohorts.outcomes import FAILED, OK, SKIPPED, CohortSummary, PartnerOutcome, failure_text
from xero_sync.cohorts.partner_sync import NotDue, PartnerResult, PartnerSync, record_failure, record_success
from xero_sync.cohorts.plan import INCREMENTAL_JOB, RECONCILE_JOB, REREAD_JOB
from xero_sync.cohorts.runner import run_concurrently
from xero_sync.glue.metadata import shard_check
from xero_sync.reconciliation.run import CHECK_NAME
from xero_sync.config import Settings
from xero_sync.resources.platform import PlatformResource
from xero_sync.resources.xero import XeroResource
from xero_sync.shards.layout import PLATFORM_ASSET_NAMES, XERO_ASSET_NAMES, Shard, shard as shard_at
from xero_sync.sync.failure_policy import Work, asset_works, job_work

INCREMENTAL_OP, REREAD_OP, RECONCILE_OP = "pull_changes_cohort", "reread_cohort", "reconcile_cohort"


class CohortConfig(dg.Config):
    partners: list[str]
    months: list[str] = []  # reread only: first days of the months to re-read (YYYY-MM-01)


def cohort_run_config(op_name: str, partners: list[str], months: list[dt.date] | None = None) -> dict:
    config: dict = {"partners": list(partners)}
    if months:
        config["months"] = [m.isoformat() for m in months]
    return {"ops": {op_name: {"config": config}}}


def _run_cohort(context: dg.OpExecutionContext, partners: list[str], sync: PartnerSync,
                work: Callable[[str], PartnerResult], works: list[Work], phase: str,
                finish: Callable[[list[PartnerResult]], list] | None = None) -> Iterator:
    """Every partner through `work` on the worker threads; events, logs and each partner's
    success or failure of `works` (sync/failure_policy.py) from this thread as each finishes;
    `finish`'s events once all finished; a dg.Failure at the end if any partner failed."""
    job, run_id = context.job_name, context.run_id
    outcomes: list[PartnerOutcome] = []
    results: list[PartnerResult] = []
    for done in run_concurrently(partners, work, Settings.from_env().cohort_workers):
        partner_id = done.partner_id
        if done.error is None:
            result = done.result
            assert result is not None  # work returned (PartnerSync's methods always return a result)
            yield from result.events
            results.append(result)
            record_success(sync.platform, partner_id, works, phase, job)
            context.log.info(f"partner {partner_id}: {result.summary}")
            outcomes.append(PartnerOutcome(partner_id, OK))
        elif isinstance(done.error, NotDue):
            context.log.info(f"partner {partner_id} skipped: {done.error}")
            outcomes.append(PartnerOutcome(partner_id, SKIPPED, str(done.error)))
        else:
            message = failure_text(done.error)
            context.log.error(f"partner {partner_id} failed: {message}")
            record_failure(sync.platform, partner_id, works, job, f"{context.op.name}: {message}", run_id)
            outcomes.append(PartnerOutcome(partner_id, FAILED, message))
    if finish is not None:
        yield from finish(results)
    summary = CohortSummary.of(outcomes)
    context.log.info(summary.line())
    if summary.failed:
        raise dg.Failure(description=summary.describe_failures(), metadata=summary.metadata(),
                         allow_retries=False)


@functools.cache
def incremental_cohort_job_for(shard: Shard) -> dg.JobDefinition:
    @dg.op(name=INCREMENTAL_OP, out={},
           description="Pull changes since the watermark for a cohort of partners, concurrently.")
    def pull_changes_cohort(context: dg.OpExecutionContext, config: CohortConfig, xero: XeroResource,
                            platform: PlatformResource):
        sync = PartnerSync(shard, xero, platform)
        yield from _run_cohort(context, config.partners, sync, sync.changes,
                               [job_work(INCREMENTAL_JOB)], "incremental")

    @dg.job(name=INCREMENTAL_JOB, description="Incremental If-Modified-Since sync of a cohort of partners.")
    def incremental_cohort_job():
        pull_changes_cohort()

    return incremental_cohort_job


@functools.cache
def reread_cohort_job_for(shard: Shard) -> dg.JobDefinition:
    @dg.op(name=REREAD_OP, out={},
           description="Re-read months of a cohort of partners in full (pull, land, apply), concurrently.")
    def reread_cohort(context: dg.OpExecutionContext, config: CohortConfig, xero: XeroResource,
                      platform: PlatformResource):
        if not config.months:
            raise dg.Failure("a re-read cohort run needs `months` in its config")
        months = sorted(dt.date.fromisoformat(m) for m in config.months)
        sync = PartnerSync(shard, xero, platform)
        # The work is the shard's xero_* and platform_* assets over the months re-read: a later
        # success of those assets over those months (a range run by hand) clears the same failure.
        assets = [*XERO_ASSET_NAMES.values(), *PLATFORM_ASSET_NAMES.values()]
        works = asset_works(assets, [f"{m.isoformat()}|-" for m in months])
        yield from _run_cohort(context, config.partners, sync, lambda p: sync.reread(p, months), works, "reread")

    @dg.job(name=REREAD_JOB, description="Daily full re-read of recent months of a cohort of partners.")
    def reread_cohort_job():
        reread_cohort()

    return reread_cohort_job


@functools.cache
def reconcile_cohort_job_for(shard: Shard) -> dg.JobDefinition:
    @dg.op(name=RECONCILE_OP, out={},
           description="Reconcile a cohort of partners (the reconciliation_diff asset's work), "
                       "concurrently; one materialization per partner and the shard's check.")
    def reconcile_cohort(context: dg.OpExecutionContext, config: CohortConfig, xero: XeroResource,
                         platform: PlatformResource):
        sync = PartnerSync(shard, xero, platform)

        def finish(results: list[PartnerResult]) -> list:
            check = shard_check(platform.engine, shard, [r.reconciled for r in results if r.reconciled])
            return [dg.AssetCheckEvaluation(asset_key=shard.key("reconciliation_diff"),
                                            check_name=CHECK_NAME,
                                            severity=dg.AssetCheckSeverity.ERROR, **check)]

        work = lambda p: sync.reconcile(p, context.run_id, context.job_name)  # noqa: E731
        yield from _run_cohort(context, config.partners, sync, work,
                               asset_works(["reconciliation_diff"], []), "reconcile", finish)

    @dg.job(name=RECONCILE_JOB, description="Daily reconciliation of a cohort of partners.")
    def reconcile_cohort_job():
        reconcile_cohort()

    return reconcile_cohort_job


incremental_cohort_job = incremental_cohort_job_for(shard_at(0))
reread_cohort_job = reread_cohort_job_for(shard_at(0))
reconcile_cohort_job = reconcile_cohort_job_for(shard_at(0))
