"""The tag policy for every run our sensors and schedules launch.

Each run names its partner, its Xero tenant and why it runs, so the UI can filter a partner's
runs and `dagster.yaml`'s `xero/tenant` limit keeps one run per tenant at a time. Cohort runs
(many partners in one run, xero_sync/cohorts/) name their cohort and phase instead, and no
partner or tenant: each partner's tenant lock is taken inside the run.

A run launched by hand (the UI's Materialize, a backfill) has only Dagster's partition tags when
it is queued; `hand_run_tags` derives its partner and phase (`backfill` or `manual`) from them,
and PlatformResource adds them (with the tenant) as the run's first step starts, so the Runs list
shows them from then on. The `xero/tenant` run limit cannot apply to such a run (it was already
dequeued); the per-tenant lock taken inside every run that calls Xero keeps it from overlapping
the partner's other runs.
"""

from __future__ import annotations

from collections.abc import Mapping

from xero_sync.store.connections import Connection
from xero_sync.core.ids import is_partner_id
from xero_sync.shards.layout import Shard

PARTNER, TENANT, PHASE, COHORT = "xero/partner", "xero/tenant", "xero/phase", "xero/cohort"
SHARD = "xero/shard"
POLICY_TAGS = (PARTNER, TENANT, PHASE)
PHASES = ("onboarding", "incremental", "reread", "webhook", "push", "reconcile", "backfill", "manual")
_PARTITION_TAGS = ("dagster/partition/partner", "dagster/partition", "dagster/asset_partition_range_start")


def run_tags(partner_id: str, tenant_id: str | None, phase: str) -> dict[str, str]:
    """The policy tags of one run. A partner without a tenant yet is its own tenant key."""
    if phase not in PHASES:
        raise ValueError(f"unknown run phase {phase!r}; one of {PHASES}")
    return {PARTNER: partner_id, TENANT: tenant_id or partner_id, PHASE: phase}


def connection_tags(connection: Connection, phase: str) -> dict[str, str]:
    return run_tags(connection.partner_id, connection.tenant_id, phase)


def cohort_tags(label: str, phase: str, shard: Shard) -> dict[str, str]:
    """The tags of a cohort run: its place in the tick's plan (`3-of-12`), its phase and its
    shard (every shard plans its own cohorts, so `1-of-1` alone does not say whose run it is)."""
    if phase not in PHASES:
        raise ValueError(f"unknown run phase {phase!r}; one of {PHASES}")
    return {COHORT: label, PHASE: phase, SHARD: str(shard.index)}


def hand_run_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """Partner and phase of a run launched by hand, from Dagster's own tags; {} for runs that
    already carry the policy (ours) or a cohort, and for runs not about one partner."""
    if PARTNER in tags or COHORT in tags:
        return {}
    partner_id = next((partner_of(tags[t]) for t in _PARTITION_TAGS if tags.get(t)), None)
    if partner_id is None:
        return {}
    return {PARTNER: partner_id, PHASE: "backfill" if "dagster/backfill" in tags else "manual"}


def partner_of(key: str) -> str | None:
    """The partner in a partition key: `acme`, or `2026-10-01|acme` (month, then partner)."""
    parts = key.split("|")
    partner_id = parts[-1] if len(parts) <= 2 else None
    return partner_id if partner_id and is_partner_id(partner_id) else None
