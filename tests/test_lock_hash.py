"""requirements.lock is tied to pyproject.toml's requirements, not to its tool settings."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _hash(root: Path) -> str:
    return subprocess.run([sys.executable, str(root / "scripts" / "lock_hash")], check=True,
                          capture_output=True, text=True).stdout.strip()


def test_the_lock_names_the_current_requirements() -> None:
    assert f"sha256 {_hash(ROOT)} " in (ROOT / "requirements.lock").read_text().splitlines()[0]


def test_tool_settings_do_not_change_the_hash_but_a_dependency_does(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "lock_hash", tmp_path / "scripts" / "lock_hash")
    pyproject = (ROOT / "pyproject.toml").read_text()
    (tmp_path / "pyproject.toml").write_text(pyproject)
    before = _hash(tmp_path)
    (tmp_path / "pyproject.toml").write_text(pyproject + '\n[tool.example]\nsetting = "changed"\n')
    assert _hash(tmp_path) == before
    (tmp_path / "pyproject.toml").write_text(pyproject.replace('"tabulate==0.10.0"', '"tabulate==0.9.0"'))
    assert _hash(tmp_path) != before
