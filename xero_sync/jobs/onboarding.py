"""onboarding_job: one partner's range of months pulled and applied, one run per range.

Launched by `new_connection_sensor` for a partner's initial sync (recent 12 months first, then
history chunks), each run with range tags over one partner's months and the partner/tenant/phase
tags of `run_tags`; also the job for re-reading a partner's months by hand (UI backfill or
Materialize: a range run per partner). The one job over this selection (there was a second,
`pull_months_job`, with the same assets).
One job per shard, over that shard's assets (its code location serves only that shard).
"""

import functools

import dagster as dg

from xero_sync.shards.layout import Shard, shard as shard_at


@functools.cache
def onboarding_job_for(shard: Shard):
    return dg.define_asset_job(
        "onboarding_job",
        selection=dg.AssetSelection.assets(*shard.record_keys),
        description="One partner's range of months of the Xero and platform records: the initial "
                    "sync (new_connection_sensor) and re-reads launched by hand.",
        # Its two steps run one after the other (platform records read the landed Xero records),
        # so a process per step would add only start-up: two Python processes importing Dagster
        # and this package per run, about half of a small partner's run time (deploy-local,
        # bench/onboard_many.py).
        executor_def=dg.in_process_executor,
    )


onboarding_job = onboarding_job_for(shard_at(0))
