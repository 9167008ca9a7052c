"""Partner shards: each shard is its own set of partner-partitioned assets in its own code location."""
