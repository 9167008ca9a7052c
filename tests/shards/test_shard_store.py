"""The platform store's side of shards: assignment on creation, moves and their completion."""

from __future__ import annotations

import datetime as dt

import pytest

from xero_sync.store import connections, outbox_work, shards


def make(engine, *ids: str, count: int) -> None:
    with engine.begin() as conn:
        for partner_id in ids:
            connections.ensure_partner(conn, partner_id, partner_id.title(), shard_count=count)


def test_new_partners_spread_over_shards_and_stay(store_engine):
    make(store_engine, "a", "b", "c", "d", "e", count=3)
    with store_engine.begin() as conn:
        assert shards.members(conn) == {0: ["a", "d"], 1: ["b", "e"], 2: ["c"]}
        # Renaming or re-creating never reassigns.
        connections.ensure_partner(conn, "a", "Renamed", shard_count=5)
        assert shards.shard_of(conn, "a") == 0
        assert connections.get_connection(conn, "c").shard == 2
        assert [c.partner_id for c in connections.list_connections(conn, shard=1)] == ["b", "e"]


def test_default_shard_count_comes_from_the_environment(store_engine, monkeypatch):
    monkeypatch.setenv("XERO_SYNC_SHARDS", "2")
    with store_engine.begin() as conn:
        connections.ensure_partner(conn, "a", "A")
        connections.ensure_partner(conn, "b", "B")
        assert shards.counts(conn) == {0: 1, 1: 1}


def test_a_move_is_recorded_for_both_shards_and_completed_once(store_engine):
    make(store_engine, "a", "b", count=2)
    with store_engine.begin() as conn:
        moved = shards.move(conn, "a", 1)
        assert (moved.from_shard, moved.to_shard) == (0, 1)
        assert shards.move(conn, "a", 1) is None  # already there: nothing recorded
        assert shards.shard_of(conn, "a") == 1
        assert [m.partner_id for m in shards.departures(conn, 0)] == ["a"]
        assert [m.partner_id for m in shards.arrivals(conn, 1)] == ["a"]
        assert shards.departures(conn, 1) == [] and shards.arrivals(conn, 0) == []
        shards.mark_departed(conn, [moved.move_id], 0)
        shards.mark_arrived(conn, [moved.move_id])
        assert shards.departures(conn, 0) == [] and shards.arrivals(conn, 1) == []


def test_moving_back_before_the_old_shard_acted_keeps_its_partition(store_engine):
    make(store_engine, "a", count=2)
    with store_engine.begin() as conn:
        shards.move(conn, "a", 1)
        shards.move(conn, "a", 0)
        # Shard 0 never removed the partition: nothing to remove now, and shard 1's arrival is
        # superseded; shard 1 removes the partition it may have added, shard 0 reports again.
        assert shards.departures(conn, 0) == []
        assert [m.partner_id for m in shards.departures(conn, 1)] == ["a"]
        assert [(m.from_shard, m.to_shard) for m in shards.arrivals(conn, 0)] == [(1, 0)]
        assert shards.arrivals(conn, 1) == []


def test_unknown_partner_and_bad_shard_are_refused(store_engine):
    with store_engine.begin() as conn:
        with pytest.raises(shards.UnknownPartnerShard, match="'ghost' is not registered"):
            shards.move(conn, "ghost", 1)
    # Not inside the transaction above: a second writer waits for the first (SQLite BEGIN IMMEDIATE).
    make(store_engine, "a", count=1)
    with store_engine.begin() as conn, pytest.raises(ValueError, match="shard must be >= 0"):
        shards.move(conn, "a", -1)


def test_outbox_work_is_read_per_shard(store_engine):
    make(store_engine, "a", "b", count=2)
    now = dt.datetime.now(dt.timezone.utc)
    with store_engine.begin() as conn:
        for partner_id in ("a", "b"):
            connections.start_connection(conn, partner_id, tenant_id=f"t-{partner_id}", tenant_name=partner_id,
                                         xero_connection_id=f"c-{partner_id}", token_set_id=None)
    from tests.push.test_outbox_sensor import add_rows
    from xero_sync.sensors.outbox import settle_windows

    for partner_id in ("a", "b"):
        add_rows(store_engine, partner_id, 2)
    with store_engine.begin() as conn:
        def work(shard):
            return [r.partner_id for r in outbox_work.partners_with_work(
                conn, None, now, limit=10, stranded_after=dt.timedelta(minutes=5),
                settle=settle_windows(now), shard=shard)]
        assert work(0) == ["a"] and work(1) == ["b"] and work(None) == ["a", "b"]


def test_partners_created_at_once_still_spread_over_shards(store_engine):
    """Many partners registered at the same moment (a go-live: consents in parallel) each see the
    counts the others left, so two shards end up even, not all on the one that was least filled."""
    import threading

    partners = [f"p{i:02d}" for i in range(16)]
    start = threading.Barrier(len(partners))
    errors: list[BaseException] = []

    def create(partner_id: str) -> None:
        try:
            start.wait()
            make(store_engine, partner_id, count=2)
        except BaseException as exc:  # reported below, with the partner
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(p,)) for p in partners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with store_engine.begin() as conn:
        assert shards.counts(conn) == {0: 8, 1: 8}
