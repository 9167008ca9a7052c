"""incremental_sync_job: pull what changed in Xero since the watermark, per partner.

One `If-Modified-Since` call per entity when nothing changed (and no writes). Changed records are
landed and applied exactly like the month partitions, and the months they belong to are reported
as new materializations of the partner x month assets, so the UI shows fresh partitions. The
watermark is the newest `UpdatedDateUTC` seen (Xero's clock, not ours) and never moves back.
"""


import datetime as dt
import functools

import dagster as dg

from xero_sync.assets.connection_errors import held_tenant, xero_failures
from xero_sync.partitions import HISTORY_START, partition_key
from xero_sync.platform import apply, connections, landing, watermarks
from xero_sync.resources.platform import PlatformResource
from xero_sync.resources.xero import XeroResource
from xero_sync.shards.layout import Shard, shard as shard_at
from xero_sync.sync import rules
from xero_sync.sync.month_slices import month_start

ENTITIES = ("contacts", "invoices", "payments", "credit_notes")
_ASSET_OF = {
    "contacts": ("xero_contacts", "platform_customers"),
    "invoices": ("xero_invoices", "platform_invoices"),
    "payments": ("xero_payments", "platform_payments"),
    "credit_notes": ("xero_credit_notes", None),
}


# Covers clock skew between us and Xero when starting from the connection time.
_FIRST_WATERMARK_MARGIN = dt.timedelta(minutes=5)


def _since(conn, connection: connections.Connection, entity: str) -> dt.datetime:
    """The watermark; before the first incremental run, the earlier of when the partner
    connected (our clock) and the newest record onboarding landed (Xero's clock)."""
    mark = watermarks.get_watermark(conn, connection.partner_id, entity)
    if mark is not None and mark.modified_since is not None:
        return mark.modified_since
    candidates = [connection.created_at, watermarks.newest_landed(conn, connection.partner_id, entity)]
    return min(c for c in candidates if c is not None) - _FIRST_WATERMARK_MARGIN


def _month_of(entity: str, record) -> dt.date:
    """The partition a record belongs to (clamped like the open-ended month windows)."""
    when = record.updated_at.date() if entity == "contacts" else record.date
    return min(max(month_start(when), HISTORY_START), month_start(dt.date.today()))


@functools.cache
def incremental_sync_job_for(shard: Shard) -> dg.JobDefinition:
    @dg.op(description="Pull changes since the watermark for one partner, land and apply them.")
    def pull_changes(context: dg.OpExecutionContext, xero: XeroResource, platform: PlatformResource) -> None:
        partner_id = context.partition_key
        with platform.begin() as conn:
            connection = connections.get_connection(conn, partner_id)
            since = {e: _since(conn, connection, e) for e in ENTITIES} if connection else {}
        if connection is None or connection.status != "connected":
            context.log.info(f"partner {partner_id} is not connected; nothing to pull")
            return
        client = xero.client_for(connection)
        pulled_at = dt.datetime.now(dt.timezone.utc)
        reads = {}
        with held_tenant(platform, connection, f"incremental pull of {partner_id}"), \
                xero_failures(platform, connection):
            for entity in ENTITIES:
                reads[entity] = getattr(client, entity)(modified_since=since[entity])

        touched: dict[str, set[dt.date]] = {e: set() for e in ENTITIES}
        with platform.begin() as conn:
            for entity, result in reads.items():
                if not result.records:
                    continue
                getattr(landing, f"upsert_{entity}")(conn, partner_id, result.records, pulled_at)
                newest = max(r.updated_at for r in result.records)
                watermarks.advance_watermark(conn, partner_id, entity, newest)
                touched[entity] = {_month_of(entity, r) for r in result.records}
            if reads["contacts"].records:
                apply.apply_contacts(conn, partner_id, [rules.contact_from_record(r) for r in reads["contacts"].records])
            if reads["invoices"].records:
                apply.apply_invoices(conn, partner_id, [rules.invoice_from_record(r) for r in reads["invoices"].records])
            if reads["payments"].records:
                apply.apply_payments(conn, partner_id, [rules.payment_from_record(r) for r in reads["payments"].records])
            connections.touch_last_sync(conn, partner_id)

        for entity, month_set in touched.items():
            for month in sorted(month_set):
                for asset in filter(None, _ASSET_OF[entity]):
                    context.log_event(
                        dg.AssetMaterialization(
                            asset_key=shard.key(asset),
                            partition=str(partition_key(partner_id, month)),
                            metadata={"source": "incremental", "records": sum(
                                1 for r in reads[entity].records if _month_of(entity, r) == month)},
                        )
                    )
        context.log.info(
            "incremental sync of %s: %s; api calls %s"
            % (partner_id, {e: len(r.records) for e, r in reads.items()}, sum(r.calls for r in reads.values()))
        )

    @dg.job(name="incremental_sync_job", partitions_def=shard.partners,
            description="Incremental If-Modified-Since sync of one partner.")
    def incremental_sync_job():
        pull_changes()

    return incremental_sync_job


incremental_sync_job = incremental_sync_job_for(shard_at(0))
