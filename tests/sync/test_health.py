"""Partner health verdicts (pure): which facts fail which check, the order, the table, the scrub."""

from __future__ import annotations

import datetime as dt

import pytest

from xero_sync.sync import health
from xero_sync.sync.health import (
    PartnerFacts,
    Thresholds,
    assess,
    safe_failure_message,
    worst_first,
)

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.timezone.utc)
MIN = dt.timedelta(minutes=1)


def facts(**kw) -> PartnerFacts:
    base = dict(partner_id="acme", name="Acme", status="connected", months_done=36, months_total=36,
                last_sync_at=NOW - 5 * MIN, diff_computed_at=NOW - 60 * MIN)
    return PartnerFacts(**{**base, **kw})


@pytest.mark.parametrize("status,last_sync_ago,stale", [
    ("connected", 5 * MIN, False),
    ("connected", 30 * MIN, False),          # exactly twice the 15-minute schedule: still fresh
    ("connected", 30 * MIN + dt.timedelta(seconds=1), True),
    ("connected", None, True),               # connected but never synced
    ("pending", 3 * 60 * MIN, False),        # onboarding: the initial sync's own runs report
    ("needs_reauth", 3 * 60 * MIN, False),   # lost: attention, not the freshness check
    ("not_connected", None, False),
])
def test_sync_stale_only_for_connected_partners_after_twice_the_schedule(status, last_sync_ago, stale):
    row = assess(facts(status=status, last_sync_at=None if last_sync_ago is None else NOW - last_sync_ago), NOW)
    assert row.sync_stale is stale
    assert (row.verdict == health.FAILING) is stale


@pytest.mark.parametrize("oldest_ago,minutes,stuck", [
    (None, 30, False),
    (29 * MIN, 30, False),
    (31 * MIN, 30, True),
    (11 * MIN, 10, True),                    # N is configurable
])
def test_writes_stuck_after_n_minutes(oldest_ago, minutes, stuck):
    f = facts(oldest_pending_at=None if oldest_ago is None else NOW - oldest_ago,
              outbox_by_status={"pending": 2, "done": 5})
    row = assess(f, NOW, Thresholds(pending_write_after=dt.timedelta(minutes=minutes)))
    assert row.writes_stuck is stuck
    assert any("write pending" in p for p in row.problems) is stuck


@pytest.mark.parametrize("unexplained,verdict", [(0, health.OK), (3, health.FAILING)])
def test_unexplained_differences_fail(unexplained, verdict):
    row = assess(facts(unexplained=unexplained), NOW)
    assert row.has_unexplained is (unexplained > 0)
    assert row.verdict == verdict


@pytest.mark.parametrize("kw,words", [
    ({"status": "needs_reauth"}, "needs re-authorisation"),
    ({"status": "disconnected"}, "disconnected"),
    ({"parked_until": NOW + 60 * MIN}, "parked until 2026-11-30 13:00"),
    ({"last_failure_job": "push_job", "last_failure_at": NOW - MIN, "last_failure_message": "x"},
     "run failed: push_job"),
    ({"api_calls_today": 4000}, "4000 of 5000 API calls"),
    ({"api_calls_today": 10, "api_day_remaining": 900}, "4100 of 5000 API calls"),  # Xero knows more
])
def test_attention_without_failing_a_check(kw, words):
    row = assess(facts(**kw), NOW)
    assert row.verdict == health.ATTENTION
    assert not (row.sync_stale or row.writes_stuck or row.has_unexplained)
    assert any(words in p for p in row.problems), row.problems


@pytest.mark.parametrize("reconciled_ago,words", [
    (None, "never reconciled"),                       # issue 20 item 1: not "ok, 0 unexplained"
    (27 * 60 * MIN, "reconciled 1d 3h ago"),          # missed the daily run
    (25 * 60 * MIN, None),
])
def test_reconciliation_evidence_or_attention(reconciled_ago, words):
    row = assess(facts(diff_computed_at=None if reconciled_ago is None else NOW - reconciled_ago), NOW)
    assert row.verdict == (health.OK if words is None else health.ATTENTION)
    assert words is None or words in row.problems
    cells = health.row_cells(row, NOW)
    assert cells["reconciled"] == ("never" if reconciled_ago is None else cells["reconciled"])
    assert reconciled_ago is None or cells["reconciled"].endswith(": ok")


def test_open_failures_name_their_work_and_keep_the_cause_first():
    long = ("xero_invoices: Xero did not answer after 4 attempts over 180 s while reading "
            "invoices page 3 of the month 2024-06 for tenant t-1; the last answer was HTTP 503")
    row = assess(facts(failures=(health.Failure("xero_invoices 2024-06", "__ASSET_JOB", NOW - MIN, long),)), NOW)
    assert row.verdict == health.ATTENTION and "failed: xero_invoices 2024-06" in row.problems
    cell = health.row_cells(row, NOW)["failures"]
    assert cell.startswith("xero_invoices 2024-06 [HTTP 503] at 2026-11-30 11:59: xero_invoices: Xero")
    assert health.failure_text("w", "x" * 1000).endswith("…") and len(health.failure_text("w", "x" * 1000)) == 300


def test_parked_in_the_past_is_not_attention():
    assert assess(facts(parked_until=NOW - MIN), NOW).verdict == health.OK


def test_worst_first_orders_by_verdict_then_problems_then_staleness():
    rows = [assess(f, NOW) for f in (
        facts(partner_id="healthy"),
        facts(partner_id="not-yet", status="not_connected", last_sync_at=None),
        facts(partner_id="reauth", status="needs_reauth"),
        facts(partner_id="stale", last_sync_at=NOW - 90 * MIN),
        facts(partner_id="staler", last_sync_at=NOW - 900 * MIN),
        facts(partner_id="everything", last_sync_at=NOW - 60 * MIN, unexplained=1,
              oldest_pending_at=NOW - 120 * MIN),
    )]
    assert [r.partner_id for r in worst_first(rows)] == [
        "everything", "staler", "stale", "reauth", "healthy", "not-yet"]


def test_table_rows_name_partners_worst_first_with_every_column():
    rows = worst_first([
        assess(facts(partner_id="good", phase_successes={"push": NOW - 3 * MIN}), NOW),
        assess(facts(partner_id="bad", shard=3, unexplained=2, outbox_by_status={"pending": 1, "done": 4},
                     oldest_pending_at=NOW - 45 * MIN, api_calls_today=120), NOW),
    ])
    bad, good = (health.row_cells(r, NOW) for r in rows)
    assert tuple(bad) == health.HEADER
    assert (bad["partner"], bad["shard"], bad["verdict"], bad["unexplained"]) == ("bad", 3, "failing", 2)
    assert bad["outbox"] == "done 4, pending 1" and bad["oldest pending"] == "45m"
    assert bad["API calls today"] == "120 / 5000"
    assert bad["reconciled"] == "2026-11-30 11:00 (1h 0m ago): 2 unexplained"
    assert (good["partner"], good["verdict"], good["last success by phase"]) == ("good", "ok", "push 3m ago")
    lines = health.markdown_table(rows, now=NOW).splitlines()
    assert lines[0].startswith("| partner | verdict | problems | shard |") and lines[2].startswith("| bad |")
    assert health.markdown_table([]) == "_no partners yet_"


def test_cells_cannot_break_the_table():
    row = assess(facts(last_failure_job="push_job", last_failure_at=NOW,
                       last_failure_message="a | b\nc"), NOW)
    line = health.markdown_table([row]).splitlines()[2]
    assert line.count("|") == len(health.HEADER) + 1


@pytest.mark.parametrize("age,text", [
    (dt.timedelta(seconds=59), "0m"), (45 * MIN, "45m"), (125 * MIN, "2h 5m"),
    (dt.timedelta(days=3, hours=4, minutes=5), "3d 4h"), (None, "—"),
])
def test_format_age(age, text):
    assert health.format_age(age) == text


@pytest.mark.parametrize("raw,hidden", [
    ("401 for Bearer eyJhbGciOi.abc.def refused", "eyJhbGciOi"),
    ("refresh_token=r-123456789 invalid", "r-123456789"),
    ('body {"access_token": "tok-abcdef"}', "tok-abcdef"),
    ("client_secret: demo-secret-sandbox-only", "demo-secret-sandbox-only"),
    ("token aaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbb.cccccccccccc seen", "aaaaaaaaaaaaaaaaaaaa"),
    ("db postgresql+psycopg://app:s3cret@db/x down", "s3cret"),
])
def test_failure_messages_lose_their_secrets(raw, hidden):
    message = safe_failure_message(raw)
    assert hidden not in message
    assert "***" in message


def test_failure_messages_are_one_short_line():
    message = safe_failure_message("step failed:\n" + "x" * 2000)
    assert "\n" not in message and len(message) == health.FAILURE_MESSAGE_LIMIT
    assert message.endswith("…")
    assert safe_failure_message(None) == "(no message)"
