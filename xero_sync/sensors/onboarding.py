"""new_connection_sensor: drives a partner's initial sync, from *Pending* to *Connected*.

Each tick, for every pending connection: add the partner partition, then request the next range
run that `sync.onboarding.next_step` names (recent 12 months at high priority, then history
chunks newest first at low priority, one at a time), record progress (months done / total) on the
connection, and mark it connected once every planned month has succeeded and the months before the
organisation's first transaction are recorded as materialized-empty (runless events the daemon
records from the tick's result; no Xero call: nothing can be dated before the first
transaction, and the first month's window is open at the start), so a Connected partner shows
100% in the UI. The sensor
only reads Dagster's run and materialization records and writes progress to our own store; every
Xero call happens in the launched runs.
"""


import datetime as dt

import dagster as dg

from xero_sync.assets.platform_records import platform_records
from xero_sync.assets.xero_records import xero_records
from xero_sync.jobs.onboarding import onboarding_job
from xero_sync.jobs.run_tags import connection_tags
from xero_sync.partitions import HISTORY_START, check_partner_key, partition_key, partners, range_tags
from xero_sync.platform import connections
from xero_sync.resources.platform import PlatformResource
from xero_sync.platform import quality
from xero_sync.sync.month_slices import months_in
from xero_sync.sync.onboarding import OnboardingState, history_chunk_months, next_step

MAX_ATTEMPTS = 5  # per range; after that a person looks at the failed runs
IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def materialized_months(instance: dg.DagsterInstance, partner_id: str) -> frozenset[dt.date]:
    keys = instance.get_materialized_partitions(dg.AssetKey("platform_invoices"))
    suffix = f"|{partner_id}"
    return frozenset(dt.date.fromisoformat(k.split("|", 1)[0]) for k in keys if k.endswith(suffix))


def onboarding_runs(instance: dg.DagsterInstance, partner_id: str, statuses=None) -> list[dg.DagsterRun]:
    return list(
        instance.get_runs(
            filters=dg.RunsFilter(tags={"xero/partner": partner_id, "xero/phase": "onboarding"}, statuses=statuses or [])
        )
    )


def missing_empty_history(instance: dg.DagsterInstance, partner_id: str,
                          first_month: dt.date | None) -> list[dg.AssetMaterialization]:
    """Materialized-empty events still to record for the months from the oldest partition up to
    the organisation's first transaction, for every partner x month asset (none when the first
    month is the oldest partition). Only what is missing, so a tick that was cut short while the
    daemon recorded them is completed by the next one."""
    if first_month is None or first_month <= HISTORY_START:
        return []
    months = {str(partition_key(partner_id, m)): m for m in months_in(HISTORY_START, first_month)}
    why = (f"before the organisation's first transaction (first month {first_month:%Y-%m}): "
           "nothing to read, so no Xero call was made")
    events = []
    for key in (*xero_records.keys, *platform_records.keys):
        # Bounded by this partner's early months (an interrupted tick may have recorded some twice).
        found = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=list(months)), limit=4 * len(months)
        ).records
        done = {r.partition_key for r in found}
        events += [
            dg.AssetMaterialization(
                asset_key=key, partition=partition,
                metadata={"month": f"{month:%Y-%m}", "records_pulled": 0, "empty_because": why,
                          "source": "onboarding"},
            )
            for partition, month in months.items() if partition not in done
        ]
    return events


@dg.sensor(
    job=onboarding_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Initial sync of newly connected partners: last 12 months first, then history.",
)
def new_connection_sensor(context: dg.SensorEvaluationContext, platform: PlatformResource):
    instance = context.instance
    known = set(partners.get_partition_keys(dynamic_partitions_store=instance))
    now = dt.datetime.now(dt.timezone.utc)
    to_add: list[str] = []
    requests: list[dg.RunRequest] = []
    events: list[dg.AssetMaterialization] = []
    with platform.begin() as conn:
        pending = connections.list_connections(conn, statuses=["pending"])
    for connection in pending:
        partner_id = check_partner_key(connection.partner_id)
        if partner_id not in known:
            to_add.append(partner_id)
        state = OnboardingState(
            today=now.date(),
            first_month=connection.first_month,
            oldest_partition=HISTORY_START,
            materialized=materialized_months(instance, partner_id) if partner_id in known else frozenset(),
            in_flight=bool(onboarding_runs(instance, partner_id, IN_FLIGHT)),
            parked=connection.is_parked(now),
        )
        with platform.begin() as conn:
            recent_records = quality.recent_record_count(conn, partner_id, now.date())
            step = next_step(state, history_chunk_months(recent_records))
            connections.record_progress(conn, partner_id, step.months_done, step.months_total)
            empty = missing_empty_history(instance, partner_id, connection.first_month) if step.complete else []
            if empty:
                # Recorded by the daemon after this tick; the next tick finds them and connects.
                events += empty
                context.log.info(f"partner {partner_id}: {len(empty)} months x assets before the first "
                                 "transaction marked materialized-empty")
            elif step.complete:
                connections.mark_connected(conn, partner_id)
                context.log.info(f"partner {partner_id}: initial sync complete ({step.months_total} months)")
            elif connection.parked_until and not state.parked:
                connections.unpark(conn, partner_id)
        if step.request is None:
            continue
        req = step.request
        range_key = f"{partner_id}:{req.key}"
        attempts = len(instance.get_runs(filters=dg.RunsFilter(tags={"xero/range": range_key})))
        if attempts >= MAX_ATTEMPTS:
            context.log.warning(f"partner {partner_id}: {req.key} failed {attempts} times; not retrying")
            continue
        requests.append(
            dg.RunRequest(
                run_key=f"onboard:{range_key}:{attempts}",
                tags={
                    **range_tags(partner_id, req.months[0], req.months[-1]),
                    **connection_tags(connection, "onboarding"),
                    "xero/range": range_key,
                    "dagster/priority": str(req.priority),
                },
            )
        )
    return dg.SensorResult(
        run_requests=requests,
        asset_events=events,
        dynamic_partitions_requests=[partners.build_add_request(to_add)] if to_add else [],
    )
