"""reconciliation_diff: Alternative vs Xero for one partner (SPEC section 5), plus its check.

Business window: the partner's whole history as held in the platform store and the Xero landing
tables (all months), read after the month partitions it depends on. Idempotent: the stored diff
is replaced, never appended to, and repairs are enqueued only for payments with no outbox row at
all, so re-materializing changes nothing twice.

Money is checked against Xero itself, not against our outbox (reconciliation/xero_reads.py): the
partner's latest 200 payouts (by paid_out_on) whose outbox row may have written something
(sending, unknown, done) are looked up by reference, 25 references per call (at most 17 calls),
and what Xero shows is matched as the bank feed line would be (sync.payout_match); older payouts
keep the outbox's word. One GET /Reports/TrialBalance gives the payments account's balance as at
today (UTC), compared with the payments received into it and not yet paid out
(sync.reconcile_money). No call is made when the accounts are not set up or the partner is parked.

The partner's rows are read column-wise (diffs.load_reconcile_input over reconciliation/frames.py: ADBC
and Arrow on PostgreSQL, from one snapshot of committed rows); a million invoices load and diff
in well under the time of the same diff as one SQL query (bench/reconcile.py).

The work itself (reconciliation/run.py) is shared with reconcile_cohort_job; the
check `no_unexplained_differences` is evaluated once per run for the whole shard (no partition),
naming every partner whose own latest result is red, so a later partner's pass never shows it
passed while another partner is red.
"""

import functools

import dagster as dg

from xero_sync.assets.table_metadata import OWNERS, table_metadata
from xero_sync.glue.failures import sync_failures
from xero_sync.glue.metadata import diff_metadata, shard_check
from xero_sync.reconciliation.run import CHECK_NAME, Reconciled, reconcile_partner
from xero_sync.store.schema import reconciliation_diffs
from xero_sync.resources.platform import PlatformResource
from xero_sync.resources.xero import XeroResource
from xero_sync.shards.layout import Shard, shard as shard_at

_BY_PARTNER = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="partner")
_UPSTREAM = ("platform_invoices", "platform_payments", "xero_invoices", "xero_payments")


@functools.cache
def reconciliation_diff_for(shard: Shard) -> dg.AssetsDefinition:
    """The reconciliation diff of one shard's partners (one partition per partner)."""
    no_unexplained = dg.AssetCheckSpec(
        CHECK_NAME,
        asset=shard.key("reconciliation_diff"),
        description="Fails while any partner of the shard has differences no push in flight "
                    "explains in its latest reconciliation, naming every such partner (each "
                    "partner's own latest result, so a later partner's pass never hides another "
                    "partner's failure).",
    )

    @dg.asset(
        key=shard.key("reconciliation_diff"),
        partitions_def=shard.partners,
        deps=[dg.AssetDep(shard.key(name), partition_mapping=_BY_PARTNER) for name in _UPSTREAM],
        check_specs=[no_unexplained],
        group_name="reconciliation",
        kinds={"pandas", "xero"},
        owners=OWNERS,
        metadata=table_metadata(reconciliation_diffs),
        description="Every difference between Alternative and Xero for the partner, by kind; stored "
                    "in the reconciliation_diffs table (xero-sync diff --partner P). Business window: "
                    "the partner's whole history (one partition per partner, all months). Runs daily "
                    "(daily_reconciliation_schedule) and after a push once its writes settled "
                    "(reconciliation_after_push_sensor).",
    )
    def reconciliation_diff(context: dg.AssetExecutionContext, platform: PlatformResource,
                            xero: XeroResource) -> dg.MaterializeResult:
        with sync_failures():
            done = reconcile_partner(platform.engine, xero.client_for, context.partition_key, context.log,
                                     context.run.run_id, context.job_name)
        return dg.MaterializeResult(metadata=diff_metadata(done),
                                    check_results=[check_result(platform, shard, [done])])

    return reconciliation_diff


reconciliation_diff = reconciliation_diff_for(shard_at(0))


def check_result(platform: PlatformResource, shard: Shard, done: list[Reconciled]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(check_name=CHECK_NAME, severity=dg.AssetCheckSeverity.ERROR,
                               **shard_check(platform.engine, shard, done))
