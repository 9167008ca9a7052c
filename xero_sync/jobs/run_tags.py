"""The tag policy for every run our sensors and schedules launch.

Each run names its partner, its Xero tenant and why it runs, so the UI can filter a partner's
runs and `dagster.yaml`'s `xero/tenant` limit keeps one run per tenant at a time. Cohort runs
(many partners in one run, xero_sync/cohorts/) name their cohort and phase instead, and no
partner or tenant: each partner's tenant lock is taken inside the run. Dagster offers
no hook that adds tags to a run launched from the UI (job-level tags are static, and run-status
hooks run too late), so UI-launched runs carry only Dagster's own partition tags
(`dagster/partition/partner` for single-partition backfills); the per-tenant lock taken inside
every run that calls Xero is what keeps them from overlapping a partner's other runs.
"""

from __future__ import annotations

from xero_sync.platform.connections import Connection

PARTNER, TENANT, PHASE, COHORT = "xero/partner", "xero/tenant", "xero/phase", "xero/cohort"
POLICY_TAGS = (PARTNER, TENANT, PHASE)
PHASES = ("onboarding", "incremental", "reread", "webhook", "push", "reconcile")


def run_tags(partner_id: str, tenant_id: str | None, phase: str) -> dict[str, str]:
    """The policy tags of one run. A partner without a tenant yet is its own tenant key."""
    if phase not in PHASES:
        raise ValueError(f"unknown run phase {phase!r}; one of {PHASES}")
    return {PARTNER: partner_id, TENANT: tenant_id or partner_id, PHASE: phase}


def connection_tags(connection: Connection, phase: str) -> dict[str, str]:
    return run_tags(connection.partner_id, connection.tenant_id, phase)


def cohort_tags(label: str, phase: str) -> dict[str, str]:
    """The tags of a cohort run: its place in the tick's plan (`3-of-12`) and its phase."""
    if phase not in PHASES:
        raise ValueError(f"unknown run phase {phase!r}; one of {PHASES}")
    return {COHORT: label, PHASE: phase}
