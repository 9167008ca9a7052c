"""The layers hold (pyproject.toml [tool.importlinter]), and the contracts would catch each kind
of violation issue 21 found: a copy of the code with one such import added fails the lint and
names that import."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")

# (module file, the import added, the contract's report line that must name it)
VIOLATIONS = [
    ("xero_sync/pulls/months.py", "import dagster", "xero_sync.pulls.months -> dagster"),
    ("xero_sync/pulls/changes.py", "from xero_sync.assets import reconciliation",
     "xero_sync.pulls.changes -> xero_sync.assets.reconciliation"),
    ("xero_sync/pulls/months.py", "from xero_sync.resources import platform",
     "xero_sync.pulls.months -> xero_sync.resources.platform"),
    ("xero_sync/jobs/push.py", "from xero_sync.assets import reconciliation",
     "xero_sync.jobs.push -> xero_sync.assets.reconciliation"),
    ("xero_sync/cohorts/partner_sync.py", "from xero_sync.assets import table_metadata",
     "xero_sync.cohorts.partner_sync -> xero_sync.assets.table_metadata"),
    ("xero_sync/web/signin.py", "from xero_sync import partitions", "xero_sync.web.signin -> xero_sync.partitions"),
    ("xero_sync/store/db.py", "from xero_sync.commands import cli", "xero_sync.store.db -> xero_sync.commands.cli"),
    ("xero_sync/commands/accounts.py", "from xero_sync.resources.xero import XeroResource",
     "xero_sync.commands.accounts -> xero_sync.resources.xero"),
    ("xero_sync/store/token_store.py", "from xero_sync.xero import client",
     "xero_sync.store.token_store -> xero_sync.xero.client"),
    ("xero_sync/sync/rules.py", "from xero_sync.xero import parse", "xero_sync.sync.rules -> xero_sync.xero.parse"),
    ("xero_sync/push/engine.py", "from xero_sync.events import api", "xero_sync.push.engine -> xero_sync.events.api"),
    ("xero_sync/reconciliation/run.py", "from xero_sync.pulls import months",
     "xero_sync.reconciliation.run -> xero_sync.pulls.months"),
    ("xero_sync/web/app.py", "import dagster", "xero_sync.web.app -> dagster"),
    ("sandbox/xero_sandbox/server.py", "from xero_sync.config import XeroEndpoints",
     "xero_sandbox.server -> xero_sync.config"),
    ("xero_sync/push/engine.py", "import xero_sandbox", "xero_sync.push.engine -> xero_sandbox"),
]


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(LINT.parent), "PYTHONPATH": f"{root}{':'}{root / 'sandbox'}", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([str(LINT), "--no-cache", str(root / "pyproject.toml")], cwd=root,
                          env=env, capture_output=True, text=True, timeout=300)


def test_the_layers_hold() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout, result.stdout[-2000:]


@pytest.fixture(scope="module")
def tampered(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    """A copy of the code with every listed violation added at once; one lint run reports them all."""
    copy = tmp_path_factory.mktemp("layers")
    shutil.copytree(ROOT / "xero_sync", copy / "xero_sync", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "sandbox" / "xero_sandbox", copy / "sandbox" / "xero_sandbox",
                    ignore=shutil.ignore_patterns("__pycache__", "templates"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    for path, line, _ in VIOLATIONS:
        target = copy / path
        assert target.exists(), f"{path} moved: update VIOLATIONS in this test"
        target.write_text(target.read_text() + f"\n{line}  # injected by tests/test_layers.py\n")
    return _lint(copy)


@pytest.mark.parametrize(("path", "line", "reported"), VIOLATIONS, ids=[v[2] for v in VIOLATIONS])
def test_each_listed_violation_is_caught(tampered: subprocess.CompletedProcess[str], path: str, line: str,
                                         reported: str) -> None:
    assert tampered.returncode != 0
    assert reported in tampered.stdout, f"no contract reports `{line}` in {path}:\n{tampered.stdout[-4000:]}"
