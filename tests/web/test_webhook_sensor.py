"""xero_webhook_sensor on its own: bounded reads after the cursor, tenant -> connected partner,
one run per partner, unknown tenants skipped, no writes besides the cursor."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest
import sqlalchemy as sa

import xero_sync.sensors.webhooks as sensor_module
from xero_sync.store import connections
from xero_sync.store.schema import webhook_events
from xero_sync.resources.platform import PlatformResource
from xero_sync.sensors.webhooks import xero_webhook_sensor

WHEN = dt.datetime(2026, 11, 15, 12, tzinfo=dt.timezone.utc)


@pytest.fixture
def store(store_engine):
    with store_engine.begin() as conn:
        for partner, tenant, status in (("acme", "t-acme", "connected"), ("bravo", "t-bravo", "connected"),
                                        ("carol", "t-carol", "pending")):
            connections.ensure_partner(conn, partner, partner.title())
            connections.start_connection(conn, partner, tenant_id=tenant, tenant_name=tenant,
                                         xero_connection_id=f"c-{partner}", token_set_id=None)
            if status == "connected":
                connections.mark_connected(conn, partner)
    return store_engine


def add_events(engine, *events: tuple[str, str]) -> list[int]:
    with engine.begin() as conn:
        return [
            conn.execute(sa.insert(webhook_events).values(
                tenant_id=tenant, category=category, event_type="UPDATE", resource_id="r", event_date=WHEN,
            )).inserted_primary_key[0]
            for tenant, category in events
        ]


def tick(engine, cursor: str | None = None, partitions=("acme", "bravo", "carol")) -> dg.SensorResult:
    platform = PlatformResource(database_url=engine.url.render_as_string(hide_password=False))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("partners", list(partitions))
        with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"platform": platform}) as context:
            return xero_webhook_sensor(context)


def test_one_run_per_connected_partner_with_the_newest_event(store):
    ids = add_events(store, ("t-acme", "INVOICE"), ("t-bravo", "CONTACT"), ("t-acme", "CREDITNOTE"),
                     ("t-unknown", "INVOICE"), ("t-carol", "INVOICE"), ("t-acme", "SUBSCRIPTION"))
    result = tick(store)
    requests = {r.partition_key: r for r in result.run_requests}
    assert set(requests) == {"acme", "bravo"}  # unknown tenant and pending partner skipped
    assert requests["acme"].run_key == f"webhook:acme:{ids[2]}"  # SUBSCRIPTION is not a sync trigger
    assert requests["bravo"].run_key == f"webhook:bravo:{ids[1]}"
    assert requests["acme"].tags == {"xero/tenant": "t-acme", "xero/partner": "acme", "xero/phase": "webhook"}
    assert result.cursor == str(ids[4])  # the last event it read
    with store.begin() as conn:  # discovery only: nothing written
        assert conn.execute(sa.select(sa.func.count()).select_from(webhook_events)
                            .where(webhook_events.c.processed_at.is_not(None))).scalar_one() == 0


def test_cursor_moves_on_and_nothing_new_requests_nothing(store):
    first = add_events(store, ("t-acme", "INVOICE"))
    result = tick(store)
    assert result.cursor == str(first[0])
    again = tick(store, result.cursor)
    assert again.run_requests == [] and again.cursor == result.cursor
    later = add_events(store, ("t-bravo", "INVOICE"))
    third = tick(store, again.cursor)
    assert [r.partition_key for r in third.run_requests] == ["bravo"] and third.cursor == str(later[0])


def test_reads_are_bounded(store, monkeypatch):
    monkeypatch.setattr(sensor_module, "BATCH", 3)
    ids = add_events(store, *[("t-acme", "INVOICE")] * 5)
    result = tick(store)
    assert result.cursor == str(ids[2])
    assert [r.run_key for r in result.run_requests] == [f"webhook:acme:{ids[2]}"]
    rest = tick(store, result.cursor)
    assert rest.cursor == str(ids[4])


def test_unreadable_cursor_starts_over(store):
    ids = add_events(store, ("t-acme", "INVOICE"))
    assert tick(store, "garbage").cursor == str(ids[0])


def test_sensor_definition_loads_with_the_code_location():
    from xero_sync.definitions import build_defs

    assert xero_webhook_sensor.minimum_interval_seconds == 15
    assert xero_webhook_sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert xero_webhook_sensor.job_name == "incremental_sync_job"
    defs = dg.Definitions.merge(build_defs(), dg.Definitions(sensors=[xero_webhook_sensor]))
    dg.Definitions.validate_loadable(defs)


def test_only_this_shards_partners_with_their_partition_get_a_run(store):
    """Shard 0's sensor leaves another shard's partner to that shard's sensor, and a partner whose
    partition is not there yet (it is moving in) gets no run: the next incremental sync covers it."""
    with store.begin() as conn:
        from xero_sync.store import shards

        shards.move(conn, "bravo", 1)
    add_events(store, ("t-acme", "INVOICE"), ("t-bravo", "INVOICE"))
    assert [r.partition_key for r in tick(store).run_requests] == ["acme"]
    assert tick(store, partitions=("bravo",)).run_requests == []
