"""Benchmark: many partners connect at once to the production shape on this machine (issue 12).

Starts `deploy-local`'s deployment (xero_sync.deploy: PostgreSQL for Dagster and the platform
store, a code server per shard, dagster-daemon with the QueuedRunCoordinator, dagster-webserver)
and the multi-tenant sandbox enforcing Xero's per-tenant limits (60 calls/min, 5,000/day, 5 in
flight) and its per-app limit (10,000/min unless `--app-minute-limit`; the client budgets 90 % of
it). Once the daemon is up, N partners connect at once (one per organisation, through the
sandbox's consent) and the real daemon onboards them: `new_connection_sensor` requests each
partner's last 12 months at priority 10, then its older history at priority -10.

Measured from the moment the partners connect:
1. time until every partner's last 12 months are in the store (`partner_months.landed_at` of the
   partner's newest 12 months, all landed); target `--recent-target` seconds;
2. Xero calls per minute (the sandbox's request log: the busiest 60 s, and the mean over the
   recent phase) against the app limit; target: the busiest minute within the app limit and no
   `appminute` 429;
3. 429s by X-Rate-Limit-Problem; target: no `day` 429;
4. whether any partner waited for another's history: history runs that started while a partner's
   last-12-months run was still queued; target 0 (priorities order the queue). Also the last
   partner's last-12-months time next to the first partner's full history time.

Tenant histories are modest (default 60 invoices over 24 months each: one recent run and one
history run per partner) so it finishes on 2 cores; the output says so. The bench stops once every
partner's last 12 months are in and some partner has its full history (or `--history-wait` s
later). With `--until-connected` it runs on until every partner is Connected (whole history in,
and the months before its first transaction recorded in Dagster as materialized-empty) and
reports 5. how long after a partner's last month landed it became Connected; target
`--connected-lag` s.

    .venv/bin/python bench/onboard_many.py [--partners 200] [--invoices 60] [--months 24]
        [--shards 1] [--max-runs N] [--app-minute-limit 10000] [--recent-target 900]
        [--until-connected [--connected-lag 120]]
Exit status 0 only if every target is met.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xero_sync.demo.ui import Stopped, stop_on_signals  # noqa: E402
from xero_sync.deploy.deployment import Deployment, DeployOptions  # noqa: E402
from xero_sync.deploy.partners import CONNECT_WORKERS  # noqa: E402
from xero_sync.deploy.services import http_json  # noqa: E402
from xero_sync.store.schema import partner_months, xero_connections  # noqa: E402
from xero_sync.sync.month_slices import months_in, recent_months  # noqa: E402

POLL = 5.0  # seconds between looks at the store (a poll with a deadline, not a sync)
REPORT_EVERY = 30.0


@dataclass
class PartnerTimes:
    recent_done: dict[str, float]  # partner -> seconds after connecting when its last 12 months were in
    full_done: dict[str, float]  # partner -> seconds after connecting when every month was in
    connected: int
    connected_at: dict[str, float]  # partner -> seconds after connecting when it was marked Connected


def partner_times(engine: sa.Engine, t0: float, today: dt.date) -> PartnerTimes:
    """When each partner's newest 12 months, and all of its months, had landed (store times)."""
    c, m = xero_connections.c, partner_months.c
    recent = set(recent_months(today, 12))
    with engine.connect() as conn:
        firsts = {p: first for p, first in conn.execute(sa.select(c.partner_id, c.first_month))}
        connected = conn.execute(sa.select(sa.func.count()).where(c.status == "connected")).scalar_one()
        connected_at = {p: at.timestamp() - t0 for p, at in conn.execute(
            sa.select(c.partner_id, c.connected_at).where(c.status == "connected", c.connected_at.is_not(None)))}
        landed: dict[str, dict[dt.date, float]] = {p: {} for p in firsts}
        for partner_id, month, at in conn.execute(sa.select(m.partner_id, m.month, m.landed_at)):
            landed.setdefault(partner_id, {})[month] = at.timestamp() - t0
    recent_done, full_done = {}, {}
    for partner_id, first in firsts.items():
        months = landed[partner_id]
        wanted = {mo for mo in recent if first is None or mo >= first}
        if wanted <= months.keys():
            recent_done[partner_id] = max(months[mo] for mo in wanted)
        if first is not None:
            every = set(months_in(first, max(recent))) | wanted
            if every <= months.keys():
                full_done[partner_id] = max(months[mo] for mo in every)
    return PartnerTimes(recent_done, full_done, connected, connected_at)


def busiest_minute(times: list[float]) -> int:
    """Most calls in any 60 s window (times in seconds, any order)."""
    times, best, lo = sorted(times), 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= 60:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


@dataclass
class RunTimes:
    phase: str  # recent | history
    partner: str
    created: float
    started: float | None
    ended: float | None
    status: str


def onboarding_runs(instance: dg.DagsterInstance) -> list[RunTimes]:
    out = []
    for record in instance.get_run_records(dg.RunsFilter(tags={"xero/phase": "onboarding"})):
        tags = record.dagster_run.tags
        out.append(RunTimes(tags["xero/range"].split(":")[1], tags["xero/partner"],
                            record.create_timestamp.timestamp(), record.start_time, record.end_time,
                            record.dagster_run.status.value))
    return out


def history_runs_ahead_of_recent(runs: list[RunTimes]) -> list[RunTimes]:
    """History runs that took a run slot while some partner's last-12-months run was queued
    (created before the history run started, started after it)."""
    recent = [r for r in runs if r.phase == "recent" and r.started is not None]
    return [h for h in runs if h.phase == "history" and h.started is not None
            and any(r.created <= h.started < r.started for r in recent)]


def watch(deployment: Deployment, t0: float, args: argparse.Namespace) -> PartnerTimes:
    """Poll the store until every partner's last 12 months are in and a partner has its whole
    history (or `--history-wait` s after the former), with an overall deadline."""
    today = dt.datetime.now(dt.timezone.utc).date()
    last_report, all_recent_at = 0.0, None
    while True:
        deployment.children.check()
        times = partner_times(deployment.engine, t0, today)
        elapsed = time.time() - t0
        if elapsed - last_report >= REPORT_EVERY:
            print(f"[bench] +{elapsed:4.0f}s  last 12 months in: {len(times.recent_done)}/{args.partners}  "
                  f"full history: {len(times.full_done)}/{args.partners}  connected: {times.connected}",
                  flush=True)
            last_report = elapsed
        if len(times.recent_done) == args.partners and all_recent_at is None:
            all_recent_at = elapsed
        if args.until_connected:
            if times.connected == args.partners:
                return times
        elif all_recent_at is not None and (times.full_done or elapsed - all_recent_at > args.history_wait):
            return times
        if elapsed > args.timeout:
            print(f"[bench] deadline of {args.timeout:.0f} s reached", flush=True)
            return times
        time.sleep(POLL)  # the poll interval of a bounded wait on the daemon's runs


def report(args, deployment: Deployment, t0: float, times: PartnerTimes) -> bool:
    with dg.DagsterInstance.from_config(str(deployment.dagster_home)) as instance:
        runs = onboarding_runs(instance)
    log = http_json(f"{deployment.sandbox_url}/_sandbox/requests", timeout=60) or []
    api = [e for e in log if "/api.xro/" in e["path"]]
    stamps = [dt.datetime.fromisoformat(e["time"]).timestamp() - t0 for e in api]
    problems = Counter(e["rate_limit_problem"] for e in api if e["status"] == 429)
    calls = http_json(f"{deployment.sandbox_url}/_sandbox/calls", timeout=60) or {}
    rejected = Counter()
    for tenant in calls.values():
        rejected.update(tenant["rejected_by_problem"])
    ahead = history_runs_ahead_of_recent(runs)
    recent_runs = [r for r in runs if r.phase == "recent"]
    history_runs = [r for r in runs if r.phase == "history"]
    all_recent = max(times.recent_done.values()) if len(times.recent_done) == args.partners else None
    first_full = min(times.full_done.values()) if times.full_done else None
    in_recent_phase = [s for s in stamps if all_recent is None or s <= all_recent]
    mean_rate = len(in_recent_phase) / max(all_recent or (time.time() - t0), 1) * 60
    peak = busiest_minute(stamps)
    app_budget = int(deployment.variables()["XERO_SYNC_APP_MINUTE_LIMIT"])
    statuses = Counter(r.status for r in runs)

    print()
    print(f"onboard_many: {args.partners} partners connecting at once, {args.shards} shard(s), "
          f"at most {deployment.max_runs} runs at once, {os.cpu_count()} cores")
    print(f"  tenant histories are modest so this finishes on a small machine: {args.invoices} invoices "
          f"over {args.months} months per organisation")
    print(f"  runs: {len(recent_runs)} last-12-months, {len(history_runs)} history ({dict(statuses)})")
    print(f"  Xero calls: {len(api)} ({len(api) / args.partners:.1f} per partner); "
          f"busiest minute {peak}, mean {mean_rate:.0f}/min while the last 12 months landed")
    print(f"  429s by X-Rate-Limit-Problem: {dict(problems) or 'none'} (sandbox counters: {dict(rejected) or 'none'})")
    ok = True

    def target(name: str, met: bool, text: str) -> None:
        nonlocal ok
        ok &= met
        print(f"  {'PASS' if met else 'MISS'}  {name}: {text}")

    target("every partner's last 12 months in", all_recent is not None and all_recent <= args.recent_target,
           (f"{all_recent:.0f} s" if all_recent is not None else f"only {len(times.recent_done)}/{args.partners}")
           + f" after connecting (target {args.recent_target:.0f} s)")
    target("calls per minute within the app limit", peak <= args.app_minute_limit and not problems["appminute"],
           f"busiest minute {peak} of {args.app_minute_limit:,} ({peak / args.app_minute_limit:.1%}; the client "
           f"budgets {app_budget:,}); {problems['appminute']} appminute 429s")
    target("no daily-limit 429", problems["day"] == 0 and rejected["day"] == 0,
           f"{max(problems['day'], rejected['day'])} 429s with X-Rate-Limit-Problem day")
    target("no partner waited for another's history", not ahead and all_recent is not None,
           f"{len(ahead)} history runs started while a last-12-months run was queued; last partner's last "
           f"12 months at {all_recent or float('nan'):.0f} s, first partner's full history at "
           f"{first_full if first_full is not None else float('nan'):.0f} s")
    if args.until_connected:
        # Connected needs every month landed and the months before the first transaction recorded
        # in Dagster as materialized-empty; how long after its last month landed was each partner
        # told it is Connected?
        lags = [times.connected_at[p] - times.full_done[p] for p in times.connected_at if p in times.full_done]
        worst = max(lags, default=float("nan"))
        all_connected = max(times.connected_at.values()) if times.connected == args.partners else None
        target("Connected follows the data", times.connected == args.partners and worst <= args.connected_lag,
               f"{times.connected}/{args.partners} connected"
               + (f", the last at {all_connected:.0f} s" if all_connected is not None else "")
               + f"; at most {worst:.0f} s after a partner's last month landed (target {args.connected_lag:.0f} s)")
    else:
        print(f"  connected when the bench stopped: {times.connected}/{args.partners} (Connected also needs "
              "the whole history and the months before the first transaction: `--until-connected` waits)")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--partners", type=int, default=200)
    parser.add_argument("--invoices", type=int, default=60)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--shards", type=int, default=1)
    parser.add_argument("--max-runs", type=int, default=None)
    parser.add_argument("--app-minute-limit", type=int, default=10_000)
    parser.add_argument("--recent-target", type=float, default=900.0,
                        help="seconds until every partner's last 12 months are in")
    parser.add_argument("--history-wait", type=float, default=300.0)
    parser.add_argument("--until-connected", action="store_true",
                        help="run until every partner is Connected and time how long after its data")
    parser.add_argument("--connected-lag", type=float, default=120.0,
                        help="seconds from a partner's last month landing to Connected (with --until-connected)")
    parser.add_argument("--timeout", type=float, default=3600.0)
    args = parser.parse_args()

    restore = stop_on_signals()
    with tempfile.TemporaryDirectory(prefix="xs-onboard-many-") as root:
        deployment = Deployment(DeployOptions(
            root=Path(root), shards=args.shards, tenants=args.partners, invoices=args.invoices,
            months=args.months, ui_port=0, sandbox_port=0, web_port=0, max_runs=args.max_runs,
            app_minute_limit=args.app_minute_limit))
        try:
            deployment.start(connect_first=False, say=lambda line: None)
            print(f"[bench] deployment ready: UI {deployment.ui_url}; connecting {args.partners} partners",
                  flush=True)
            t0 = time.time()
            connections = deployment.connect(say=lambda line: print(line, flush=True), workers=CONNECT_WORKERS)
            print(f"[bench] partners per shard: {dict(sorted(Counter(c.shard for c in connections).items()))}",
                  flush=True)
            times = watch(deployment, t0, args)
            ok = report(args, deployment, t0, times)
        except Stopped:
            print("[bench] stopped")
            ok = False
        finally:
            deployment.stop(say=print)
            restore()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
