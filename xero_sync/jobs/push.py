"""push_job: write one partner's outbox to Xero (payments, stand-alone deposits, payouts, deletes).

Launched by `payment_outbox_sensor` with the partner as partition key. The op is idempotent: it
only claims rows still pending/unknown, every write carries a key derived from its outbox row,
and a lost answer is looked up by reference before anything is re-posted (see `xero_sync.push.engine`),
so a Dagster retry of a failed attempt never writes twice.
"""


import datetime as dt

import dagster as dg

from xero_sync.assets.connection_errors import xero_failures
from xero_sync.partitions import partners
from xero_sync.platform import connections
from xero_sync.push.engine import push_partner
from xero_sync.resources.platform import PlatformResource
from xero_sync.resources.xero import XeroResource

PUSH_LIMIT = 500  # rows per run: 10 payment calls at 50 per call, well inside 60 calls/min

# Xero unavailable / minute limits outlasting the client's waits: retry the whole push; it
# resumes from the outbox, so a retry costs only what is left to do.
push_retry_policy = dg.RetryPolicy(
    max_retries=3, delay=15, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.FULL
)


@dg.op(retry_policy=push_retry_policy,
       description="Claim the partner's pending outbox rows and write them to Xero exactly once.")
def push_outbox(context: dg.OpExecutionContext, xero: XeroResource,
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
    client = xero.client_for(connection)
    with xero_failures(platform, connection):
        report = push_partner(platform.engine, client, partner_id, limit=PUSH_LIMIT)
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


@dg.job(partitions_def=partners, tags={"xero/phase": "push"},
        description="Write one partner's outbox (Alternative payments and payouts) to Xero.")
def push_job():
    push_outbox()
