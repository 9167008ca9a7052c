"""Every use of a private Dagster API, behind one small named function each.

The rest of the package imports only this module for these; tests/test_dagster_private.py
checks, against the installed Dagster, that each private thing still exists with the shape used
here, and names what to re-check when an upgrade changes it. Written against Dagster 1.13.27
(dagster-postgres 0.29.x). What each one buys:

- `store_runless_materializations` (`EventLogStorage.store_event_batch`, `DagsterEvent`,
  `StepMaterializationData`, `RUNLESS_JOB_NAME`/`RUNLESS_RUN_ID` from `dagster._core`): the
  months before an organisation's first transaction and a moved partner's months are written
  as runless materializations, one INSERT per asset and batch instead of one transaction per
  event: about 3,000 events/s on PostgreSQL against ~170/s one at a time
  (`report_runless_asset_event`, or a tick's `asset_events` handed to the daemon);
  docs/operations.md, "Partitions". Public fallback: `instance.report_runless_asset_event`
  per event (same rows, ~18x slower).
- `postgres_storage_config` and `pool_postgres_storages` (`dagster._core.storage.config.pg_config`,
  dagster-postgres's per-storage `optimize_for_webserver`): `deploy/pg_storage.py` keeps the
  webserver's pooled engines in every process. One run of a partner's last 12 months opened 912
  PostgreSQL connections with dagster-postgres's `NullPool` (3.6 s of an 8.8 s run in
  `psycopg2.connect`); pooled, the run took 2.9 s (bench/README.md, "The time was the run
  machinery"), and tests/deploy/test_pg_storage.py checks that a 12-month run opens at most 6
  connections where dagster-postgres opens more than 40. Public fallback: `storage: postgres:`.
- `code_server_answers` (`dagster._grpc.client.DagsterGrpcClient.ping`): deploy-local knows a
  code server is serving without starting a process per probe. No figure measured; the public
  fallback is `dagster api grpc-health-check -p PORT` as a subprocess per probe.
- `DAEMON_MODULE` (`python -m dagster._daemon`): the daemon runs under this interpreter
  (`sys.executable`), so the venv that runs deploy-local is the one that serves the code,
  whatever PATH says. No figure: it is about which Python runs, not speed. Public fallback: the
  `dagster-daemon` console script next to the interpreter.
- `tick_partitions_loader` (`SensorEvaluationContext.caching_dynamic_partitions_loader`, not in
  Dagster's API docs): a sensor checks its batch of partner partitions through the tick's cache,
  so Dagster's own check of each partitioned RunRequest reads the cache instead of making one
  storage query per request (≈15-45 ms a request on dagster-postgres, bench/README.md, item 4).
  When missing, callers ask the instance (correct, slower).
- `add_run_tags` (`DagsterInstance.add_run_tags`, not marked public): a run launched by hand
  (UI, backfill) gets its partner/tenant/phase tags as it starts (jobs/run_tags.py), so the
  Runs list filters it and the run-failure sensor can name its partner. No speed figure:
  Dagster has no public way to tag a run after it is queued.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence

import dagster as dg

TESTED_WITH = "1.13.27"

# `python -m DAEMON_MODULE run -w workspace.yaml` is what the `dagster-daemon` script runs.
DAEMON_MODULE = "dagster._daemon"


def store_runless_materializations(instance: dg.DagsterInstance,
                                   events: Sequence[dg.AssetMaterialization]) -> None:
    """Write `events` to the event log in one insert, as runless materializations (the rows
    `report_runless_asset_event` writes one by one). The storage updates an asset's
    latest-materialization row from the last event of a batch: give it one asset's events."""
    from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
    from dagster._core.instance.utils import RUNLESS_JOB_NAME, RUNLESS_RUN_ID

    now = time.time()
    entries = [
        dg.EventLogEntry(
            user_message="",
            level=logging.INFO,
            job_name=RUNLESS_JOB_NAME,
            run_id=RUNLESS_RUN_ID,
            error_info=None,
            timestamp=now,
            step_key=None,
            dagster_event=DagsterEvent(
                event_type_value=DagsterEventType.ASSET_MATERIALIZATION.value,
                event_specific_data=StepMaterializationData(event),
                job_name=RUNLESS_JOB_NAME,
            ),
        )
        for event in events
    ]
    instance.event_log_storage.store_event_batch(entries)


def postgres_storage_config():
    """dagster-postgres's `storage: postgres:` config schema (postgres_url or postgres_db)."""
    from dagster._core.storage.config import pg_config

    return pg_config()


def pool_postgres_storages(storage, statement_timeout: int, pool_recycle: int, max_overflow: int) -> None:
    """Give a `DagsterPostgresStorage`'s run, event-log and schedule storages the pooled engine
    the webserver uses (`optimize_for_webserver`), in any process."""
    for part in (storage.run_storage, storage.event_log_storage, storage.schedule_storage):
        part.optimize_for_webserver(statement_timeout, pool_recycle, max_overflow)


def code_server_answers(host: str, port: int, echo: str = "deploy") -> bool:
    """The Dagster gRPC code server at host:port answers a ping (it loads the definitions
    before it serves)."""
    from dagster._grpc.client import DagsterGrpcClient

    try:
        return DagsterGrpcClient(port=port, host=host).ping(echo)["echo"] == echo
    except Exception:  # any gRPC error: not serving yet  # noqa: BLE001
        return False


def tick_partitions_loader(context):
    """The sensor tick's caching dynamic-partitions loader (has `get_existing_dynamic_partitions`),
    or None (a schedule tick, or a context built without an instance ref)."""
    return getattr(context, "caching_dynamic_partitions_loader", None)


def add_run_tags(instance: dg.DagsterInstance, run_id: str, tags: Mapping[str, str]) -> None:
    """Add `tags` to the run `run_id` (already queued or started)."""
    instance.add_run_tags(run_id, tags)
