"""Setup for bench/scale.py: throwaway stores and Dagster instances, partners written straight in.

Partners are registered as the product would leave them (no Xero calls): a partners row, a
connection in its shard (`xero_connections.shard`, chosen with the product's own rule,
`sync.shard_plan.choose`, one partner at a time), months landed in `partner_months` as the runs write
them, and the partner added to its shard's dynamic partitions in the Dagster instance.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
import uuid
from collections.abc import Iterator

import dagster as dg
import sqlalchemy as sa

from xero_sync.deploy.instance_files import POOLED_STORAGE
from xero_sync.store import schema
from xero_sync.sync import shard_plan as plan
from xero_sync.shards.layout import shard as shard_at

PG_ADMIN = os.environ.get("XS_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@contextlib.contextmanager
def store(sqlite: bool) -> Iterator[str]:
    if sqlite:
        with tempfile.TemporaryDirectory(prefix="xs_bench_") as tmp:
            yield f"sqlite:///{tmp}/platform.db"
        return
    with pg_database() as url:
        yield url


@contextlib.contextmanager
def dagster_instance(sqlite: bool) -> Iterator[tuple[dg.DagsterInstance, str | None]]:
    """dagster-postgres storage as in production (pooled, `PooledPostgresStorage`), or a SQLite
    test instance on /dev/shm, and the storage's SQLAlchemy URL (None for SQLite)."""
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(dir=shm) as home:
        if sqlite:
            with dg.instance_for_test(temp_dir=home) as instance:
                yield instance, None
            return
        with pg_database() as url:
            pg = sa.make_url(url).set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
            storage = {"custom": {"module": POOLED_STORAGE[0], "class": POOLED_STORAGE[1],
                                  "config": {"postgres_url": pg}}}
            with dg.instance_for_test(temp_dir=home, overrides={"storage": storage}) as instance:
                yield instance, url


def analyze(*urls: str | None) -> None:
    """ANALYZE after bulk writes, as autovacuum does in a store that grew over months. Without
    it, right after the bench's bulk inserts PostgreSQL plans from empty-table statistics (the
    outbox query then joins through ix_xero_connections_shard in a nested loop: 0.24 s per tick
    instead of 2 ms at 10,000 partners)."""
    for url in urls:
        if url is None:
            continue
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text("ANALYZE"))
        engine.dispose()


@contextlib.contextmanager
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database `xs_bench_<random>`, dropped afterwards."""
    name = f"xs_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def assign_shards(ids: list[str], shard_count: int) -> dict[str, int]:
    """Each partner's shard as `connections.ensure_partner` picks it: the least filled, in turn."""
    counts: dict[int, int] = {}
    found = {}
    for partner_id in ids:
        s = plan.choose(counts, shard_count)
        counts[s] = counts.get(s, 0) + 1
        found[partner_id] = s
    return found


def members(shard_of: dict[str, int]) -> dict[int, list[str]]:
    by_shard: dict[int, list[str]] = {}
    for partner_id, s in shard_of.items():
        by_shard.setdefault(s, []).append(partner_id)
    return by_shard


def add_partitions(instance: dg.DagsterInstance, shard_of: dict[str, int]) -> None:
    """Each partner into its shard's dynamic partitions (`partners`, `partners_shard_N`)."""
    for s, ids in sorted(members(shard_of).items()):
        instance.add_dynamic_partitions(shard_at(s).partners.name, ids)


def insert(engine: sa.Engine, table: sa.Table, rows: list[dict], chunk: int = 5000) -> None:
    with engine.begin() as conn:
        for start in range(0, len(rows), chunk):
            conn.execute(sa.insert(table), rows[start:start + chunk])


def register(engine: sa.Engine, ids: list[str], status: str, shard_of: dict[str, int],
             first_month: dt.date | None = None, months_total: int = 0) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    insert(engine, schema.partners, [{"partner_id": p, "name": p} for p in ids])
    insert(engine, schema.xero_connections, [
        {"partner_id": p, "tenant_id": f"t-{p}", "tenant_name": p, "xero_connection_id": f"c-{p}",
         "status": status, "first_month": first_month, "months_total": months_total, "shard": shard_of[p],
         "created_at": now, "updated_at": now} for p in ids])


def set_status(engine: sa.Engine, ids: list[str], status: str, months_total: int | None = None) -> None:
    values = {"status": status, "updated_at": dt.datetime.now(dt.timezone.utc)}
    if months_total is not None:
        values |= {"months_total": months_total, "months_done": months_total}
    c = schema.xero_connections.c
    with engine.begin() as conn:
        for start in range(0, len(ids), 5000):
            conn.execute(sa.update(schema.xero_connections).where(c.partner_id.in_(ids[start:start + 5000]))
                         .values(**values))


def land(engine: sa.Engine, ids: list[str], month_list: list[dt.date]) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    insert(engine, schema.partner_months,
           [{"partner_id": p, "month": m, "landed_at": now} for p in ids for m in month_list], chunk=10_000)
