"""Shards' code locations load side by side in one workspace, as the README's workspace has them.

The workspace.yaml below is read by Dagster's own workspace loading; its entries
(`xero_sync.definitions:shard_N`) are then loaded in this process instead of one code server
process each (the same loadable target a code server would load, without the process start-up).
The shards' asset keys and partner partitions must not collide, and each shard's location must
also load on its own (no dependency on another shard's location).
"""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg
import yaml
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget, WorkspaceFileTarget

from xero_sync.shards.layout import shard

REPO = Path(__file__).resolve().parents[2]


def _workspace_origins(tmp_path: Path, indexes: list[int]) -> list[InProcessCodeLocationOrigin]:
    entries = [{"python_module": {"module_name": "xero_sync.definitions", "attribute": f"shard_{i}",
                                  "location_name": shard(i).location_name, "working_directory": str(REPO),
                                  "executable_path": sys.executable}} for i in indexes]
    path = tmp_path / f"workspace_{'_'.join(map(str, indexes))}.yaml"
    path.write_text(yaml.safe_dump({"load_from": entries}))
    return [InProcessCodeLocationOrigin(o.loadable_target_origin, location_name=o.location_name)
            for o in WorkspaceFileTarget([str(path)]).create_origins()]


def _dynamic_names(partitions_def) -> set[str]:
    parts = ([d.partitions_def for d in partitions_def.partitions_defs]
             if isinstance(partitions_def, dg.MultiPartitionsDefinition) else [partitions_def])
    return {p.name for p in parts if isinstance(p, dg.DynamicPartitionsDefinition)}


def _load(origins: list[InProcessCodeLocationOrigin]) -> dict[str, dict[dg.AssetKey, set[str]]]:
    """Location name -> its asset keys -> the dynamic partitions each is partitioned by."""
    with dg.instance_for_test() as instance, \
            WorkspaceProcessContext(instance, InProcessWorkspaceLoadTarget(origins)) as process:
        context = process.create_request_context()
        errors = {name: entry.load_error for name, entry in context.get_code_location_entries().items()}
        assert errors == {o.location_name: None for o in origins}
        graph = context.asset_graph
        found: dict[str, dict[dg.AssetKey, set[str]]] = {o.location_name: {} for o in origins}
        for key in graph.get_all_asset_keys():
            found[graph.get_repository_handle(key).location_name][key] = _dynamic_names(graph.get(key).partitions_def)
        return found


def test_two_shards_load_together_without_conflicts(tmp_path):
    assets = _load(_workspace_origins(tmp_path, [0, 1]))

    first, second = assets["xero_sync"], assets["xero_sync_shard_1"]
    assert not set(first) & set(second)
    assert dg.AssetKey(["shard_1", "xero_invoices"]) in second and dg.AssetKey("xero_invoices") in first
    assert set().union(*first.values()) == {"partners"}
    assert set().union(*second.values()) == {"partners_shard_1"}
    # Every partner x month asset is in both shards under its own key (partner_health is shard 0's).
    assert {k.path[-1] for k, p in first.items() if p} == {k.path[-1] for k, p in second.items() if p}


def test_each_shard_location_loads_alone(tmp_path):
    for index in (0, 1):
        [keys] = _load(_workspace_origins(tmp_path, [index])).values()
        assert dg.AssetKey([*shard(index).prefix, "xero_invoices"]) in keys
        assert all(k.path[:-1] == shard(index).prefix for k in keys)


def test_a_shards_assets_say_their_shard_on_every_page():
    """Issue 20: shard 0's assets had plain names, shard 1's `shard_1/...`, and nothing said which
    shard a page belonged to. Each partner x month asset's description now starts with its shard."""
    from xero_sync.definitions import build_defs

    for index in (0, 1):
        graph = build_defs(shard=index).resolve_asset_graph()
        partitioned = [k for k in graph.get_all_asset_keys() if graph.get(k).partitions_def is not None]
        assert partitioned
        for key in partitioned:
            assert graph.get(key).description.startswith(
                f"Shard {index} (code location {shard(index).location_name}"), key
