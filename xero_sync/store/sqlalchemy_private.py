"""The one use of a private SQLAlchemy API, behind a named function (as dagster_private.py does
for Dagster); tests/test_dagster_private.py checks it against the installed SQLAlchemy.
Written against SQLAlchemy 2.1.

- `beginning_implicitly` (`sqlalchemy.engine.base.Connection._autobegin` found on the call
  stack): SQLAlchemy's `begin` event does not say whether a transaction is begun explicitly
  (`engine.begin()`, `conn.begin()`) or implicitly (autobegin on a read's first execute), and
  the store's SQLite hook (store/db.py `_sqlite_begin`) needs to know: explicit begins take
  the write lock at once (`BEGIN IMMEDIATE`), so two writers never act on the same stale read
  (issue 18: a 100.00 invoice paid 210.00, docs/events-api.md), while reads keep a plain
  deferred `BEGIN` that never waits behind a writer. What it buys is correctness, not speed; no
  figure. Public fallback: `BEGIN IMMEDIATE` for every transaction (reads then queue behind
  syncs).
"""

from __future__ import annotations

import os
import sys
from types import FrameType

SA_CONNECTION_FILE = os.path.join("sqlalchemy", "engine", "base.py")
AUTOBEGIN = "_autobegin"
FRAMES_SEARCHED = 8


def beginning_implicitly(depth: int = 2) -> bool:
    """True when SQLAlchemy's `Connection._autobegin` is among the `FRAMES_SEARCHED` callers
    starting `depth` frames above this function (an implicit begin), False otherwise."""
    frame: FrameType | None = sys._getframe(depth)
    for _ in range(FRAMES_SEARCHED):
        if frame is None:
            return False
        if frame.f_code.co_name == AUTOBEGIN and frame.f_code.co_filename.endswith(SA_CONNECTION_FILE):
            return True
        frame = frame.f_back
    return False
