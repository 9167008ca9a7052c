"""Partner health's evidence in the store (SQLite and PostgreSQL): failures per partner and work,
cleared only by a later success of the same work; phase successes; the latest reconciliation;
the after-push query; and all of it written from many threads at once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from xero_sync.store import connections, partner_work
from xero_sync.store import health as store
from xero_sync.store.schema import outbox, partner_failures, partner_work_successes, partners, xero_connections
from xero_sync.sync.failure_policy import Work, asset_works, check_work, job_work

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.timezone.utc)
MIN = dt.timedelta(minutes=1)


def _record(conn, works, at=NOW, job="__ASSET_JOB", message="HTTP 503 from Xero"):
    return partner_work.record_failure(conn, "acme", works, job=job, at=at, message=message, run_id="r1")


def _open(conn) -> set[str]:
    return {f.work.label() for f in partner_work.open_failures(conn).get("acme", [])}


def test_a_failed_backfill_is_cleared_only_by_the_same_asset_over_its_months(store_engine):
    backfill = asset_works(["xero_invoices"], ["2024-01-01|acme", "2024-03-01|acme"])
    with store_engine.begin() as conn:
        connections.ensure_partner(conn, "acme", "Acme")
        assert _record(conn, backfill)
        _record(conn, [job_work("push_job")], at=NOW - MIN, job="push_job")
        # Another asset for the same partner (issue 20 item 3), part of the months, an earlier
        # success, another job: nothing cleared.
        assert partner_work.clear_failures(conn, "acme", asset_works(["reconciliation_diff"], []), NOW + MIN) == 0
        assert partner_work.clear_failures(conn, "acme", asset_works(["xero_invoices"], ["2024-02-01|acme"]), NOW + MIN) == 0
        assert partner_work.clear_failures(conn, "acme", backfill, NOW - MIN) == 0
        assert partner_work.clear_failures(conn, "acme", [job_work("onboarding_job")], NOW + MIN) == 0
        assert _open(conn) == {"xero_invoices 2024-01..2024-03", "push_job"}
        assert store.last_failure(conn, "acme").job == "__ASSET_JOB"  # the card: the latest run's job
        # The same asset over covering months clears it; the card then shows what is left.
        wider = asset_works(["xero_invoices", "xero_payments"], ["2023-12-01|acme", "2024-06-01|acme"])
        assert partner_work.clear_failures(conn, "acme", wider, NOW + MIN) == 1
        assert _open(conn) == {"push_job"} and store.last_failure(conn, "acme").job == "push_job"
        # The cohort job and its per-partner job are the same work.
        assert partner_work.clear_failures(conn, "acme", [job_work("push_job")], NOW + MIN) == 1
        assert store.last_failure(conn, "acme") is None


def test_a_check_failure_is_its_own_work(store_engine):
    with store_engine.begin() as conn:
        connections.ensure_partner(conn, "acme", "Acme")
        _record(conn, [check_work("no_unexplained_differences")], job="reconciliation_job")
        # A successful run of the asset does not clear the red result; only the check passing does.
        assert partner_work.clear_failures(conn, "acme", asset_works(["reconciliation_diff"], []), NOW + MIN) == 0
        assert partner_work.clear_failures(conn, "acme", [check_work("no_unexplained_differences")], NOW + MIN) == 1
    assert job_work("incremental_cohort_job") == job_work("incremental_sync_job")
    assert Work("xero_invoices").covers(Work("xero_invoices", "2024-01-01", "2024-01-01"))


def test_reconciliation_and_phase_success_newer_wins(store_engine):
    with store_engine.begin() as conn:
        connections.ensure_partner(conn, "acme", "Acme")
        partner_work.record_reconciliation(conn, "acme", partner_work.Reconciliation(NOW, 3, 1, "r2"))
        partner_work.record_reconciliation(conn, "acme", partner_work.Reconciliation(NOW - MIN, 0, 0, "r1"))
        partner_work.record_phase_success(conn, "acme", "push", NOW)
        partner_work.record_phase_success(conn, "acme", "push", NOW - MIN)
    with store_engine.connect() as conn:
        assert partner_work.reconciliations(conn)["acme"] == partner_work.Reconciliation(NOW, 3, 1, "r2")
        assert partner_work.phase_successes(conn) == {"acme": {"push": NOW}}
        assert partner_work.failing_reconciliations(conn, 0) == {"acme": 1}
        facts = {f.partner_id: f for f in store.load_facts(conn, NOW)}
    assert (facts["acme"].unexplained, facts["acme"].diff_computed_at) == (1, NOW)
    assert facts["acme"].phase_successes == {"push": NOW}


def _done_write(conn, partner, n, sent_at):
    conn.execute(sa.insert(outbox).values(
        partner_id=partner, kind="payment", subject_id=f"pay_{partner}_{n}", idempotency_key=f"k-{partner}-{n}",
        reference=f"pay_{partner}_{n}", payload={}, status="done", sent_at=sent_at,
        created_at=sent_at, updated_at=sent_at))


def test_reconciliations_due_after_settled_writes(store_engine):
    settle = dt.timedelta(seconds=1100)
    with store_engine.begin() as conn:
        for pid in ("fresh", "settled", "seen", "stale-seen", "pending"):
            connections.ensure_partner(conn, pid, pid)
            connections.start_connection(conn, pid, tenant_id=f"t-{pid}", tenant_name=pid,
                                         xero_connection_id=f"c-{pid}", token_set_id=None)
            if pid != "pending":
                connections.mark_connected(conn, pid)
        _done_write(conn, "fresh", 1, NOW - MIN)                     # not settled yet
        _done_write(conn, "settled", 1, NOW - 3 * settle)
        _done_write(conn, "settled", 2, NOW - 2 * settle)
        _done_write(conn, "seen", 1, NOW - 2 * settle)               # reconciled after it settled
        partner_work.record_reconciliation(conn, "seen", partner_work.Reconciliation(NOW - MIN, 0, 0, None))
        _done_write(conn, "stale-seen", 1, NOW - 2 * settle)         # reconciled before it settled
        partner_work.record_reconciliation(conn, "stale-seen", partner_work.Reconciliation(
            NOW - 2 * settle + MIN, 0, 0, None))
        _done_write(conn, "pending", 1, NOW - 2 * settle)            # not connected
    with store_engine.connect() as conn:
        due = partner_work.reconciliations_due_after_writes(conn, 0, NOW, settle, dt.timedelta(days=2), 200)
    assert [(d.partner_id, d.written_at) for d in due] == [
        ("settled", NOW - 2 * settle), ("stale-seen", NOW - 2 * settle)]
    assert due[0].tenant_id == "t-settled"


@pytest.mark.parametrize("threads", [8])
def test_failure_bookkeeping_from_many_threads_keeps_the_newest_and_the_mirror(store_engine, threads):
    """Sensors, cohort threads and reconciliations record and clear one partner's failures at
    once: each work ends with exactly its newest fact, and the card mirrors the latest open one."""
    with store_engine.begin() as conn:
        connections.ensure_partner(conn, "acme", "Acme")
    works = [Work(f"asset_{i % 3}") for i in range(threads)]
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait()
            for n in range(5):
                at = NOW + dt.timedelta(seconds=n * threads + i)
                with store_engine.begin() as conn:
                    if i % 4 == 3:
                        partner_work.clear_failures(conn, "acme", [Work("asset_0")], NOW - dt.timedelta(days=1))
                    else:
                        _record(conn, [works[i]], at=at, message=f"t{i} n{n}")
                    partner_work.record_reconciliation(conn, "acme", partner_work.Reconciliation(at, n, i, None))
        except BaseException as exc:  # noqa: BLE001 (reported by the main thread)
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not errors, errors
    with store_engine.connect() as conn:
        rows = conn.execute(sa.select(partner_failures.c.work, partner_failures.c.failed_at)).all()
        latest = store.last_failure(conn, "acme")
        reconciled = partner_work.reconciliations(conn)["acme"]
    writers: dict[str, dt.datetime] = {}
    for i in range(threads):
        if i % 4 != 3:  # recorders; their last write is at n = 4
            last = NOW + dt.timedelta(seconds=4 * threads + i)
            writers[works[i].name] = max(last, writers.get(works[i].name, last))
    assert {r.work: partner_work._aware(r.failed_at) for r in rows} == writers
    assert latest.at == max(writers.values())
    assert reconciled.computed_at == NOW + dt.timedelta(seconds=4 * threads + threads - 1)


def test_a_failure_recorded_before_0013_stays_open_until_its_job_succeeds(db_url):
    """The one failure per partner kept on the connection before 0013 becomes its job's open
    failure, so a later success of that job clears it (and only that)."""
    from xero_sync.store.db import make_engine, upgrade

    upgrade(db_url, "0010")
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(partners).values(partner_id="acme", name="Acme"))
            conn.execute(sa.insert(xero_connections).values(
                partner_id="acme", status="connected", last_failure_job="incremental_cohort_job",
                last_failure_at=NOW, last_failure_message="HTTP 503", last_failure_run_id="r0"))
        upgrade(db_url)
        with engine.begin() as conn:
            assert _open(conn) == {"incremental_sync_job"}
            assert partner_work.clear_failures(conn, "acme", [job_work("push_job")], NOW + MIN) == 0
            assert partner_work.clear_failures(conn, "acme", [job_work("incremental_sync_job")], NOW + MIN) == 1
            assert store.last_failure(conn, "acme") is None
    finally:
        engine.dispose()


def test_a_failure_reported_after_a_later_success_of_the_same_work_stays_cleared(store_engine):
    """Seen: a webhook's incremental_sync_job run failed at t1, the incremental cohort run synced
    the partner at t2 > t1, and the failure sensor, ticking after both, recorded the failure (its
    look for later successes saw runs of its own job only): open until the next incremental
    success. Whoever reports first, a later success of the same work wins."""
    incremental = [job_work("incremental_sync_job")]
    backfill = asset_works(["xero_invoices"], ["2024-01-01|acme", "2024-03-01|acme"])
    with store_engine.begin() as conn:
        connections.ensure_partner(conn, "acme", "Acme")
        partner_work.work_succeeded(conn, "acme", incremental, phase="incremental", at=NOW,
                                    job="incremental_cohort_job")
        partner_work.work_failed(conn, "acme", incremental, job="incremental_sync_job", at=NOW - MIN,
                                 message="HTTP 503", run_id="r1")
        assert _open(conn) == set()
        # A failure after the success stays; so does one whose later success was other months.
        partner_work.work_succeeded(conn, "acme", asset_works(["xero_invoices"], ["2024-02-01|acme"]),
                                    phase="manual", at=NOW, job="__ASSET_JOB")
        partner_work.work_failed(conn, "acme", incremental, job="incremental_sync_job", at=NOW + MIN,
                                 message="HTTP 503 Authorization: Bearer abc.def", run_id="r2")
        partner_work.work_failed(conn, "acme", backfill, job="__ASSET_JOB", at=NOW - MIN, message="boom",
                                 run_id="r3")
        assert _open(conn) == {"incremental_sync_job", "xero_invoices 2024-01..2024-03"}
        assert "abc.def" not in store.last_failure(conn, "acme").message  # masked, whoever reports
        # The same asset over covering months, later: cleared whether reported before or after.
        wider = asset_works(["xero_invoices"], ["2023-12-01|acme", "2024-06-01|acme"])
        assert partner_work.work_succeeded(conn, "acme", wider, phase="manual", at=NOW, job="__ASSET_JOB") == 1
        partner_work.work_failed(conn, "acme", backfill, job="__ASSET_JOB", at=NOW - MIN, message="late",
                                 run_id="r4")
        assert _open(conn) == {"incremental_sync_job"}


def test_successes_are_remembered_for_a_bounded_time(store_engine):
    incremental = [job_work("incremental_sync_job")]
    with store_engine.begin() as conn:
        connections.ensure_partner(conn, "acme", "Acme")
        partner_work.work_succeeded(conn, "acme", incremental, phase="incremental", at=NOW)
        later = NOW + partner_work.SUCCESS_MEMORY + MIN
        partner_work.work_succeeded(conn, "acme", [Work("push_job")], phase="push", at=later)
        remembered = conn.execute(sa.select(partner_work_successes.c.work).where(
            partner_work_successes.c.partner_id == "acme")).scalars().all()
        assert remembered == ["push_job"]
