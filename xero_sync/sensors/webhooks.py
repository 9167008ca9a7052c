"""xero_webhook_sensor: Xero webhook events → a targeted incremental sync of that partner.

The receiver (`web/webhooks.py`) stores events in `webhook_events`. Each tick reads at most
`BATCH` INVOICE / CONTACT / CREDITNOTE events after the cursor, maps each tenant to its
connected partner, and requests one `incremental_sync_job` run per partner. Events are thin
(ids only); the run pulls whatever changed since the partner's watermark, which covers every
event in the batch. The cursor is the last event id read. No side effects besides the cursor:
the run does the Xero calls.
"""

from __future__ import annotations

import functools

import dagster as dg
import sqlalchemy as sa

from xero_sync.jobs.incremental import incremental_sync_job_for
from xero_sync.jobs.run_tags import run_tags
from xero_sync.partitions import existing_partners
from xero_sync.store import connections
from xero_sync.core.ids import is_partner_id
from xero_sync.store.schema import webhook_events
from xero_sync.resources.platform import PlatformResource
from xero_sync.sensors.intervals import interval
from xero_sync.shards.layout import Shard, shard as shard_at
from xero_sync.store.states import ConnectionStatus

CATEGORIES = ("INVOICE", "CONTACT", "CREDITNOTE")
BATCH = 500


def _cursor(context: dg.SensorEvaluationContext) -> int:
    try:
        return int(context.cursor or 0)
    except ValueError:
        context.log.warning(f"ignoring unreadable cursor {context.cursor!r}; starting from event 0")
        return 0


@functools.cache
def xero_webhook_sensor_for(shard: Shard, every: int | None = None) -> dg.SensorDefinition:
    """Webhook-driven syncs of this shard's partners (each shard reads every event and keeps its own)."""

    @dg.sensor(
        name="xero_webhook_sensor",
        job=incremental_sync_job_for(shard),
        minimum_interval_seconds=interval(15, every),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Xero webhook events (INVOICE, CONTACT, CREDITNOTE) -> incremental sync of that partner.",
    )
    def xero_webhook_sensor(context: dg.SensorEvaluationContext, platform: PlatformResource):
        after = _cursor(context)
        with platform.begin() as conn:
            rows = conn.execute(
                sa.select(webhook_events.c.event_id, webhook_events.c.tenant_id)
                .where(webhook_events.c.event_id > after, webhook_events.c.category.in_(CATEGORIES))
                .order_by(webhook_events.c.event_id)
                .limit(BATCH)
            ).all()
            if not rows:
                return dg.SensorResult(run_requests=[], cursor=str(after))
            newest_by_tenant: dict[str, int] = {}
            for row in rows:
                newest_by_tenant[row.tenant_id] = max(row.event_id, newest_by_tenant.get(row.tenant_id, 0))
            holders = {t: connections.connection_for_tenant(conn, t) for t in newest_by_tenant}

        newest_by_partner: dict[str, tuple[str, int]] = {}
        for tenant_id, event_id in newest_by_tenant.items():
            holder = holders[tenant_id]
            if holder is not None and holder.shard != shard.index:
                continue  # another shard's partner: its own code location's sensor runs it
            if holder is None or holder.status != ConnectionStatus.CONNECTED:
                state = "no partner" if holder is None else f"partner {holder.partner_id} is {holder.status}"
                context.log.info(f"webhook events for tenant {tenant_id} skipped: {state}")
                continue
            if not is_partner_id(holder.partner_id):  # a bad partner row is logged, never fatal
                context.log.warning(f"webhook events for tenant {tenant_id} skipped: partner id "
                                    f"{holder.partner_id!r} is not valid (fix the partner row)")
                continue
            _, previous = newest_by_partner.get(holder.partner_id, (tenant_id, 0))
            newest_by_partner[holder.partner_id] = (tenant_id, max(previous, event_id))

        # A partner moving into this shard has no partition for a tick or two; the next
        # incremental sync picks up what these events announced.
        known = existing_partners(context, list(newest_by_partner), shard.partners)
        requests = [
            dg.RunRequest(
                run_key=f"webhook:{partner_id}:{event_id}",
                partition_key=partner_id,
                tags=run_tags(partner_id, tenant_id, "webhook"),
            )
            for partner_id, (tenant_id, event_id) in sorted(newest_by_partner.items())
            if partner_id in known
        ]
        return dg.SensorResult(run_requests=requests, cursor=str(rows[-1].event_id))

    return xero_webhook_sensor


xero_webhook_sensor = xero_webhook_sensor_for(shard_at(0))
