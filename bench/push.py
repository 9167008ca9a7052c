"""Benchmark: payments pushed per API call, and record -> present-in-Xero latency.

In-process, against a seeded sandbox on a frozen clock (rate-limit waits advance sandbox time
instead of sleeping) and a SQLite platform store in a temp directory:

1. Throughput: record N partial payments on open Xero invoices, run one push, and report
   payments per PUT /Payments call and per API call of the whole push (claim -> done, including
   every other call the push made). Target: >= 45 per call at batch 50.
2. Latency: record one payment, evaluate payment_outbox_sensor (evaluate_tick on a test
   instance), run what push_job's op runs (push_partner) for the requested partition, and stop
   the clock when the payment is in the sandbox organisation. Measured with time.perf_counter.
   Not included: the daemon's wait until the next tick (<= 30 s, minimum_interval_seconds) and
   the run launcher's process start (a few seconds with the default run launcher).

    .venv/bin/python bench/push.py [--payments 1000] [--rounds 20]
Exit status 0 only if the throughput target is met (latency is reported, not a target here).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.push.world import PAID_ON, build_world  # noqa: E402 - the same wiring the tests use
from tests.sandbox_fixtures import start_sandbox  # noqa: E402
from xero_sync.jobs.push import push_job  # noqa: E402
from xero_sync.store import outbox  # noqa: E402
from xero_sync.store.db import make_engine, upgrade  # noqa: E402
from xero_sync.push.engine import push_partner  # noqa: E402
from xero_sync.resources.platform import PlatformResource  # noqa: E402
from xero_sync.sensors.outbox import payment_outbox_sensor  # noqa: E402


PER_CALL_TARGET = 45  # payments per PUT /Payments call at batch 50


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    server = start_sandbox(invoices=max(600, args.payments * 4), seed=7, minute_limit=100_000)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'platform.db'}"
            upgrade(url)
            engine = make_engine(url)
            world = build_world(server, engine, payments_code="615")
            client = world.client()

            # 1. throughput
            world.record_payments(args.payments, per_invoice=2, prefix="bench")
            started = time.perf_counter()
            report = push_partner(engine, client, world.partner_id, limit=args.payments)
            elapsed = time.perf_counter() - started
            assert report.written == args.payments, report
            per_call = report.payments_sent / report.payment_calls
            met = per_call >= PER_CALL_TARGET
            print(f"throughput: {report.payments_sent} payments in {report.payment_calls} PUT /Payments "
                  f"calls = {per_call:.1f} per call (target >= {PER_CALL_TARGET} at batch 50)  "
                  f"{'PASS' if met else 'MISS'}; "
                  f"{report.calls} API calls in the whole push = "
                  f"{report.payments_sent / report.calls:.1f} payments per API call "
                  f"({elapsed:.2f} s wall)")

            # 2. latency: record -> sensor tick -> push -> present in the sandbox
            defs = dg.Definitions(jobs=[push_job], sensors=[payment_outbox_sensor],
                                  resources={"platform": PlatformResource(database_url=url),
                                             "xero": dg.ResourceDefinition.none_resource()})
            world.pull()  # balances after the throughput push, so latency payments fit
            open_invoices = world.open_invoices()
            samples = []
            with dg.instance_for_test() as instance:
                instance.add_dynamic_partitions("partners", [world.partner_id])
                cursor = None
                for n in range(args.rounds):
                    t0 = time.perf_counter()
                    inv, pid = open_invoices[n], f"lat_{n}"
                    with engine.begin() as conn:
                        outbox.record_payment(conn, payment_id=pid, partner_id=world.partner_id,
                                              invoice_id=inv.invoice_id,
                                              amount_minor=inv.outstanding_minor // 2, fee_minor=0,
                                              currency=inv.currency, paid_on=PAID_ON)
                    with dg.build_sensor_context(instance=instance, instance_ref=instance.get_ref(),
                                                 definitions=defs, cursor=cursor,
                                                 resources={"platform": PlatformResource(database_url=url)}) as ctx:
                        tick = payment_outbox_sensor.evaluate_tick(ctx)
                    cursor = tick.cursor
                    (request,) = tick.run_requests
                    push_partner(engine, client, request.partition_key)
                    present = any(p.reference == pid for p in world.org.payments.values())
                    samples.append(time.perf_counter() - t0)
                    assert present, f"{pid} not in the sandbox after the push"
            print(f"latency record -> tick -> push -> present (in-process, {args.rounds} rounds): "
                  f"median {statistics.median(samples) * 1000:.0f} ms, "
                  f"max {max(samples) * 1000:.0f} ms; in production add <= 30 s to the next "
                  "sensor tick plus run start")
            engine.dispose()
    finally:
        server.stop()
    print(f"\nall targets met: {'yes' if met else 'no'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
