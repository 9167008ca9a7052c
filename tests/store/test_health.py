"""Partner health in the store (SQLite and PostgreSQL): facts per partner, run failures on the
connection, API calls per partner and day."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa

from xero_sync.store import connections
from xero_sync.reconciliation import diffs
from xero_sync.store import health as store
from xero_sync.store.schema import outbox
from xero_sync.sync.reconcile import DIFF_COLUMNS

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.timezone.utc)
MIN = dt.timedelta(minutes=1)


def _outbox(conn, partner, n, status, created_at):
    conn.execute(sa.insert(outbox).values(
        partner_id=partner, kind="payment", subject_id=f"pay_{partner}_{n}",
        idempotency_key=f"k-{partner}-{n}", reference=f"pay_{partner}_{n}", payload={},
        status=status, created_at=created_at, updated_at=created_at))


def _diff(rows):
    frame = pd.DataFrame([{c: None for c in DIFF_COLUMNS} | r for r in rows], columns=list(DIFF_COLUMNS))
    return frame


def test_load_facts_one_row_per_partner_with_every_fact(store_engine):
    with store_engine.begin() as conn:
        for pid in ("acme", "beta", "zeta"):
            connections.ensure_partner(conn, pid, pid.title())
        connections.start_connection(conn, "acme", tenant_id="t-1", tenant_name="Acme Org",
                                     xero_connection_id="c-1", token_set_id=None)
        connections.set_plan(conn, "acme", dt.date(2024, 1, 1), 36)
        connections.record_progress(conn, "acme", 36)
        connections.mark_connected(conn, "acme")
        connections.touch_last_sync(conn, "acme", NOW - 10 * MIN)
        connections.park(conn, "acme", NOW + 60 * MIN, "daily limit")
        _outbox(conn, "acme", 1, "done", NOW - 300 * MIN)
        _outbox(conn, "acme", 2, "pending", NOW - 40 * MIN)
        _outbox(conn, "acme", 3, "unknown", NOW - 90 * MIN)       # the oldest in flight
        _outbox(conn, "acme", 4, "waiting_accounts", NOW - 900 * MIN)  # not "in flight"
        _outbox(conn, "beta", 1, "pending", NOW - 2 * MIN)
        diffs.save_diff(conn, "acme", _diff([
            {"kind": "missing_in_xero", "subject_type": "payment", "subject_id": "p1", "explained": False, "action": "push"},
            {"kind": "pending_push", "subject_type": "payment", "subject_id": "p2", "explained": True, "action": "wait"},
            {"kind": "amount_mismatch", "subject_type": "invoice", "subject_id": "i1", "explained": False, "action": "look"},
        ]), computed_at=NOW - 5 * MIN)
        diffs.save_diff(conn, "beta", _diff([]), computed_at=NOW - 5 * MIN)
        store.add_api_calls(conn, "acme", 40, NOW - 120 * MIN, day_remaining=4960)
        store.add_api_calls(conn, "acme", 2, NOW - 1 * MIN)
        store.add_api_calls(conn, "acme", 999, NOW - dt.timedelta(days=1))  # yesterday
        store.record_run_failure(conn, "acme", store.RunFailure("push_job", NOW - 3 * MIN, "boom", "r1"))

    with store_engine.connect() as conn:
        facts = {f.partner_id: f for f in store.load_facts(conn, NOW)}
    assert list(facts) == ["acme", "beta", "zeta"]
    a = facts["acme"]
    assert (a.status, a.tenant_name, a.months_done, a.months_total) == ("connected", "Acme Org", 36, 36)
    assert a.last_sync_at == NOW - 10 * MIN and a.parked_until == NOW + 60 * MIN
    assert a.outbox_by_status == {"done": 1, "pending": 1, "unknown": 1, "waiting_accounts": 1}
    assert a.oldest_pending_at == NOW - 90 * MIN
    assert a.oldest_pending_at.tzinfo is not None
    assert (a.unexplained, a.diff_computed_at) == (2, NOW - 5 * MIN)
    assert (a.api_calls_today, a.api_day_remaining) == (42, 4960)
    assert (a.last_failure_job, a.last_failure_at, a.last_failure_message) == ("push_job", NOW - 3 * MIN, "boom")
    b, z = facts["beta"], facts["zeta"]
    assert (b.status, b.outbox_by_status, b.oldest_pending_at, b.unexplained) == (
        "not_connected", {"pending": 1}, NOW - 2 * MIN, 0)
    assert (z.api_calls_today, z.api_day_remaining, z.last_failure_at, z.diff_computed_at) == (0, None, None, None)


def test_run_failures_kept_per_job_and_cleared_only_by_the_same_job(store_engine):
    with store_engine.begin() as conn:
        connections.ensure_partner(conn, "acme", "Acme")
        assert store.record_run_failure(conn, "acme", store.RunFailure("onboarding_job", NOW, "new", "r2"))
        store.record_run_failure(conn, "acme", store.RunFailure("push_job", NOW - 10 * MIN, "old", "r1"))
        assert store.last_failure(conn, "acme").message == "new"  # the card shows the latest
        assert not store.record_run_failure(conn, "ghost", store.RunFailure("x", NOW, "m", None))
        # An earlier success leaves a failure; a later one clears that job's only.
        assert not store.clear_run_failure(conn, "acme", "onboarding_job", NOW - MIN)
        assert store.clear_run_failure(conn, "acme", "push_job", NOW + MIN)
        assert store.last_failure(conn, "acme").run_id == "r2"
        assert store.clear_run_failure(conn, "acme", "onboarding_job", NOW + MIN)
        assert store.last_failure(conn, "acme") is None


def test_api_calls_add_up_per_utc_day(store_engine):
    late = dt.datetime(2026, 11, 30, 23, 59, tzinfo=dt.timezone.utc)
    early_next = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))  # 23:00 UTC on the 30th
    with store_engine.begin() as conn:
        connections.ensure_partner(conn, "acme", "Acme")
        store.add_api_calls(conn, "acme", 3, late)
        store.add_api_calls(conn, "acme", 4, early_next)
        store.add_api_calls(conn, "acme", 5, late + dt.timedelta(minutes=2))
        store.add_api_calls(conn, "acme", 0, late)  # nothing to add: no row touched
    with store_engine.connect() as conn:
        assert store.api_calls_on(conn, "acme", dt.date(2026, 11, 30)) == 7
        assert store.api_calls_on(conn, "acme", dt.date(2026, 12, 1)) == 5
