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
PRIVATE_FOLDER_MODE = 0o700
LOG_MODE = 0o640  # the owner writes, the owner's group may read; nobody else


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


def private_folder(path: Path) -> Path:
    """`path` and its missing parents created 0700 (the umask can only take bits away)."""
    path = Path(path)
    path.mkdir(mode=PRIVATE_FOLDER_MODE, parents=True, exist_ok=True)
    for made in (path, *path.parents):
        if made.stat().st_mode & 0o077 == 0:
            continue
        if made == path:
            raise PermissionError(f"{path} already exists and others may read it; remove it or "
                                  "make it private (chmod 700)")
        break  # a parent that existed before is the caller's business
    return path


def _create(path: Path, mode: int, flags: int = 0) -> int:
    """A new file created with `mode` from its first byte; one left at the name is replaced (it
    may carry a wider mode that O_CREAT would keep)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | flags, mode)


def write_private(path: Path, text: str) -> Path:
    """`text` in a new file `path` readable by this user only (0600 from the first byte)."""
    with os.fdopen(_create(Path(path), PRIVATE_MODE), "w") as fh:
        fh.write(text)
    return Path(path)


def open_log(path: Path):
    """A new log file `path` (0640 from the first byte), open for binary appending."""
    return os.fdopen(_create(Path(path), LOG_MODE, os.O_APPEND), "ab")
