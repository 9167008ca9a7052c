"""Private files on this machine: secrets created race-free, and the SQLite store kept 0600.

Two processes starting at once (the web app and a Dagster run) may both find no key file. Each
writes a complete secret to its own temporary file (0600) and `os.link`s it to the final name:
the link is atomic and fails if the name exists, so exactly one secret wins, nobody ever reads a
half-written (empty) file, and the loser reads the winner's.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

PRIVATE_MODE = 0o600


def read_or_create_secret(path: Path, generate: Callable[[], str]) -> str:
    """The secret in `path`; if absent, a new one from `generate()`, created atomically with 0600."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mkstemp creates 0600
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(generate())
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(temp, path)
            except FileExistsError:
                pass  # another process won the race; its file is complete
        finally:
            os.unlink(temp)
    secret = path.read_text().strip()
    if not secret:
        raise ValueError(f"{path} is empty; delete it to have a new secret generated")
    return secret


def make_private(path: Path) -> None:
    """chmod 0600 `path` if it exists (the SQLite store and its -wal/-shm files)."""
    try:
        os.chmod(path, PRIVATE_MODE)
    except FileNotFoundError:
        pass
