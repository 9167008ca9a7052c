"""Shard sizing, assignment and rebalancing rules (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xero_sync.config import ConfigError, Settings
from xero_sync.sync import shard_plan as plan


def test_capacity_keeps_every_asset_within_the_partition_limit():
    assert plan.capacity(50_000, 179, headroom_months=0) == 279
    assert 279 * 179 <= 50_000 < 280 * 179
    # Sized for two more years of months by default: still within the limit at 203 months.
    assert plan.capacity(50_000, 179) == 246 and 246 * 203 <= 50_000
    with pytest.raises(ValueError):
        plan.capacity(50_000, 0)


def test_a_new_partner_joins_the_least_filled_shard_lowest_first():
    assert plan.choose({}, 3) == 0
    assert plan.choose({0: 2, 1: 1, 2: 1}, 3) == 1
    assert plan.choose({0: 5}, 1) == 0
    # Shards beyond the configured count are never chosen, however empty.
    assert plan.choose({0: 9, 1: 9, 2: 0}, 2) == 0


members_strategy = st.dictionaries(
    st.integers(min_value=0, max_value=6),
    st.lists(st.from_regex(r"p[0-9]{1,4}", fullmatch=True), max_size=30, unique=True),
    max_size=7,
)


@given(members_strategy, st.integers(min_value=1, max_value=5))
def test_rebalance_evens_out_and_empties_unconfigured_shards(members, count):
    # A partner is in one shard only.
    seen: set[str] = set()
    members = {s: [p for p in ps if not (p in seen or seen.add(p))] for s, ps in members.items()}
    moves = plan.rebalance(members, count)
    after = {s: set(ps) for s, ps in members.items()}
    for m in moves:
        after[m.from_shard].remove(m.partner_id)
        after.setdefault(m.to_shard, set()).add(m.partner_id)
    sizes = [len(after.get(s, ())) for s in range(count)]
    assert all(not after[s] for s in after if s >= count)
    assert max(sizes) - min(sizes) <= 1
    assert sum(sizes) == len(seen)
    assert len({m.partner_id for m in moves}) == len(moves)  # nobody moves twice
    assert plan.rebalance({s: sorted(ps) for s, ps in after.items()}, count) == []  # stable


def test_rebalance_moves_only_what_is_needed():
    moves = plan.rebalance({0: ["a", "b", "c", "d"], 1: []}, 2)
    assert [(m.partner_id, m.from_shard, m.to_shard) for m in moves] == [("d", 0, 1), ("c", 0, 1)]
    assert plan.rebalance({0: ["a", "b"], 1: ["c"]}, 2) == []


@pytest.mark.parametrize("env,message", [
    ({"XERO_SYNC_SHARDS": "two"}, "XERO_SYNC_SHARDS='two' is not a whole number"),
    ({"XERO_SYNC_SHARDS": "0"}, "XERO_SYNC_SHARDS=0 must be at least 1"),
    ({"XERO_SYNC_SHARDS": "2", "XERO_SYNC_SHARD": "2"}, "shards are numbered 0..1"),
    ({"XERO_SYNC_SHARD_PARTITIONS": "-5"}, "must be at least 1"),
])
def test_bad_shard_settings_say_what_is_wrong(env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_shard_settings_defaults_and_values():
    def shards(env: dict[str, str]) -> tuple[int, int, int]:
        settings = Settings.from_env(env)
        return settings.shard_count, settings.shard, settings.shard_partitions

    assert shards({}) == (1, 0, 50_000)
    assert shards({"XERO_SYNC_SHARDS": "4", "XERO_SYNC_SHARD": "3"}) == (4, 3, 50_000)
