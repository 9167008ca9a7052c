"""Benchmark: pull every month slice of a 50,000-invoice organisation through XeroClient.

Seeds a sandbox organisation in-process (xero_sandbox seeding + SandboxServer on a frozen
clock, so the client's rate-limit waits advance sandbox time instead of sleeping), then reads each
month as its own DateWindow and compares the API calls made with the floor
Σ over month slices of max(1, ⌈n/1000⌉). The ratio must be 1.00.

    .venv/bin/python bench/pull_month.py [--invoices 50000] [--months 24] [--seed 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from xero_sync.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, XeroEndpoints
from xero_sync.store import schema
from xero_sync.store.token_cipher import TokenCipher
from xero_sync.store.token_store import SqlTokenStore
from xero_sandbox.clock import Clock
from xero_sandbox.server import SandboxServer
from xero_sandbox.state import Sandbox
from xero_sync.xero.client import XeroClient
from xero_sync.xero.oauth import OAuthApp
from xero_sync.xero.rate_budget import RateBudget
from xero_sync.core.tokens import TokenSet
from xero_sync.xero.windows import DateWindow

FROZEN_AT = dt.datetime(2026, 11, 15, 12, 0, tzinfo=dt.timezone.utc)


def month_windows(first: dt.date, last: dt.date) -> list[DateWindow]:
    windows = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        windows.append(DateWindow.month(year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return windows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=50_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    clock = Clock(frozen_at=FROZEN_AT)
    t0 = time.perf_counter()
    sandbox = Sandbox.seeded(seed=args.seed, invoices=args.invoices, months=args.months, clock=clock)
    seed_s = time.perf_counter() - t0
    server = SandboxServer(sandbox).start()
    try:
        tenant_id = next(iter(sandbox.orgs))
        endpoints = XeroEndpoints.for_base(server.base_url)
        with tempfile.TemporaryDirectory() as tmp:
            engine = sa.create_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
            schema.metadata.create_all(engine)
            store = SqlTokenStore(engine, TokenCipher(TokenCipher.generate_key()), clock=clock.time)
            tokens = TokenSet.from_token_response(sandbox.tokens_for(tenant_id), clock.time())
            token_set_id = store.save_new(tokens)
            app = OAuthApp(endpoints, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, clock=clock.time, sleep=clock.sleep)
            budget = RateBudget(tenant_id, clock=clock.time, sleep=clock.sleep)
            client = XeroClient(endpoints=endpoints, tenant_id=tenant_id, token_store=store,
                                token_set_id=token_set_id, oauth_app=app, budget=budget,
                                clock=clock.time, sleep=clock.sleep)

            sim_start = clock.time()
            t1 = time.perf_counter()
            first = client.first_invoice_date()
            if first is None:
                print("organisation has no invoices", file=sys.stderr)
                return 1
            calls = floor = records = 0
            for window in month_windows(first, clock.now().date()):
                result = client.invoices(window=window)
                calls += result.calls
                records += len(result.records)
                floor += max(1, math.ceil(len(result.records) / 1000))
            wall = time.perf_counter() - t1
            sim = clock.time() - sim_start
            engine.dispose()
        server_calls = sum(
            1 for r in sandbox.requests.entries(tenant_id) if "/Invoices" in r.get("path", "")
        )
    finally:
        server.stop()

    months = len(month_windows(first, FROZEN_AT.date()))
    print(f"organisation: {records:,} invoices over {months} month slices (seeded in {seed_s:.1f} s)")
    print(f"API calls (month slices): {calls}   floor Σ max(1, ⌈n/1000⌉): {floor}   ratio: {calls / floor:.2f}")
    print(f"plus 1 call for first_invoice_date; /Invoices requests seen by the sandbox: {server_calls}")
    print(f"wall time: {wall:.2f} s   records/s: {records / wall:,.0f}")
    print(f"simulated Xero time at 60 calls/min (rate budget waits on the frozen clock): {sim:.0f} s")
    print(f"budget: {client.stats()['budget']}")
    return 0 if calls == floor else 2


if __name__ == "__main__":
    raise SystemExit(main())
