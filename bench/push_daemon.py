"""Benchmark: payment -> Xero and Xero change -> store in the production shape (issue 20).

Starts `deploy-local`'s deployment (xero_sync.deploy: PostgreSQL, one code server per shard,
dagster-daemon with the QueuedRunCoordinator, dagster-webserver, `xero-sync web` under waitress
with a generated service token, the sandbox's webhooks pointed at its receiver) with the
production sensor intervals (XERO_SYNC_SENSOR_INTERVAL unset), waits until every partner is
Connected and sets up each partner's accounts (as `xero-sync accounts` would). Then:

1. `--rounds` payments through the events API (POST /api/partners/<p>/events/payment-taken with
   the service token), alternating between the partners (so both shards' sensors and code servers
   are used), one at a time, each after a random pause of 0-`--spread` s (payments arrive at any
   moment of the sensor's cycle, not just after the previous push). The clock runs from the 201
   to the sandbox listing a payment with that Reference (polled every 0.1 s). Each round also
   says where its time went, from the push run's record (run key `push:<partner>:<outbox id>`):
   recorded -> run created (the sensor's tick), created -> started (queue and run worker start),
   started -> in Xero (the push itself).
2. `--webhook-rounds` Xero changes: a Xero user moves an unpaid invoice's due date (sandbox control
   API); the clock runs until the store's `xero_invoices` row has the new date (the sandbox's
   webhook -> receiver -> xero_webhook_sensor -> incremental_sync_job).

Targets: payment -> Xero p50 <= 10 s and max <= 20 s; Xero change -> store <= 60 s. The machine's
load average is printed before and after (the figures depend on it).

    .venv/bin/python bench/push_daemon.py [--rounds 12] [--webhook-rounds 3] [--partners 2]
        [--shards 2] [--spread 5] [--seed 1]
Exit status 0 only if every target is met.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xero_sync.demo.ui import Stopped, stop_on_signals  # noqa: E402
from xero_sync.deploy import probes  # noqa: E402
from xero_sync.deploy.deployment import Deployment, DeployOptions  # noqa: E402
from xero_sync.store import connections  # noqa: E402

P50_TARGET, MAX_TARGET, WEBHOOK_TARGET = 10.0, 20.0, 60.0
CONNECTED_SECONDS = 600.0
APPLY_TIMEOUT = 120.0


@dataclass
class Round:
    label: str
    latency: float
    tick_wait: float | None = None
    run_start: float | None = None
    push: float | None = None

    def line(self) -> str:
        parts = [f"{self.label:<14} {self.latency:6.1f} s"]
        if self.tick_wait is not None:
            parts.append(f"(tick {self.tick_wait:4.1f} s")
            parts.append(f"run start {self.run_start:4.1f} s" if self.run_start is not None else "run start ?")
            parts.append(f"push {self.push:4.1f} s)" if self.push is not None else "push ?)")
        return "  ".join(parts)


def run_times(instance: dg.DagsterInstance, partner_id: str, outbox_id: int) -> tuple[float | None, float | None]:
    records = instance.get_run_records(dg.RunsFilter(tags={"dagster/run_key": f"push:{partner_id}:{outbox_id}"}),
                                       limit=1)
    if not records:
        return None, None
    return records[0].create_timestamp.timestamp(), records[0].start_time


def payment_round(deployment: Deployment, instance: dg.DagsterInstance, partner: connections.Connection,
                  invoice: sa.Row, label: str) -> Round:
    token = deployment.variables()["XERO_SYNC_SERVICE_TOKEN"]
    answer = probes.take_payment(deployment.web_url, token, partner.partner_id, invoice, label)
    recorded_wall, recorded = time.time(), time.monotonic()
    if answer.status != 201:
        raise RuntimeError(f"the events API answered {answer.status}: {answer.body}")
    probes.wait_until(f"payment {label} in Xero",
                      lambda: probes.payment_in_xero(deployment.sandbox_url, partner.tenant_id, label),
                      APPLY_TIMEOUT, deployment.children.check)
    latency = time.monotonic() - recorded
    result = Round(label, latency)
    created, started = run_times(instance, partner.partner_id, answer.body["outbox_id"])
    if created is not None:
        result.tick_wait = created - recorded_wall
        if started is not None:
            result.run_start = started - created
            result.push = recorded_wall + latency - started
    return result


def webhook_round(deployment: Deployment, partner: connections.Connection, xero_invoice_id: str, n: int) -> Round:
    due = dt.date(2030, 1, 1) + dt.timedelta(days=n)
    started = time.monotonic()
    probes.edit_due_date_in_xero(deployment.sandbox_url, partner.tenant_id, xero_invoice_id, due)
    probes.wait_until(f"the due date of {xero_invoice_id} in the store",
                      lambda: probes.due_date_in_store(deployment.engine, partner.partner_id, xero_invoice_id) == due,
                      APPLY_TIMEOUT, deployment.children.check)
    return Round(f"webhook {n}", time.monotonic() - started)


def figures(name: str, rounds: list[Round]) -> dict[str, float]:
    values = sorted(r.latency for r in rounds)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return {"p50": statistics.median(values), "p95": p95, "max": values[-1]}


def load() -> str:
    return "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg()) + f" on {os.cpu_count()} cores"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--webhook-rounds", type=int, default=3)
    parser.add_argument("--partners", type=int, default=2)
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--invoices", type=int, default=60)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--spread", type=float, default=5.0, help="random pause before each payment, at most (s)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    os.environ.pop("XERO_SYNC_SENSOR_INTERVAL", None)  # the production intervals
    rng = random.Random(args.seed)

    restore = stop_on_signals()
    payments: list[Round] = []
    hooks: list[Round] = []
    with tempfile.TemporaryDirectory(prefix="xs-push-daemon-") as root:
        deployment = Deployment(DeployOptions(
            root=Path(root), shards=args.shards, tenants=args.partners, invoices=args.invoices,
            months=args.months, seed=args.seed, ui_port=0, sandbox_port=0, web_port=0))
        try:
            print(f"[bench] {load()}", flush=True)
            deployment.start(say=lambda line: print(line, flush=True))
            probes.wait_until("every partner Connected", lambda: deployment.progress().all_connected,
                              CONNECTED_SECONDS, deployment.children.check)
            with deployment.engine.connect() as conn:
                partners = [connections.get_connection(conn, p) for p in sorted(
                    r.partner_id for r in conn.execute(sa.text("SELECT partner_id FROM xero_connections")))]
            for partner in partners:
                probes.set_up_accounts(deployment.engine, partner.partner_id)
            print(f"[bench] partners {[(p.partner_id, p.shard) for p in partners]} Connected, accounts set up",
                  flush=True)
            per_partner = -(-(args.rounds + 1) // len(partners))
            targets = {p.partner_id: probes.open_invoices(deployment.engine, p.partner_id, per_partner)
                       for p in partners}
            with dg.DagsterInstance.from_config(str(deployment.dagster_home)) as instance:
                warm = payment_round(deployment, instance, partners[0], targets[partners[0].partner_id].pop(),
                                     "warmup")
                print(f"  warm-up (not counted): {warm.line()}", flush=True)
                for n in range(args.rounds):
                    partner = partners[n % len(partners)]
                    time.sleep(rng.uniform(0, args.spread))  # arrival at a random moment of the cycle
                    r = payment_round(deployment, instance, partner, targets[partner.partner_id].pop(),
                                      f"pay_{n + 1}_{partner.partner_id}")
                    payments.append(r)
                    print(f"  payment {n + 1:2}: {r.line()}", flush=True)
            for n in range(args.webhook_rounds):
                partner = partners[n % len(partners)]
                (invoice,) = probes.unpaid_invoices(deployment.engine, partner.partner_id, n // len(partners) + 1)[-1:]
                r = webhook_round(deployment, partner, invoice.xero_invoice_id, n + 1)
                hooks.append(r)
                print(f"  {r.line()}", flush=True)
        except Stopped:
            print("[bench] stopped")
            return 1
        finally:
            deployment.stop(say=print)
            restore()
    print(f"[bench] {load()}")
    ok = True
    if payments:
        f = figures("payment", payments)
        p50_ok, max_ok = f["p50"] <= P50_TARGET, f["max"] <= MAX_TARGET
        ok &= p50_ok and max_ok
        print(f"payment -> Xero ({len(payments)} payments through the events API, {args.shards} shards)")
        print(f"  p50 {f['p50']:5.1f} s   target <= {P50_TARGET:.0f} s: {'PASS' if p50_ok else 'MISS'}")
        print(f"  p95 {f['p95']:5.1f} s")
        print(f"  max {f['max']:5.1f} s   target <= {MAX_TARGET:.0f} s: {'PASS' if max_ok else 'MISS'}")
        parts = [(name, [getattr(r, name) for r in payments if getattr(r, name) is not None])
                 for name in ("tick_wait", "run_start", "push")]
        print("  where the time went (median): " + ", ".join(
            f"{name} {statistics.median(v):.1f} s" for name, v in parts if v))
    if hooks:
        f = figures("webhook", hooks)
        hook_ok = f["max"] <= WEBHOOK_TARGET
        ok &= hook_ok
        print(f"Xero change -> store by webhook ({len(hooks)} edits)")
        print(f"  p50 {f['p50']:5.1f} s, max {f['max']:5.1f} s   target <= {WEBHOOK_TARGET:.0f} s: "
              f"{'PASS' if hook_ok else 'MISS'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
