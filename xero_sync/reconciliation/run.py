"""One partner's reconciliation, whatever launched it: the `reconciliation_diff` asset (UI, the
after-push sensor's runs) and `reconcile_cohort_job` (the daily schedule) call `reconcile_partner`
(a plain function: it raises TenantBusy or XeroRefused, connect/refusals.py, and the Dagster glue
turns those into dg.Failure).

It reads Xero (xero_reads, under the tenant's lock), diffs, and in one transaction
stores the diff, its result per partner (store/partner_work.py: when, differences,
unexplained) and the repairs a push can make. A red result (unexplained differences) is recorded
as the partner's failure of `check:no_unexplained_differences` (the failure path partner_health
and the Integrations card show) until a later reconciliation of that partner passes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Protocol, TypeGuard
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from xero_sync.connect.refusals import xero_calls
from xero_sync.store import connections, partner_work
from xero_sync.reconciliation import diffs
from xero_sync.store.connections import Connection
from xero_sync.reconciliation.xero_reads import XeroSide, read_xero_side
from xero_sync.push import repairs
from xero_sync.xero.client import XeroClient
from xero_sync.sync import reconcile
from xero_sync.sync.month_slices import utc_today
from xero_sync.sync.failure_policy import check_work

CHECK_NAME = "no_unexplained_differences"
PHASE = "reconcile"


class Log(Protocol):
    """Where the run's notes go: a logger, Dagster's context.log, or a cohort worker's collector."""

    def info(self, msg: str, /) -> None: ...

    def warning(self, msg: str, /) -> None: ...


@dataclass(frozen=True)
class Reconciled:
    partner_id: str
    diff: pd.DataFrame
    stored: int
    repaired: list[str]
    pulled: XeroSide
    computed_at: dt.datetime
    second_look_calls: int = 0

    @property
    def unexplained(self) -> pd.DataFrame:
        return reconcile.unexplained(self.diff)


def reconcile_partner(engine: sa.Engine, client_for: Callable[[Connection], XeroClient],
                      partner_id: str, log: Log,
                      run_id: str | None, job: str) -> Reconciled:
    """`client_for`: XeroResource.client_for, or a cohort's thread-safe wrapper of it.

    Xero is read twice under one hold of the tenant's lock: the payouts and the payments account
    before the diff, the evidence for its repairs and warnings after it (push/repairs.py)."""
    as_of = utc_today()
    with engine.begin() as conn:
        connection = connections.get_connection(conn, partner_id)
        to_check = diffs.payouts_to_check(conn, partner_id)
    readable = connection if _readable(log, connection, partner_id) else None
    client = client_for(readable) if readable is not None else None
    with contextlib.ExitStack() as held:
        if client and readable is not None:
            # One run calls Xero per tenant at a time, however it was launched (store/tenant_lock.py).
            held.enter_context(xero_calls(engine, readable, f"reconciliation diff of {partner_id}"))
        pulled = (read_xero_side(client, readable, to_check, as_of) if client and readable is not None
                  else XeroSide(as_of))
        with engine.begin() as conn:
            inputs = diffs.load_reconcile_input(
                conn, partner_id, pulled.payout_amounts,
                payments_account_minor=pulled.payments_account_minor, as_of=pulled.as_of)
        diff = reconcile.diff(inputs)
        looked = (repairs.second_look(engine, client, readable, diff) if client and readable is not None
                  else repairs.SecondLook(diff))
    diff = looked.diff
    open_rows = reconcile.unexplained(diff)
    at = dt.datetime.now(dt.timezone.utc)
    with engine.begin() as conn:
        stored = diffs.save_diff(conn, partner_id, diff, computed_at=at)
        partner_work.record_reconciliation(conn, partner_id, partner_work.Reconciliation(
            at, len(diff), len(open_rows), run_id))
        repaired = diffs.enqueue_repairs(conn, partner_id, diff, looked.proofs)
        if open_rows.empty:
            partner_work.work_succeeded(conn, partner_id, [check_work(CHECK_NAME)], phase=PHASE, at=at)
        else:
            partner_work.work_failed(conn, partner_id, [check_work(CHECK_NAME)], job=job, at=at, run_id=run_id,
                                     message=red_message(open_rows, partner_id))
            partner_work.record_phase_success(conn, partner_id, PHASE, at)
    if repaired:
        log.info(f"re-queued {len(repaired)} writes Xero showed gone: {repaired[:10]}")
    return Reconciled(partner_id, diff, stored, repaired, pulled, at, looked.calls)


def red_message(open_rows: pd.DataFrame, partner_id: str) -> str:
    """`2 unexplained difference(s) (payment_missing_in_xero 1, ...); xero-sync diff ...`."""
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(reconcile.summary(open_rows).items()))
    return (f"{len(open_rows)} unexplained difference(s) ({kinds}); `xero-sync diff --partner "
            f"{partner_id}` lists them with the action to take")


def _readable(log: Log, connection: Connection | None, partner_id: str) -> TypeGuard[Connection]:
    """Xero is read only once the accounts are set up and while the partner is not parked:
    otherwise nothing is read (the outbox's word is used for payouts) and nothing re-queued."""
    if connection is None or connection.payments_account_is_bank is None:
        return False
    if connection.is_parked(dt.datetime.now(dt.timezone.utc)):
        # Spending calls while Xero's daily window is closed would only earn more 429s.
        until = f"{connection.parked_until:%Y-%m-%d %H:%M} UTC"
        log.warning(f"partner {partner_id} is parked until {until}: Xero not read, the "
                    "outbox's word is used for payouts and the balance is not checked")
        return False
    return True
