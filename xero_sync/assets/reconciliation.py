"""reconciliation_diff: Alternative vs Xero for one partner (SPEC section 5), plus its check.

Business window: the partner's whole history as held in the platform store and the Xero landing
tables (all months), read after the month partitions it depends on. Idempotent: the stored diff
is replaced, never appended to, and repairs are enqueued only for payments with no outbox row at
all, so re-materializing changes nothing twice.

Money is checked against Xero itself, not against our outbox (reconciliation_reads): the
partner's latest 200 payouts (by paid_out_on) whose outbox row may have written something
(sending, unknown, done) are looked up by reference, 25 references per call (at most 17 calls),
and what Xero shows is matched as the bank feed line would be (sync.payout_match); older payouts
keep the outbox's word. One GET /Reports/TrialBalance gives the payments account's balance as at
today (UTC), compared with the payments received into it and not yet paid out
(sync.reconcile_money). No call is made when the accounts are not set up or the partner is parked.

The partner's rows are read column-wise (diffs.load_reconcile_input over platform/frames.py: ADBC
and Arrow on PostgreSQL, from one snapshot of committed rows); a million invoices load and diff
in well under the time of the same diff as one SQL query (bench/reconcile.py).
"""

import datetime as dt
import functools

import dagster as dg

from xero_sync.assets.connection_errors import held_tenant, xero_failures
from xero_sync.assets.table_metadata import OWNERS, table_metadata
from xero_sync.assets.reconciliation_reads import XeroSide, read_xero_side
from xero_sync.platform import connections, diffs
from xero_sync.platform.schema import reconciliation_diffs
from xero_sync.push import repairs
from xero_sync.resources.platform import PlatformResource
from xero_sync.resources.xero import XeroResource
from xero_sync.shards.layout import Shard, shard as shard_at
from xero_sync.sync import reconcile

PREVIEW_ROWS = 20
_BY_PARTNER = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="partner")
_UPSTREAM = ("platform_invoices", "platform_payments", "xero_invoices", "xero_payments")


@functools.cache
def reconciliation_diff_for(shard: Shard) -> dg.AssetsDefinition:
    """The reconciliation diff of one shard's partners (one partition per partner)."""
    no_unexplained = dg.AssetCheckSpec(
        "no_unexplained_differences",
        asset=shard.key("reconciliation_diff"),
        description="Fails while the diff holds differences no push in flight explains.",
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
                    "the partner's whole history (one partition per partner, all months).",
    )
    def reconciliation_diff(context: dg.AssetExecutionContext, platform: PlatformResource,
                            xero: XeroResource) -> dg.MaterializeResult:
        partner_id = context.partition_key
        pulled = _read_xero(context, platform, xero, partner_id)
        with platform.begin() as conn:
            inputs = diffs.load_reconcile_input(
                conn, partner_id, pulled.payout_amounts,
                payments_account_minor=pulled.payments_account_minor, as_of=pulled.as_of)
        diff = reconcile.diff(inputs)
        looked = _second_look(platform, xero, partner_id, diff)
        diff = looked.diff
        with platform.begin() as conn:
            stored = diffs.save_diff(conn, partner_id, diff)
            repaired = diffs.enqueue_repairs(conn, partner_id, diff, looked.proofs)
        if repaired:
            context.log.info(f"re-queued {len(repaired)} writes Xero showed gone: {repaired[:10]}")
        open_rows = reconcile.unexplained(diff)
        counts = reconcile.summary(diff)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": stored,
                "unexplained": len(open_rows),
                "counts_by_kind": dg.MetadataValue.json(counts),
                "repairs_enqueued": len(repaired),
                "payouts_checked_in_xero": len(pulled.payout_amounts),
                "payments_account_checked": pulled.payments_account_minor is not None,
                "xero_calls": pulled.calls,
                "second_look_calls": looked.calls,  # evidence before repairs, manual bookings
                "warnings": int(diff["action"].astype(str).str.startswith("warning").sum())
                if len(diff) else 0,
                "preview": dg.MetadataValue.md(_preview(diff)),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name="no_unexplained_differences",
                    passed=open_rows.empty,
                    severity=dg.AssetCheckSeverity.ERROR,
                    metadata={
                        "unexplained": len(open_rows),
                        "by_kind": dg.MetadataValue.json(reconcile.summary(open_rows)),
                        "preview": dg.MetadataValue.md(_preview(open_rows)),
                    },
                )
            ],
        )

    return reconciliation_diff


reconciliation_diff = reconciliation_diff_for(shard_at(0))


def _read_xero(context: dg.AssetExecutionContext, platform: PlatformResource,
               xero: XeroResource, partner_id: str) -> XeroSide:
    """Payout amounts and the payments account's balance (nothing read, no call, when the
    payments account is not set up yet or the partner is parked)."""
    as_of = dt.datetime.now(dt.timezone.utc).date()
    with platform.begin() as conn:
        connection = connections.get_connection(conn, partner_id)
        to_check = diffs.payouts_to_check(conn, partner_id)
    if connection is None or connection.payments_account_is_bank is None:
        return XeroSide(as_of)
    if connection.is_parked(dt.datetime.now(dt.timezone.utc)):
        # Spending calls while Xero's daily window is closed would only earn more 429s.
        until = f"{connection.parked_until:%Y-%m-%d %H:%M} UTC"
        context.log.warning(f"partner {partner_id} is parked until {until}: Xero not read, the "
                            "outbox's word is used for payouts and the balance is not checked")
        return XeroSide(as_of)
    # One run calls Xero per tenant at a time, however it was launched (push/tenant_lock.py).
    with held_tenant(platform, connection, f"reconciliation diff of {partner_id}"), \
            xero_failures(platform, connection):
        return read_xero_side(xero.client_for(connection), connection, to_check, as_of)


def _second_look(platform: PlatformResource, xero: XeroResource, partner_id: str,
                 diff) -> repairs.SecondLook:
    """Evidence before any repair and the manual-booking warnings (push/repairs.py); nothing
    is read, and nothing re-queued, while the accounts are not set up or the partner is parked."""
    with platform.begin() as conn:
        connection = connections.get_connection(conn, partner_id)
    if connection is None or connection.payments_account_is_bank is None or \
            connection.is_parked(dt.datetime.now(dt.timezone.utc)):
        return repairs.SecondLook(diff)
    with held_tenant(platform, connection, f"reconciliation diff of {partner_id}"), \
            xero_failures(platform, connection):
        return repairs.second_look(platform.engine, xero.client_for(connection), connection, diff)


def _preview(diff) -> str:
    if diff.empty:
        return "No differences."
    shown = diff.head(PREVIEW_ROWS).astype(object).where(diff.head(PREVIEW_ROWS).notna(), "")
    more = f"\n\n… and {len(diff) - PREVIEW_ROWS} more" if len(diff) > PREVIEW_ROWS else ""
    return shown.to_markdown(index=False) + more
