#!/usr/bin/env python3
"""How fast the sandbox serves one month page of a 100,000-invoice organisation.

    .venv/bin/python bench/sandbox_page.py [--invoices 100000] [--rounds 5]

Target: best of the rounds < 100 ms for `GET /Invoices?where=<one month>&page=2&pageSize=100`
(the sandbox must not be what makes a pull slow). Prints PASS/MISS and exits 1 on a miss.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
import types

from flask import Flask, g

from xero_sandbox.accounting import accounting
from xero_sandbox.clock import Clock
from xero_sandbox.seed import seed_organisations

API = "/api.xro/2.0"
TARGET_SECONDS = 0.1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    clock = Clock(frozen_at=dt.datetime(2026, 11, 25, 12, tzinfo=dt.timezone.utc))
    org = seed_organisations(seed=9, invoices=args.invoices, months=12, clock=clock)[0]
    app = Flask(__name__)
    app.extensions["xero_sandbox"] = types.SimpleNamespace(orgs={org.tenant_id: org}, clock=clock)
    app.register_blueprint(accounting, url_prefix=API)

    @app.before_request
    def _set_org():
        g.org = org

    client = app.test_client()
    query = {"where": "Date>=DateTime(2026,03,01)&&Date<DateTime(2026,04,01)", "page": 2, "pageSize": 100}
    timings = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        response = client.get(f"{API}/Invoices", query_string=query)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200
    best = min(timings)
    verdict = "PASS" if best < TARGET_SECONDS else "MISS"
    print(f"month page 2 of {args.invoices:,} invoices: best {best * 1000:.1f} ms, "
          f"median {sorted(timings)[len(timings) // 2] * 1000:.1f} ms (target < {TARGET_SECONDS * 1000:.0f} ms) {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
