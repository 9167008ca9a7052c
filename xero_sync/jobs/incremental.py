"""incremental_sync_job: pull what changed in Xero since the watermark, for ONE partner.

The webhook sensor launches it for the partner whose records changed (seconds, not the next
15-minute tick); it can also be launched by hand for a partner from the UI. The steady-state
schedule runs the same pull for many partners per run instead (xero_sync/cohorts/). The body is
`xero_sync.pulls.changes.pull_changes`: one `If-Modified-Since` call per entity when nothing
changed; the months it touched are reported as materializations of the partner x month assets,
so the UI shows fresh partitions.
"""


import functools

import dagster as dg

from xero_sync.glue.failures import sync_failures
from xero_sync.glue.metadata import changes_materializations
from xero_sync.store import connections
from xero_sync.glue.retry_policies import XERO_READ_RETRY_POLICY
from xero_sync.pulls.changes import pull_changes
from xero_sync.resources.platform import PlatformResource
from xero_sync.resources.xero import XeroResource
from xero_sync.shards.layout import Shard, shard as shard_at
from xero_sync.store.states import ConnectionStatus


@functools.cache
def incremental_sync_job_for(shard: Shard) -> dg.JobDefinition:
    @dg.op(name="pull_changes", retry_policy=XERO_READ_RETRY_POLICY,  # Xero unavailable: again, later
           description="Pull changes since the watermark for one partner, land and apply them.")
    def pull_changes_op(context: dg.OpExecutionContext, xero: XeroResource, platform: PlatformResource) -> None:
        partner_id = context.partition_key
        with platform.begin() as conn:
            connection = connections.get_connection(conn, partner_id)
        if connection is None or connection.status != ConnectionStatus.CONNECTED:
            context.log.info(f"partner {partner_id} is not connected; nothing to pull")
            return
        with sync_failures():
            changes = pull_changes(platform.engine, xero.client_for(connection), connection)
        for event in changes_materializations(shard, changes):
            context.log_event(event)
        context.log.info(f"incremental sync of {partner_id}: {changes.records}; api calls {changes.calls}")

    # In process: one op, no step process to start, so the tenant's one run slot (which a push
    # after it waits for) is held seconds less.
    @dg.job(name="incremental_sync_job", partitions_def=shard.partners, executor_def=dg.in_process_executor,
            description="Incremental If-Modified-Since sync of one partner (webhooks, by hand).")
    def incremental_sync_job():
        pull_changes_op()

    return incremental_sync_job


incremental_sync_job = incremental_sync_job_for(shard_at(0))
