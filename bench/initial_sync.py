"""Benchmark: the initial sync of a partner (issue 3's speed figures) and the apply path's speed.

Three parts, each printing its figures with PASS/MISS next to every target:

1. large  - a sandbox organisation of 50,000 invoices over 36 months, onboarded end to end through
            `demo.drive_headless` (the onboarding sensor + range runs in a real Dagster instance)
            into a PostgreSQL platform store `xs_bench_<random>` (created and dropped here).
            API calls (sandbox count) vs the floor Σ ⌈landed records / 1000⌉ per entity (target
            ratio ≤ 1.10), wall time, records/s, peak RSS.
   long   - the same number of invoices over 120 months (history chunks follow the volume, not
            the calendar): calls / floor ≤ 1.10 too.
2. small  - 300 invoices over 10 years (months=120): total API calls (target ≤ 40).
3. apply  - `apply.apply_invoices` of 100,000 XeroInvoice records into PostgreSQL (fresh inserts,
            then a pass where every invoice changed) against a plain COPY of the same rows into
            an equivalent table (target ≤ 3x).

The sandbox runs on the wall clock with minute and day limits raised (and the client's own
per-tenant budget raised to match), so the figures are our work, not rate-limit waits.

    .venv/bin/python bench/initial_sync.py [--parts large,long,small,apply] [--invoices 50000]
        [--months 36] [--apply-rows 100000] [--sqlite] [--profile]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import io
import math
import os
import pstats
import random
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import dagster as dg
import sqlalchemy as sa

from xero_sync.config import Settings
from xero_sync.store import apply, schema
from xero_sync.store.db import make_engine, upgrade
from xero_sync.store.token_cipher import TokenCipher
from xero_sandbox.clock import Clock
from xero_sandbox.server import SandboxServer
from xero_sandbox.state import Sandbox
from xero_sync.sync.rules import XeroInvoice
from xero_sync.xero.rate_budget import budget_for

PG_ADMIN = os.environ.get("XS_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
UNTHROTTLED = 1_000_000  # sandbox minute/day limits and the client budget's minute limit
PAGE = 1000
LANDED = {  # entity -> landing table
    "contacts": schema.xero_contacts,
    "invoices": schema.xero_invoices,
    "payments": schema.xero_payments,
    "credit_notes": schema.xero_credit_notes,
}
RATIO_TARGET = 1.10
SMALL_CALLS_TARGET = 40
APPLY_TARGET = 3.0


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def peak_rss_mb() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- databases -----------------------------------------------------------------------------


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


@contextlib.contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="xs_bench_") as tmp:
        yield f"sqlite:///{tmp}/platform.db"


# --- parts 1 and 2: onboarding through Dagster ----------------------------------------------


@dataclass
class Onboarding:
    backend: str
    invoices_seeded: int
    months: int
    landed: dict[str, int]
    calls: int
    by_endpoint: dict[str, int]
    seed_s: float
    sync_s: float
    status: str
    failures: list[str]
    profile: str = ""

    @property
    def floor(self) -> int:
        return sum(math.ceil(n / PAGE) for n in self.landed.values())

    @property
    def records(self) -> int:
        return sum(self.landed.values())


def onboard(db_url: str, backend: str, *, invoices: int, months: int, seed: int,
            profile: bool = False) -> Onboarding:
    """Seed a sandbox, connect the demo partner, run the whole onboarding headless."""
    from xero_sync.definitions import build_defs
    from xero_sync.demo.main import connect_demo_partner, drive_headless
    from xero_sync.store import connections
    from xero_sync.resources.xero import XeroResource

    t0 = time.perf_counter()
    sandbox = Sandbox.seeded(seed=seed, invoices=invoices, months=months, clock=Clock(),
                             minute_limit=UNTHROTTLED, day_limit=UNTHROTTLED)
    seed_s = time.perf_counter() - t0
    server = SandboxServer(sandbox).start()
    saved_env = dict(os.environ)
    home = tempfile.mkdtemp(prefix="xs_bench_home_")
    try:
        os.environ.update(
            XERO_SYNC_HOME=home, XERO_SYNC_DATABASE_URL=db_url, XERO_SYNC_SANDBOX_URL=server.base_url,
            XERO_SYNC_XERO="sandbox", XERO_SYNC_ENCRYPTION_KEY=TokenCipher.generate_key(),
        )
        upgrade(db_url)
        engine = make_engine(db_url)
        connection = connect_demo_partner(Settings.from_env(), engine)
        tenant_id = connection.tenant_id
        # The client paces itself at Xero's 60/minute by default; the sandbox limit is raised, so
        # raise the process-wide budget of this tenant too (it is keyed by tenant and clock).
        budget_for(tenant_id, minute_limit=UNTHROTTLED)
        shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
        profiler = cProfile.Profile() if profile else None
        with tempfile.TemporaryDirectory(dir=shm) as dagster_home, \
                dg.instance_for_test(temp_dir=dagster_home) as instance:
            base = build_defs(database_url=db_url, sandbox_url=server.base_url)
            # The app-wide budget in the store is raised like the sandbox's limits.
            defs = dg.Definitions(
                assets=base.assets, jobs=base.jobs, sensors=base.sensors, schedules=base.schedules,
                resources={**base.resources, "xero": XeroResource(
                    platform=base.resources["platform"], sandbox_url=server.base_url, app_minute_limit=UNTHROTTLED,
                    tenant_minute_limit=UNTHROTTLED, tenant_day_limit=UNTHROTTLED)},
            )
            t1 = time.perf_counter()
            if profiler:
                profiler.enable()
            failures = drive_headless(instance, defs, engine, connection.partner_id, max_runs=200)
            if profiler:
                profiler.disable()
            sync_s = time.perf_counter() - t1
        with engine.begin() as conn:
            status = connections.get_connection(conn, connection.partner_id).status
            landed = {
                entity: conn.execute(sa.select(sa.func.count()).select_from(table)
                                     .where(table.c.partner_id == connection.partner_id)).scalar_one()
                for entity, table in LANDED.items()
            }
        engine.dispose()
        calls = sandbox.limits.calls(tenant_id)
        return Onboarding(backend, invoices, months, landed, calls["total"], dict(calls["by_endpoint"]),
                          seed_s, sync_s, status, failures, _profile_text(profiler) if profiler else "")
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        server.stop()


def _profile_text(profiler: cProfile.Profile, limit: int = 25) -> str:
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(limit)
    return out.getvalue()


def report_large(r: Onboarding, title: str = "1. large organisation") -> None:
    ratio = r.calls / max(1, r.floor)
    print(f"\n== {title}, platform store on {r.backend} ==")
    print(f"sandbox: {r.invoices_seeded} invoices over {r.months} months, seeded in {r.seed_s:.1f} s; "
          f"wall clock; minute_limit and day_limit raised to {UNTHROTTLED:,} (client budget too): "
          "no throttling")
    print(f"onboarding status       {r.status}" + (f"  problems: {r.failures}" if r.failures else ""))
    print("landed records          " + ", ".join(f"{e} {n}" for e, n in r.landed.items())
          + f"  (total {r.records})")
    print(f"API calls (sandbox)     {r.calls}   by endpoint {r.by_endpoint}")
    print(f"floor Σ⌈records/1000⌉   {r.floor}")
    print(f"ratio                   {ratio:.3f}   target ≤ {RATIO_TARGET:.2f}  {verdict(ratio <= RATIO_TARGET)}")
    print(f"wall time (onboarding)  {r.sync_s:.1f} s")
    print(f"records/s               {r.records / r.sync_s:,.0f}")
    print(f"peak memory             {peak_rss_mb():,.0f} MB (resource.getrusage(RUSAGE_SELF).ru_maxrss of "
          "this process, which also holds the in-process sandbox and Dagster)")
    if r.profile:
        print("profile (cumulative, top entries):")
        print(r.profile)


def report_small(r: Onboarding) -> None:
    print(f"\n== 2. small organisation, platform store on {r.backend} ==")
    print(f"sandbox: {r.invoices_seeded} invoices over {r.months} months; onboarding {r.status} "
          f"in {r.sync_s:.1f} s" + (f"  problems: {r.failures}" if r.failures else ""))
    print("landed records          " + ", ".join(f"{e} {n}" for e, n in r.landed.items()))
    print(f"API calls (sandbox)     {r.calls}   target ≤ {SMALL_CALLS_TARGET}  "
          f"{verdict(r.calls <= SMALL_CALLS_TARGET and r.status == 'connected')}   "
          f"(one call per entity per month would be {4 * r.months})")
    print(f"by endpoint             {r.by_endpoint}")


# --- part 3: apply speed -----------------------------------------------------------------


def make_invoices(n: int, contacts: int, seed: int, changed: bool = False) -> list[XeroInvoice]:
    """`n` approved sales invoices; `changed` gives every one a newer version (part paid)."""
    rng = random.Random(seed)
    stamp = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    out = []
    for k in range(n):
        issue = dt.date(2023, 1, 1) + dt.timedelta(days=k % 1000)
        total = rng.randrange(1_000, 1_000_000)
        paid = total // 3 if changed else 0
        out.append(XeroInvoice(
            xero_invoice_id=str(uuid.UUID(int=k + 1)),  # Xero-shaped ids, the same in both passes
            number=f"INV-{k:06d}", type="ACCREC", status="AUTHORISED",
            contact_id=str(uuid.UUID(int=(1 << 64) + k % contacts)), currency="USD", issue_date=issue,
            due_date=issue + dt.timedelta(days=30), total_minor=total, amount_due_minor=total - paid,
            amount_paid_minor=paid, amount_credited_minor=0,
            updated_at=stamp + dt.timedelta(seconds=k, days=1 if changed else 0),
        ))
    return out


def platform_rows(partner_id: str, xs: list[XeroInvoice], customer_ids: dict[str, int]) -> list[tuple]:
    """The rows apply writes, as tuples in PLAIN_COLUMNS order (the COPY baseline's input)."""
    from xero_sync.sync.rules import platform_status

    now = dt.datetime.now(dt.timezone.utc)
    return [
        (partner_id, "xero", x.xero_invoice_id, x.number, customer_ids[x.contact_id], x.currency,
         x.issue_date, x.due_date, x.total_minor, x.amount_due_minor,
         platform_status(x.amount_due_minor, x.total_minor), x.status, False, False, None,
         x.updated_at, now)
        for x in xs
    ]


PLAIN_COLUMNS = ("partner_id", "source", "xero_invoice_id", "number", "customer_id", "currency",
                 "issue_date", "due_date", "total_minor", "outstanding_minor", "status", "xero_status",
                 "deleted_in_xero", "archived", "conflict", "xero_updated_at", "updated_at")


def copy_plain(engine: sa.Engine, table: str, rows: list[tuple], foreign_keys: bool = True) -> float:
    """Seconds to COPY `rows` into a fresh `table` defined like invoices (same columns, primary
    key, unique key, indexes, defaults and the same foreign keys), committed: the same rows into
    the same kind of table, so the ratio measures what apply adds (reading the current state,
    the rules, customer stubs), not the table's own constraint checks."""
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        conn.exec_driver_sql(f"CREATE TABLE {table} (LIKE invoices INCLUDING ALL)")
        if foreign_keys:
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD FOREIGN KEY (partner_id) REFERENCES partners (partner_id)")
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD FOREIGN KEY (customer_id) REFERENCES customers (customer_id)")
    cols = ", ".join(PLAIN_COLUMNS)
    t0 = time.perf_counter()
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return time.perf_counter() - t0


def timed_apply(engine: sa.Engine, partner_id: str, xs: list[XeroInvoice],
                profiler: cProfile.Profile | None) -> tuple[float, apply.ApplyCounts]:
    t0 = time.perf_counter()
    if profiler:
        profiler.enable()
    with engine.begin() as conn:
        counts = apply.apply_invoices(conn, partner_id, xs)
    if profiler:
        profiler.disable()
    return time.perf_counter() - t0, counts


def bench_apply(db_url: str, n: int, *, contacts: int = 2_000, profile: bool = False) -> bool:
    print(f"\n== 3. apply speed: {n:,} invoices into PostgreSQL ==")
    upgrade(db_url)
    engine = make_engine(db_url)
    partner_id = "bench-msp"
    with engine.begin() as conn:
        conn.execute(sa.insert(schema.partners).values(partner_id=partner_id, name="Bench MSP"))
    fresh = make_invoices(n, contacts, seed=1)
    changed = make_invoices(n, contacts, seed=1, changed=True)
    profiler = cProfile.Profile() if profile else None
    ok = True
    try:
        # Warm up the same paths on a few rows of another partner (imports, compiled statements).
        with engine.begin() as conn:
            conn.execute(sa.insert(schema.partners).values(partner_id="warm-up", name="Warm up"))
            apply.apply_invoices(conn, "warm-up", make_invoices(200, 20, seed=2))
        insert_s, ins = timed_apply(engine, partner_id, fresh, profiler)
        update_s, upd = timed_apply(engine, partner_id, changed, profiler)
        with engine.begin() as conn:
            customer_ids = dict(conn.execute(
                sa.select(schema.customers.c.xero_contact_id, schema.customers.c.customer_id)
                .where(schema.customers.c.partner_id == partner_id)).all())
        copy_fresh_s = copy_plain(engine, "bench_plain_invoices", platform_rows(partner_id, fresh, customer_ids))
        copy_changed_s = copy_plain(engine, "bench_plain_invoices", platform_rows(partner_id, changed, customer_ids))
        copy_bare_s = copy_plain(engine, "bench_plain_invoices", platform_rows(partner_id, fresh, customer_ids),
                                 foreign_keys=False)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS bench_plain_invoices")
        print(f"apply_invoices inserts  {insert_s:6.2f} s   {ins}")
        print(f"apply_invoices updates  {update_s:6.2f} s   {upd}")
        print(f"plain COPY (same rows)  {copy_fresh_s:6.2f} s fresh values, {copy_changed_s:.2f} s changed "
              "values (into an empty table like invoices, same keys, indexes and foreign keys)")
        print(f"  for reference: COPY into the same table without its foreign keys {copy_bare_s:.2f} s "
              f"(inserts would be {insert_s / copy_bare_s:.2f}x that)")
        for what, spent, base in (("inserts", insert_s, copy_fresh_s), ("updates", update_s, copy_changed_s)):
            ratio = spent / base
            ok &= ratio <= APPLY_TARGET
            print(f"ratio {what:<8}          {ratio:5.2f}x   target ≤ {APPLY_TARGET:.0f}x  {verdict(ratio <= APPLY_TARGET)}")
        bad = (ins.inserted, upd.updated) != (n, n)
        if bad:
            print(f"apply counts wrong: expected {n} inserted then {n} updated", file=sys.stderr)
        if profiler:
            print("profile of both apply passes (cumulative, top entries):")
            print(_profile_text(profiler, 30))
        return ok and not bad
    finally:
        engine.dispose()


# --- main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="large,long,small,apply",
                        help="comma list of large, long, small, apply")
    parser.add_argument("--invoices", type=int, default=50_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--apply-rows", type=int, default=100_000)
    parser.add_argument("--sqlite", action="store_true", help="also run part 1 on a SQLite platform store")
    parser.add_argument("--profile", action="store_true", help="print cProfile tops for parts 1 and 3")
    args = parser.parse_args(argv)
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    unknown = parts - {"large", "long", "small", "apply"}
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")

    ok = True
    if "large" in parts:
        with pg_database() as url:
            r = onboard(url, "PostgreSQL", invoices=args.invoices, months=args.months, seed=args.seed,
                        profile=args.profile)
        report_large(r)
        ok &= r.status == "connected" and r.calls / max(1, r.floor) <= RATIO_TARGET
        if args.sqlite:
            with sqlite_database() as url:
                r = onboard(url, "SQLite", invoices=args.invoices, months=args.months, seed=args.seed)
            report_large(r)
            ok &= r.status == "connected" and r.calls / max(1, r.floor) <= RATIO_TARGET
    if "long" in parts:
        with pg_database() as url:
            r = onboard(url, "PostgreSQL", invoices=args.invoices, months=120, seed=args.seed)
        report_large(r, title="long history (120 months)")
        ok &= r.status == "connected" and r.calls / max(1, r.floor) <= RATIO_TARGET
    if "small" in parts:
        with pg_database() as url:
            r = onboard(url, "PostgreSQL", invoices=300, months=120, seed=args.seed)
        report_small(r)
        ok &= r.status == "connected" and r.calls <= SMALL_CALLS_TARGET
    if "apply" in parts:
        with pg_database() as url:
            ok &= bench_apply(url, args.apply_rows, profile=args.profile)
    print(f"\nall targets met: {'yes' if ok else 'no'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
