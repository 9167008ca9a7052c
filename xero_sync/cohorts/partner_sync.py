"""One partner's share of a cohort run: the same pulls as the per-partner runs, and its outcome
recorded on its connection.

Each partner gets its own Xero client (its own tenant budget; the app-wide budget is shared
through the store), holds its tenant's lock while it calls Xero and turns Xero's refusals into
connection state exactly like a per-partner run (connect/refusals.py, glue/failures.py). A partner that is no
longer due when the run reaches it (disconnected, needs re-auth, parked since the tick) is
skipped, not failed. Its failure and success are recorded by the same policy as
`partner_run_failure_sensor` / `partner_run_success_sensor` (sync/failure_policy.py): per partner
and per work (the reread's assets over its months, the incremental job, the reconciliation), so a
success clears only the same work's earlier failure.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import dagster as dg

from xero_sync.glue.failures import sync_failures
from xero_sync.glue.metadata import (
    changes_materializations,
    check_evaluations,
    diff_metadata,
    months_materializations,
)
from xero_sync.store import connections, partner_work
from xero_sync.store.connections import Connection
from xero_sync.reconciliation.run import Reconciled, reconcile_partner
from xero_sync.pulls.changes import pull_changes
from xero_sync.pulls.metadata import platform_checks, xero_checks
from xero_sync.pulls.months import apply_months, pull_months
from xero_sync.resources.platform import PlatformResource
from xero_sync.resources.xero import XeroResource
from xero_sync.shards.layout import Shard
from xero_sync.sync.failure_policy import Work
from xero_sync.xero.client import XeroClient
from xero_sync.store.states import ConnectionStatus

# A push holds a tenant for seconds; a partner whose tenant stays busy longer (an onboarding
# run) fails for this tick and is pulled again on the next one.
COHORT_LOCK_WAIT_SECONDS = 30.0


class NotDue(Exception):
    """The partner no longer needs this sync (not connected, or parked): skipped, not failed."""


@dataclass(frozen=True)
class PartnerResult:
    events: list  # AssetMaterialization / AssetCheckEvaluation to report, in order
    summary: str
    reconciled: Reconciled | None = None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class PartnerSync:
    """The per-partner work of one cohort run; its methods run on the cohort's worker threads."""

    def __init__(self, shard: Shard, xero: XeroResource, platform: PlatformResource,
                 lock_wait: float = COHORT_LOCK_WAIT_SECONDS) -> None:
        self.shard, self.xero, self.platform, self.lock_wait = shard, xero, platform, lock_wait
        self._resource_lock = threading.Lock()  # the resources set themselves up lazily
        with self._resource_lock:
            platform.engine  # noqa: B018  (one engine, created before the threads share it)

    def _due(self, partner_id: str) -> Connection:
        with self.platform.begin() as conn:
            connection = connections.get_connection(conn, partner_id)
        if connection is None:
            raise NotDue(f"partner {partner_id} has no connection")
        if connection.status != ConnectionStatus.CONNECTED:
            raise NotDue(f"partner {partner_id} is {connection.status}")
        if connection.is_parked(_now()):
            raise NotDue(f"partner {partner_id} is parked until {connection.parked_until:%Y-%m-%d %H:%M} UTC")
        return connection

    def _client(self, connection: Connection) -> XeroClient:
        with self._resource_lock:
            return self.xero.client_for(connection)

    def changes(self, partner_id: str) -> PartnerResult:
        """The incremental pull (If-Modified-Since) of one partner."""
        connection = self._due(partner_id)
        with sync_failures():
            changes = pull_changes(self.platform.engine, self._client(connection), connection,
                                   lock_wait=self.lock_wait)
        return PartnerResult(changes_materializations(self.shard, changes),
                             f"{changes.records}; api calls {changes.calls}")

    def reread(self, partner_id: str, months: list[dt.date]) -> PartnerResult:
        """The daily re-read of `months` (ascending) of one partner: pulled, landed, applied."""
        connection = self._due(partner_id)
        with sync_failures():
            pulled = pull_months(self.platform.engine, self._client(connection), connection, months,
                                 lock_wait=self.lock_wait, read_organisation=True)
        applied = apply_months(self.platform.engine, partner_id, months)
        events: list[dg.AssetMaterialization | dg.AssetCheckEvaluation] = [
            *months_materializations(self.shard, pulled, applied),
            *check_evaluations(self.shard, partner_id, xero_checks(pulled) + platform_checks(applied))]
        pulled_counts = {e: len(r.records) for e, r in pulled.reads.items()}
        return PartnerResult(events, f"{pulled_counts}; api calls {pulled.stats.get('calls', 0)}")

    def reconcile(self, partner_id: str, run_id: str | None, job: str) -> PartnerResult:
        """The reconciliation of one partner (the reconciliation_diff asset's work); what it
        would log goes into the summary, which the run logs from its own thread."""
        self._due(partner_id)
        notes = _Notes()
        with sync_failures():
            done = reconcile_partner(self.platform.engine, self._client, partner_id, notes, run_id, job)
        event = dg.AssetMaterialization(asset_key=self.shard.key("reconciliation_diff"),
                                        partition=partner_id, metadata=diff_metadata(done))
        summary = f"{len(done.diff)} differences, {len(done.unexplained)} unexplained"
        return PartnerResult([event], "; ".join([summary, *notes.lines]), done)


class _Notes:
    """A logger for a worker thread: keeps the lines for the run's own thread to log."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str) -> None:
        self.lines.append(message)

    warning = info


def record_failure(platform: PlatformResource, partner_id: str, works: Iterable[Work], job: str,
                   message: str, run_id: str | None) -> None:
    """What `partner_run_failure_sensor` records for a failed per-partner run of the same work."""
    with platform.begin() as conn:
        partner_work.work_failed(conn, partner_id, works, job=job, at=_now(), message=message, run_id=run_id)


def record_success(platform: PlatformResource, partner_id: str, works: Iterable[Work], phase: str,
                   job: str) -> None:
    """What `partner_run_success_sensor` does for a successful per-partner run of the same work:
    clears that work's (and the job's) earlier failures and notes the phase's success."""
    with platform.begin() as conn:
        partner_work.work_succeeded(conn, partner_id, works, phase=phase, at=_now(), job=job)
