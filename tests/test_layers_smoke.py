"""The layers hold where Dagster is concerned: the web server and the plain services load no
Dagster (not even through an import of an import), and the command line builds no Dagster part.

Each import runs in a fresh interpreter, so a module another test imported earlier cannot hide
what these load. (The import rules between the packages are checked on top of this.)
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import xero_sync

PACKAGE = Path(xero_sync.__file__).parent


def _modules(package: str) -> list[str]:
    path = PACKAGE / package.removeprefix("xero_sync.").replace(".", "/")
    return [package, *(f"{package}.{m.name}" for m in pkgutil.iter_modules([str(path)]))]


def _dagster_loaded_by(modules: list[str], then: str = "") -> list[str]:
    """The `dagster*` modules a fresh interpreter holds after importing `modules` (and running
    the statements `then`)."""
    code = "\n".join([
        "import importlib, json, sys",
        f"for name in {modules!r}:",
        "    importlib.import_module(name)",
        then,
        "print(json.dumps(sorted(m for m in sys.modules if m == 'dagster' or m.startswith('dagster'))))",
    ])
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_web_server_loads_no_dagster():
    modules = _modules("xero_sync.web")
    assert "xero_sync.web.app" in modules and "xero_sync.web.integrations" in modules
    assert _dagster_loaded_by(modules) == []


@pytest.mark.parametrize("modules", [
    ["xero_sync.pulls.months", "xero_sync.pulls.changes", "xero_sync.pulls.metadata"],
    _modules("xero_sync.push"),
    _modules("xero_sync.connect"),
    ["xero_sync.reconciliation.run", "xero_sync.reconciliation.xero_reads"],
], ids=["pulls", "push", "connect", "reconciliation"])
def test_the_services_load_no_dagster(modules):
    assert _dagster_loaded_by(modules) == []


def test_the_shards_command_counts_month_partitions_without_dagster():
    then = "from xero_sync.commands.shards import _month_count; assert _month_count() > 0"
    assert _dagster_loaded_by(["xero_sync.commands.shards"], then) == []


def test_the_month_partitions_counted_without_dagster_are_dagsters():
    from xero_sync.commands.shards import _month_count
    from xero_sync.partitions import months
    from xero_sync.sync.month_slices import partition_months

    keys = months.get_partition_keys()
    assert _month_count() == len(keys)
    today = dt.datetime.now(dt.timezone.utc).date()
    assert [m.isoformat() for m in partition_months(today)] == keys


def _imported(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return names


def test_the_commands_build_no_dagster_part():
    """`xero-sync accounts` gets its Xero client from connect/clients.py, and `shards list`
    counts months with sync/month_slices.py: no resource, no partitions definition."""
    offending = {
        path.name: sorted(n for n in _imported(path)
                          if n.startswith(("xero_sync.resources", "xero_sync.partitions", "dagster")))
        for path in sorted((PACKAGE / "commands").glob("*.py"))
    }
    assert {name: found for name, found in offending.items() if found} == {}


@pytest.mark.parametrize("index", [0, 1])
def test_the_keys_jobs_and_sensors_name_are_the_record_assets_own(index):
    """The jobs, sensors and cohorts select a shard's records by key (shards/layout.py), without
    importing the assets: those keys are exactly the assets' keys."""
    from xero_sync.assets.platform_records import platform_records_for
    from xero_sync.assets.xero_records import xero_records_for
    from xero_sync.shards.layout import shard

    s = shard(index)
    assert set(s.record_keys) == {*xero_records_for(s).keys, *platform_records_for(s).keys}
    assert len(s.record_keys) == 7
