"""payment_outbox_sensor: launch a push run per partner with outbox rows to write.

Discovery only (no writes besides the cursor): one bounded, grouped query per tick. A partner gets
a run when it has pending rows newer than the cursor (run_key `push:{partner}:{max_id}`), and again
when rows are in `unknown` (a lost answer to settle by look-up; the key carries their latest
update, so each new unknown outcome gets a new run), when rows at or below the cursor became
pending again (released by Set Up Accounts: the key carries their latest update, so the release
is pushed on the next tick, not minutes later), or pending rows were left behind (e.g. the
partner was parked; retried once per STRANDED_BUCKET). Partners that are not `connected`
(disconnected, needs_reauth, onboarding) or parked get no run: their rows wait, visible, and go
out when the connection is back; a partner row with an invalid id is logged and skipped.
"""


import datetime as dt

import dagster as dg
import sqlalchemy as sa

from xero_sync.jobs.push import push_job
from xero_sync.platform.ids import is_partner_id
from xero_sync.platform.schema import outbox, xero_connections
from xero_sync.resources.platform import PlatformResource

MAX_PARTNERS_PER_TICK = 200
STRANDED_AFTER = dt.timedelta(minutes=5)
STRANDED_BUCKET_SECONDS = 600


def _claimable_by_partner(conn: sa.Connection, cursor: int, now: dt.datetime) -> list[sa.Row]:
    o, c = outbox.c, xero_connections.c
    new_pending = sa.and_(o.status == "pending", o.outbox_id > cursor)
    stranded = sa.and_(o.status == "pending", o.outbox_id <= cursor,
                       o.updated_at < now - STRANDED_AFTER)
    # Below the cursor and pending: released from waiting_accounts (or left behind).
    behind = sa.and_(o.status == "pending", o.outbox_id <= cursor)
    stale_sending = sa.and_(o.status == "sending", o.updated_at < now - STRANDED_AFTER)
    unknown = sa.or_(o.status == "unknown", stale_sending)
    return conn.execute(
        sa.select(
            o.partner_id,
            c.tenant_id,
            c.parked_until,
            c.status,
            sa.func.max(sa.case((new_pending, o.outbox_id), else_=None)).label("new_max"),
            sa.func.max(sa.case((unknown, o.updated_at), else_=None)).label("unknown_at"),
            sa.func.count(sa.case((stranded, 1), else_=None)).label("stranded"),
            sa.func.max(sa.case((behind, o.updated_at), else_=None)).label("released_at"),
            sa.func.max(o.outbox_id).label("max_id"),
        )
        .join(xero_connections, xero_connections.c.partner_id == o.partner_id)
        .where(sa.or_(new_pending, behind, unknown), c.tenant_id.is_not(None))
        .group_by(o.partner_id, c.tenant_id, c.parked_until, c.status)
        .order_by(o.partner_id)
        .limit(MAX_PARTNERS_PER_TICK)
    ).all()


def _run_key(row: sa.Row, now: dt.datetime) -> str | None:
    if row.new_max is not None:
        return f"push:{row.partner_id}:{row.new_max}"
    if row.unknown_at is not None:
        stamp = row.unknown_at if isinstance(row.unknown_at, dt.datetime) else str(row.unknown_at)
        return f"push:{row.partner_id}:{row.max_id}:unknown:{stamp}"
    if row.stranded:
        bucket = int(now.timestamp()) // STRANDED_BUCKET_SECONDS
        return f"push:{row.partner_id}:{row.max_id}:stranded:{bucket}"
    if row.released_at is not None:
        stamp = row.released_at if isinstance(row.released_at, dt.datetime) else str(row.released_at)
        return f"push:{row.partner_id}:{row.max_id}:released:{stamp}"
    return None


@dg.sensor(job=push_job, minimum_interval_seconds=30,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Launches push_job for partners with outbox rows to write to Xero.")
def payment_outbox_sensor(context: dg.SensorEvaluationContext,
                          platform: PlatformResource) -> dg.SensorResult:
    cursor = int(context.cursor or 0)
    now = dt.datetime.now(dt.timezone.utc)
    with platform.engine.connect() as conn:
        rows = _claimable_by_partner(conn, cursor, now)
    requests: list[dg.RunRequest] = []
    skipped: list[str] = []
    for row in rows:
        if not is_partner_id(row.partner_id):  # a bad row is logged and skipped, never fatal
            context.log.warning(f"outbox rows of partner {row.partner_id!r} skipped: not a valid "
                                "partner id (fix the partner row)")
            continue
        if row.status != "connected":
            # Disconnected / needs re-authorisation / still onboarding: no run, rows wait visibly
            # (pending/unknown on the status page) and go out once the connection is back.
            skipped.append(f"{row.partner_id} ({row.status})")
            continue
        parked = row.parked_until is not None and _aware(row.parked_until) > now
        known = context.instance.has_dynamic_partition(push_job.partitions_def.name, row.partner_id)
        key = _run_key(row, now)
        if parked or not known or key is None:
            skipped.append(row.partner_id)
            continue
        requests.append(dg.RunRequest(
            run_key=key,
            partition_key=row.partner_id,
            tags={"xero/tenant": row.tenant_id, "xero/partner": row.partner_id,
                  "xero/phase": "push"},
        ))
    new_cursor = max([cursor, *(r.new_max for r in rows if r.new_max is not None)])
    if skipped:
        context.log.info(f"not pushing now (not connected, parked or not yet a partition): {skipped}")
    return dg.SensorResult(run_requests=requests, cursor=str(new_cursor))


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
