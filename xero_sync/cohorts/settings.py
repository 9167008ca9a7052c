"""How partners are grouped into cohort runs, from the environment (read when a tick or run starts).

XERO_SYNC_COHORT_SIZE      partners per cohort run (default 100)
XERO_SYNC_COHORT_WORKERS   partners synced at once inside a cohort run (default 8)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from xero_sync.config import env_int

DEFAULT_SIZE = 100
DEFAULT_WORKERS = 8
MAX_SIZE = 1000  # a cohort's partners travel in the run config; keep a run's config readable
MAX_WORKERS = 64  # each worker holds a tenant lock, a DB connection and up to 5 Xero calls


@dataclass(frozen=True)
class CohortSettings:
    size: int = DEFAULT_SIZE
    workers: int = DEFAULT_WORKERS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "CohortSettings":
        env = os.environ if env is None else env
        return cls(size=env_int(env, "XERO_SYNC_COHORT_SIZE", DEFAULT_SIZE, maximum=MAX_SIZE),
                   workers=env_int(env, "XERO_SYNC_COHORT_WORKERS", DEFAULT_WORKERS, maximum=MAX_WORKERS))
