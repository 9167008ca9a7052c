"""Which shard this process serves and how many there are, from the environment.

XERO_SYNC_SHARDS            number of shards new partners are spread over (default 1)
XERO_SYNC_SHARD             the shard `xero_sync.definitions:defs` serves (default 0)
XERO_SYNC_SHARD_PARTITIONS  partner x month partitions per asset a shard may hold (default 50000)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from xero_sync.config import ConfigError, env_int
from xero_sync.sync.shard_plan import DEFAULT_MAX_PARTITIONS


@dataclass(frozen=True)
class ShardSettings:
    count: int = 1
    current: int = 0
    max_partitions: int = DEFAULT_MAX_PARTITIONS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "ShardSettings":
        env = os.environ if env is None else env
        count = env_int(env, "XERO_SYNC_SHARDS", 1)
        current = env_int(env, "XERO_SYNC_SHARD", 0, minimum=0)
        if current >= count:
            raise ConfigError(f"XERO_SYNC_SHARD={current} but XERO_SYNC_SHARDS={count}: "
                              f"shards are numbered 0..{count - 1}")
        max_partitions = env_int(env, "XERO_SYNC_SHARD_PARTITIONS", DEFAULT_MAX_PARTITIONS)
        return cls(count, current, max_partitions)

