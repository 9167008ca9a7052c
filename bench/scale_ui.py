"""The Dagster UI's asset partitions page at a full shard, for bench/scale.py.

The page asks the webserver `PartitionHealthQuery` for the asset (the query text below is the one
in dagster-webserver 1.13.27's UI bundle, webapp/build/_next/static/chunks/2093.*.js): every
partition key per dimension and the materialized / materializing / failed ranges. Here it runs
through dagster_graphql in-process, against a WorkspaceProcessContext over an in-process code
location of the shard's definitions (`xero_sync.definitions:shard_N`, as the README's workspace
loads it), on the bench's Dagster instance, without the HTTP hop.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import dagster as dg
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
from dagster_graphql.test.utils import execute_dagster_graphql

from xero_sync.dagster_private import store_runless_materializations
from xero_sync.partitions import partition_key
from xero_sync.shards.layout import Shard

REPO = Path(__file__).resolve().parents[1]

PARTITION_HEALTH_QUERY = """
query PartitionHealthQuery($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) {
    ... on AssetNode {
      id
      partitionKeysByDimension { name type partitionKeys }
      assetPartitionStatuses {
        ... on TimePartitionStatuses { ranges { status startTime endTime startKey endKey } }
        ... on DefaultPartitionStatuses { materializedPartitions materializingPartitions failedPartitions }
        ... on MultiPartitionStatuses {
          primaryDimensionName
          ranges {
            primaryDimStartKey primaryDimEndKey primaryDimStartTime primaryDimEndTime
            secondaryDim {
              ... on TimePartitionStatuses { ranges { status startTime endTime startKey endKey } }
              ... on DefaultPartitionStatuses { materializedPartitions materializingPartitions failedPartitions }
            }
          }
        }
      }
    }
  }
}
"""


def materialize(instance: dg.DagsterInstance, key: dg.AssetKey, partner_ids: list[str],
                month_list: list, recent: int, full_every: int, chunk: int = 5000) -> int:
    """Materializations of `key` as runs leave them: the last `recent` months of every partner and
    every month of one partner in `full_every`. Written in batches (`store_event_batch`, one
    insert per batch on dagster-postgres, through
    xero_sync/dagster_private.py), not one event per call. Returns the count."""
    wanted = [(p, m) for i, p in enumerate(partner_ids)
              for m in (month_list if i % full_every == 0 else month_list[-recent:])]
    for start in range(0, len(wanted), chunk):
        store_runless_materializations(instance, [dg.AssetMaterialization(
            asset_key=key, partition=str(partition_key(p, m)),
            metadata={"records_pulled": 120, "month": f"{m:%Y-%m}"}) for p, m in wanted[start:start + chunk]])
    return len(wanted)


def workspace(instance: dg.DagsterInstance, shard: Shard) -> WorkspaceProcessContext:
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(executable_path=sys.executable, module_name="xero_sync.definitions",
                             attribute=f"shard_{shard.index}", working_directory=str(REPO)),
        location_name=shard.location_name)
    return WorkspaceProcessContext(instance, InProcessWorkspaceLoadTarget(origin))


def partition_health(process: WorkspaceProcessContext, key: dg.AssetKey) -> tuple[float, dict]:
    """One PartitionHealthQuery on a fresh request context (as one page load): seconds, answer."""
    context = process.create_request_context()
    started = time.perf_counter()
    result = execute_dagster_graphql(context, PARTITION_HEALTH_QUERY, {"assetKey": {"path": key.path}})
    seconds = time.perf_counter() - started
    if result.errors:
        raise RuntimeError(f"PartitionHealthQuery failed: {result.errors}")
    node = result.data["assetNodeOrError"]
    if "partitionKeysByDimension" not in node:
        raise RuntimeError(f"PartitionHealthQuery found no asset node for {key}: {node}")
    return seconds, node


def materialized_count(node: dict) -> tuple[dict[str, int], int]:
    """Keys per dimension and materialized partitions, counted from the answer."""
    dims = {d["name"]: d["partitionKeys"] for d in node["partitionKeysByDimension"]}
    statuses = node["assetPartitionStatuses"]
    primary = dims[statuses["primaryDimensionName"]]
    total = 0
    for r in statuses["ranges"]:
        span = primary.index(r["primaryDimEndKey"]) - primary.index(r["primaryDimStartKey"]) + 1
        total += span * len(r["secondaryDim"]["materializedPartitions"])
    return {name: len(keys) for name, keys in dims.items()}, total
