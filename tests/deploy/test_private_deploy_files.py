"""Issue 19: deploy-local wrote its env file (database password, encryption key) with the default
mode and chmod-ed it afterwards, and left its folders and logs readable by every user. Files born
private: the env file 0600 from its first byte, the deployment's folders 0700, its logs 0640.

"From the first byte" is checked by taking chmod away: whatever mode a file or folder has without
a later chmod is the mode it was created with."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from xero_sync.deploy.database import DeployDatabase
from xero_sync.deploy.deployment import Deployment, DeployOptions


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def no_chmod(monkeypatch):
    """chmod after the fact does nothing here: modes must be right at creation."""
    calls: list[str] = []
    monkeypatch.setattr(os, "chmod", lambda path, *a, **k: calls.append(str(path)))
    monkeypatch.setattr(Path, "chmod", lambda self, *a, **k: calls.append(str(self)))
    old = os.umask(0o022)  # the usual umask: 0644 files, 0755 folders unless asked otherwise
    yield calls
    os.umask(old)


def test_the_env_file_folders_and_logs_are_private_from_creation(tmp_path, no_chmod):
    deployment = Deployment(DeployOptions(root=tmp_path))
    url = sa.make_url("postgresql+psycopg://postgres:s3cret@127.0.0.1:5432/xs_deploy_test")
    deployment.db = DeployDatabase(server=url, url=url, throwaway=True)
    deployment.prepare_folders()
    env_file = deployment.write_env_file()
    child = deployment.children.spawn("hello", [sys.executable, "-c", "print('hi')"], dict(os.environ),
                                      deployment.home)
    child.proc.wait(timeout=30)

    assert mode(env_file) == 0o600, oct(mode(env_file))
    assert "s3cret" in env_file.read_text()
    for folder in (deployment.home, deployment.dagster_home, deployment.children.log_dir):
        assert mode(folder) == 0o700, (folder, oct(mode(folder)))
    assert mode(child.log) == 0o640, oct(mode(child.log))
    assert child.log.read_text().strip() == "hi"


def test_a_second_start_makes_a_left_over_world_readable_env_file_private(tmp_path, no_chmod):
    deployment = Deployment(DeployOptions(root=tmp_path))
    url = sa.make_url("postgresql+psycopg://postgres@127.0.0.1:5432/xs_deploy_test")
    deployment.db = DeployDatabase(server=url, url=url, throwaway=True)
    deployment.prepare_folders()
    old = deployment.home / "deploy.env"
    old.write_text("export OLD=1\n")  # 0644 under the usual umask
    assert mode(old) == 0o644
    assert mode(deployment.write_env_file()) == 0o600
    assert "OLD" not in old.read_text()
