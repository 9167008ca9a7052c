"""Steps that read Xero are retried within their run when Xero stays unavailable past the
client's own retries (glue/retry_policies.py); failures only a person can clear are not."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from tests.sandbox_fixtures import control
from xero_sync.glue.retry_policies import XERO_READ_RETRY_POLICY
from xero_sync.partitions import range_tags
from xero_sync.store import connections
from xero_sync.sync.month_slices import month_start
from xero_sync.xero.retry import RetryPolicy

CLIENT_ATTEMPTS = RetryPolicy(None, None).max_server_attempts  # the client gives up after these


def retries(result) -> list[str]:
    return [e.step_key for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]


def test_xero_unavailable_on_the_first_attempt_is_retried_and_the_month_lands_in_one_run(world):
    month = month_start(world.server.sandbox.clock.now().date())
    world.instance.add_dynamic_partitions("partners", [world.partner_id])
    # Every attempt of the client's first invoices read answers 503: XeroUnavailable, a
    # retryable failure of the step. The step's second attempt finds Xero back.
    control(world.server, "POST", "/faults", {"kind": "unavailable", "count": CLIENT_ATTEMPTS,
                                              "tenant_id": world.tenant_id, "path_prefix": "/Invoices"})

    result = world.defs.resolve_job_def("onboarding_job").execute_in_process(
        instance=world.instance, tags=range_tags(world.partner_id, month, month), raise_on_error=False)

    assert result.success
    assert retries(result) == ["xero_records"]
    served = [e for e in world.server.sandbox.requests.entries(world.tenant_id) if e["path"].endswith("/Invoices")]
    statuses = [e["status"] for e in served]  # the first attempt's 503s, then the second attempt's reads
    assert statuses[:CLIENT_ATTEMPTS] == [503] * CLIENT_ATTEMPTS and set(statuses[CLIENT_ATTEMPTS:]) == {200}
    assert world.instance.get_materialized_partitions(dg.AssetKey("xero_invoices")) == {
        f"{month:%Y-%m-%d}|{world.partner_id}"}


def test_a_failure_only_time_or_the_partner_can_clear_is_not_retried(world):
    """Xero's daily limit: the partner is parked until the window reopens and the step fails at
    once (a retry within the run would only meet the same 429)."""
    month = month_start(world.server.sandbox.clock.now().date())
    world.instance.add_dynamic_partitions("partners", [world.partner_id])
    control(world.server, "POST", "/faults", {"kind": "rate_limit", "problem": "day", "count": 1,
                                              "tenant_id": world.tenant_id, "retry_after": 3600})

    result = world.defs.resolve_job_def("onboarding_job").execute_in_process(
        instance=world.instance, tags=range_tags(world.partner_id, month, month), raise_on_error=False)

    assert not result.success and retries(result) == []
    with world.engine.begin() as conn:
        assert connections.get_connection(conn, world.partner_id).parked_until is not None


def test_the_policy_backs_off():
    assert XERO_READ_RETRY_POLICY.max_retries == 2
    assert XERO_READ_RETRY_POLICY.backoff == dg.Backoff.EXPONENTIAL
    assert dt.timedelta(seconds=XERO_READ_RETRY_POLICY.calculate_delay(2)) <= dt.timedelta(seconds=45)
