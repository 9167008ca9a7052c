"""Runs we launch belong to named jobs and carry the tag policy (partner, tenant, phase)."""

from __future__ import annotations

import dagster as dg

from xero_sync.definitions import defs
from xero_sync.demo.main import drive_headless
from xero_sync.jobs.run_tags import POLICY_TAGS


def test_every_sensor_and_schedule_targets_a_named_job():
    repo = defs.get_repository_def()
    # Sensors that launch nothing (e.g. run-status sensors) have no targets.
    launched = {s.name: [t.job_name for t in s.targets] for s in repo.sensor_defs}
    launched |= {s.name: [s.job_name] for s in repo.schedule_defs}
    assert launched["new_connection_sensor"] == ["onboarding_job", "finalize_onboarding_job"]
    assert not [name for name, jobs in launched.items() if any(j.startswith("__") for j in jobs)], launched


def test_onboarding_runs_are_onboarding_job_runs_with_partner_and_tenant_tags(world):
    assert drive_headless(world.instance, world.defs, world.engine, world.partner_id) == []
    runs = world.instance.get_runs(filters=dg.RunsFilter(tags={"xero/partner": world.partner_id}))
    assert runs
    # The range runs, then one run that records the empty months and connects the partner.
    assert [r.job_name for r in runs].count("finalize_onboarding_job") == 1
    for run in runs:
        assert run.job_name in ("onboarding_job", "finalize_onboarding_job")
        assert {k: run.tags[k] for k in POLICY_TAGS} == {
            "xero/partner": world.partner_id, "xero/tenant": world.tenant_id, "xero/phase": "onboarding"}


def test_runs_launched_by_hand_tag_themselves_with_partner_tenant_and_phase_when_they_start(world):
    """Issue 20: UI backfill runs showed no partner or phase in the Runs list. A run launched
    from the UI (a one-month materialization, a backfill) tags itself when its first step starts."""
    import datetime as dt

    from xero_sync.assets.platform_records import platform_records
    from xero_sync.assets.xero_records import xero_records
    from xero_sync.partitions import partition_key, partners, range_tags
    from xero_sync.sync.month_slices import recent_months

    world.instance.add_dynamic_partitions(partners.name, [world.partner_id])
    months = sorted(recent_months(dt.date.today()))
    one = dg.materialize([xero_records], instance=world.instance, resources=world.defs.resources,
                         partition_key=str(partition_key(world.partner_id, months[-1])))
    backfill = dg.materialize([xero_records, platform_records], instance=world.instance,
                              resources=world.defs.resources,
                              tags={**range_tags(world.partner_id, months[0], months[-1]), "dagster/backfill": "abcdefgh"})
    assert one.success and backfill.success
    for result, phase in ((one, "manual"), (backfill, "backfill")):
        tags = world.instance.get_run_by_id(result.run_id).tags
        assert {k: tags.get(k) for k in POLICY_TAGS} == {
            "xero/partner": world.partner_id, "xero/tenant": world.tenant_id, "xero/phase": phase}, tags
