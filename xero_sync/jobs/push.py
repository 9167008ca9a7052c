"""push_job: write one partner's outbox to Xero (payments, stand-alone deposits, payouts, deletes).

Launched by `payment_outbox_sensor` with the partner as partition key. The op is idempotent: it
holds the tenant's lock (one writer per tenant however the run was launched), only claims rows
still pending/unknown, every write carries the key its row keeps, and a lost answer is re-sent
with that key or looked up by reference once it settled (see `xero_sync.push`), so a Dagster retry
of a failed attempt, or a second run, never writes twice.
"""


import datetime as dt
import functools

import dagster as dg

from xero_sync.connect.refusals import recording_refusals
from xero_sync.glue.failures import xero_failures
from xero_sync.store import connections
from xero_sync.push.engine import push_partner
from xero_sync.store.tenant_lock import TenantBusy
from xero_sync.resources.platform import PlatformResource
from xero_sync.resources.xero import XeroResource
from xero_sync.shards.layout import Shard, shard as shard_at
from xero_sync.store.states import ConnectionStatus

PUSH_LIMIT = 500  # rows per run: 10 payment calls at 50 per call, well inside 60 calls/min
# A run finding another live run writing for the tenant waits this long for it, then ends cleanly
# (its rows stay claimable; the outbox sensor launches again).
LOCK_WAIT_SECONDS = 30.0

# Xero unavailable / minute limits outlasting the client's waits: retry the whole push; it
# resumes from the outbox, so a retry costs only what is left to do.
push_retry_policy = dg.RetryPolicy(
    max_retries=3, delay=15, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.FULL
)


class PushConfig(dg.Config):
    """How long this run waits for another run writing for the same tenant before ending cleanly."""

    lock_wait_seconds: float = LOCK_WAIT_SECONDS


@dg.op(retry_policy=push_retry_policy,
       description="Claim the partner's pending outbox rows and write them to Xero exactly once.")
def push_outbox(context: dg.OpExecutionContext, config: PushConfig, xero: XeroResource,
                platform: PlatformResource) -> dg.Output[dict]:
    partner_id = context.partition_key
    with platform.begin() as conn:
        connection = connections.get_connection(conn, partner_id)
    if connection is None or connection.tenant_id is None:
        raise dg.Failure(f"partner {partner_id} has no Xero connection; nothing can be pushed",
                         allow_retries=False)
    if connection.is_parked(dt.datetime.now(dt.timezone.utc)):
        context.log.info(f"partner {partner_id} is parked until {connection.parked_until}; "
                         "the sensor pushes again once Xero's daily window reopens")
        return dg.Output({}, metadata={"parked_until": str(connection.parked_until)})
    if connection.status != ConnectionStatus.CONNECTED:
        context.log.info(f"partner {partner_id} is {connection.status}; its outbox waits until "
                         "the connection is back")
        return dg.Output({}, metadata={"skipped": f"connection {connection.status}"})
    client = xero.client_for(connection)
    try:
        with xero_failures(), recording_refusals(platform.engine, connection):
            report = push_partner(platform.engine, client, partner_id, limit=PUSH_LIMIT,
                                  lock_wait_seconds=config.lock_wait_seconds)
    except TenantBusy as busy:
        context.log.info(f"push for {partner_id} not run: {busy}")
        return dg.Output({}, metadata={"skipped": str(busy)})
    summary = report.as_metadata()
    context.log.info(f"push for {partner_id}: {summary}")
    for message in report.messages:
        context.log.warning(f"Xero rejected a write for {partner_id}: {message}")
    per_call = report.payments_sent / report.payment_calls if report.payment_calls else 0.0
    return dg.Output(
        summary,
        metadata={
            **summary,
            "partner": partner_id,
            "payments_per_payment_call": dg.MetadataValue.float(round(per_call, 1)),
            "rejections": dg.MetadataValue.md(
                "\n".join(f"- {m}" for m in report.messages) or "none"),
        },
    )


@functools.cache
def push_job_for(shard: Shard) -> dg.JobDefinition:
    # One op in the run worker's own process: no step process to start (~2 s of imports on a
    # small machine), so a payment reaches Xero seconds sooner (bench/push_daemon.py).
    @dg.job(name="push_job", partitions_def=shard.partners, tags={"xero/phase": "push"},
            executor_def=dg.in_process_executor,
            description="Write one partner's outbox (Alternative payments and payouts) to Xero.")
    def push_job():
        push_outbox()

    return push_job


push_job = push_job_for(shard_at(0))
