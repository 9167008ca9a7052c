"""payment_outbox_sensor: launch a push run per partner with outbox rows to write.

Discovery only (no writes besides the cursor): one bounded, grouped query per tick over the rows
still to write (pending, unknown, stale sending), at most MAX_PARTNERS_PER_TICK partners, taken
round-robin by partner id after the cursor (the last partner looked at), so a tick's cost follows
the partners with work and nobody starves behind the first few hundred ids. A partner's run_key
says what it is for, so asking again for the same work is deduplicated by Dagster:
`push:{partner}:{max pending id}` for pending rows (a new row gives a new run), a key carrying the
latest update of the `unknown` rows that are due (a lost answer to re-send while Xero remembers its
key, or to look up once it cannot be in flight; a row waiting in between asks for no run, so the
run asked for when it becomes due is the only one), and a key per
STRANDED_BUCKET for pending rows left behind for STRANDED_AFTER (e.g. the partner was parked).
Rows released by Set Up Accounts (outbox.RELEASED_NOTE) get a key carrying their release time,
so they are pushed on the next tick, not minutes later. Partners that are not
`connected` (disconnected, needs_reauth, onboarding) or parked get no run: their rows wait,
visible, and go out when the connection is back; a partner row with an invalid id is logged and
skipped.
"""


import datetime as dt
import functools

import dagster as dg
import sqlalchemy as sa

from xero_sync.jobs.push import push_job_for
from xero_sync.partitions import existing_partners
from xero_sync.core.ids import is_partner_id
from xero_sync.store.outbox_work import SettleWindows, partners_with_work
from xero_sync.push.settle import Timing
from xero_sync.resources.platform import PlatformResource
from xero_sync.sensors.intervals import interval
from xero_sync.shards.layout import Shard, shard as shard_at
from xero_sync.xero.client import longest_write_seconds
from xero_sync.store.states import ConnectionStatus

MAX_PARTNERS_PER_TICK = 200
# Seconds between ticks: a payment reaches Xero within seconds (issue 20: p50 <= 10 s). The
# daemon's sensor loop runs every 5 s (Dagster's MIN_INTERVAL_LOOP_TIME), so a shorter interval
# means "every loop"; 5 itself would skip every other loop whose start drifts a few ms early. A
# tick with nothing to write is one indexed query (see partners_with_work), so this costs little.
# XERO_SYNC_SENSOR_INTERVAL, which shortens the other sensors, never lengthens this one.
TICK_SECONDS = 1
# Queued push runs start before the tenant's queued reads (a webhook's sync, a re-read): the
# tenant's one run slot goes to the payment first (QueuedRunCoordinator dequeues by priority).
PRIORITY_TAG = "dagster/priority"
PUSH_PRIORITY = "10"
STRANDED_AFTER = dt.timedelta(minutes=5)
# An unknown row a push just touched (e.g. Xero said 409 "still processing") is asked for again
# after this long, as with the former 30-second interval: the faster ticks must not spend its
# MAX_ATTEMPTS sends within Xero's key window.
UNKNOWN_RETRY_AFTER = dt.timedelta(seconds=30)
STRANDED_BUCKET_SECONDS = 600


def settle_windows(now: dt.datetime) -> SettleWindows:
    """The push's own timing (push/settle.py, the client's default timeouts), as cut-offs."""
    timing = Timing(in_flight_seconds=longest_write_seconds())
    return SettleWindows(
        resend_after=now - dt.timedelta(seconds=timing.key_window_seconds),
        look_up_before=now - dt.timedelta(seconds=timing.in_flight_seconds + timing.read_lag_seconds),
        retry_before=now - UNKNOWN_RETRY_AFTER)


def _run_key(row: sa.Row, now: dt.datetime) -> str | None:
    if row.unknown_at is not None:  # first: the run settles these and writes the pending ones
        stamp = row.unknown_at if isinstance(row.unknown_at, dt.datetime) else str(row.unknown_at)
        return f"push:{row.partner_id}:{row.max_id}:unknown:{stamp}"
    if row.released_at is not None:  # released by Set Up Accounts: on the next tick
        stamp = row.released_at if isinstance(row.released_at, dt.datetime) else str(row.released_at)
        return f"push:{row.partner_id}:{row.pending_max}:released:{stamp}"
    if row.pending_max is not None and row.fresh:
        return f"push:{row.partner_id}:{row.pending_max}"
    if row.pending_max is not None:  # pending, none of it fresh: left behind
        bucket = int(now.timestamp()) // STRANDED_BUCKET_SECONDS
        return f"push:{row.partner_id}:{row.max_id}:stranded:{bucket}"
    return None


@functools.cache
def payment_outbox_sensor_for(shard: Shard, every: int | None = None) -> dg.SensorDefinition:
    """Pushes for this shard's partners."""

    @dg.sensor(name="payment_outbox_sensor", job=push_job_for(shard),
               minimum_interval_seconds=min(interval(TICK_SECONDS, every), TICK_SECONDS),
               default_status=dg.DefaultSensorStatus.RUNNING,
               description="Launches push_job for partners with outbox rows to write to Xero.")
    def payment_outbox_sensor(context: dg.SensorEvaluationContext,
                              platform: PlatformResource) -> dg.SensorResult:
        now = dt.datetime.now(dt.timezone.utc)
        with platform.engine.connect() as conn:
            rows = partners_with_work(conn, context.cursor or None, now, limit=MAX_PARTNERS_PER_TICK,
                                      stranded_after=STRANDED_AFTER, settle=settle_windows(now),
                                      shard=shard.index)
        known_partners = existing_partners(context, [r.partner_id for r in rows if is_partner_id(r.partner_id)],
                                           shard.partners)
        requests: list[dg.RunRequest] = []
        skipped: list[str] = []
        for row in rows:
            if not is_partner_id(row.partner_id):  # a bad row is logged and skipped, never fatal
                context.log.warning(f"outbox rows of partner {row.partner_id!r} skipped: not a valid "
                                    "partner id (fix the partner row)")
                continue
            if row.status != ConnectionStatus.CONNECTED:
                # Disconnected / needs re-authorisation / still onboarding: no run, rows wait visibly
                # (pending/unknown on the status page) and go out once the connection is back.
                skipped.append(f"{row.partner_id} ({row.status})")
                continue
            parked = row.parked_until is not None and _aware(row.parked_until) > now
            known = row.partner_id in known_partners
            key = _run_key(row, now)
            if parked or not known or key is None:
                skipped.append(row.partner_id)
                continue
            requests.append(dg.RunRequest(
                run_key=key,
                partition_key=row.partner_id,
                tags={"xero/tenant": row.tenant_id, "xero/partner": row.partner_id,
                      "xero/phase": "push", PRIORITY_TAG: PUSH_PRIORITY},
            ))
        if skipped:
            context.log.info(f"not pushing now (not connected, parked or not yet a partition): {skipped}")
        # The last partner looked at: the next tick starts after it (rows are in partner id order).
        cursor = rows[-1].partner_id if rows else context.cursor
        return dg.SensorResult(run_requests=requests, cursor=cursor)

    return payment_outbox_sensor


payment_outbox_sensor = payment_outbox_sensor_for(shard_at(0))


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
