"""A run using both the Xero and the platform resource holds one engine on the platform store:
the XeroResource nests the definitions' PlatformResource and uses its engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.dagster.conftest import World, make_world
from xero_sync.demo.main import drive_headless
from xero_sync.store.db import normalize_url


@pytest.fixture
def small_world(sandbox_factory, db_url, tmp_path, monkeypatch) -> Iterator[World]:
    server = sandbox_factory(seed=3, invoices=30, months=2, minute_limit=100_000)
    yield from make_world(server, db_url, tmp_path, monkeypatch)


def _same_database(engine: sa.Engine, url: str) -> bool:
    store = normalize_url(url)
    return (engine.url.get_backend_name(), engine.url.host, engine.url.database) == \
        (store.get_backend_name(), store.host, store.database)


def test_a_run_with_both_resources_opens_one_engine_on_the_store(small_world):
    world = small_world
    assert drive_headless(world.instance, world.defs, world.engine, world.partner_id) == []
    store_engines: set[int] = set()

    def on_connect(conn: sa.Connection) -> None:
        if conn.engine is not world.engine and _same_database(conn.engine, world.db_url):
            store_engines.add(id(conn.engine))

    sa.event.listen(sa.Engine, "engine_connect", on_connect)
    try:
        job = world.defs.get_job_def("incremental_sync_job")  # pull_changes_op: xero and platform
        result = job.execute_in_process(instance=world.instance, partition_key=world.partner_id)
    finally:
        sa.event.remove(sa.Engine, "engine_connect", on_connect)
    assert result.success
    assert len(store_engines) == 1
