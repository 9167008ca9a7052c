"""`xero-sync sandbox`: seed organisations and serve the local Xero emulator in the foreground."""

from __future__ import annotations

import argparse
import datetime as dt

import sys

from xero_sandbox.demo_app import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET


def _positive(kind: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{kind} must be an integer, got {text!r}") from None
        if value < 0 or (value == 0 and kind != "seed"):
            raise argparse.ArgumentTypeError(f"{kind} must be positive, got {value}")
        return value

    return parse


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"time scale must be a number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"time scale must be > 0, got {value}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sandbox", help="run the local Xero sandbox (OAuth, /connections, Accounting API)"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=_positive("port"), default=5055)
    parser.add_argument("--seed", type=_positive("seed"), default=1)
    parser.add_argument("--invoices", type=_positive("invoices"), default=500)
    parser.add_argument("--months", type=_positive("months"), default=36)
    parser.add_argument("--tenants", type=_positive("tenants"), default=1)
    parser.add_argument("--currency", choices=("USD", "CAD"), default="USD")
    parser.add_argument("--day-limit", type=_positive("day limit"), default=5000)
    parser.add_argument("--minute-limit", type=_positive("minute limit"), default=60,
                        help="calls per tenant per minute (Xero: 60)")
    parser.add_argument("--concurrent-limit", type=_positive("concurrent limit"), default=5,
                        help="calls in flight per tenant (Xero: 5)")
    parser.add_argument("--app-minute-limit", type=_positive("app minute limit"), default=10_000,
                        help="calls per minute over all tenants (Xero: 10,000)")
    parser.add_argument("--time-scale", type=_scale, default=1.0,
                        help="sandbox clock speed (60 = a minute per second)")
    parser.add_argument("--webhook-url", default=None, help="POST signed Xero webhooks here")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from xero_sandbox.clock import Clock
    from xero_sandbox.server import serve_forever
    from xero_sandbox.state import Sandbox

    if args.port > 65535:
        return _refuse(f"--port {args.port} is not a TCP port (1-65535)")
    started = dt.datetime.now(dt.timezone.utc)
    sandbox = Sandbox.seeded(
        seed=args.seed,
        invoices=args.invoices,
        months=args.months,
        tenants=args.tenants,
        currency=args.currency,
        clock=Clock(scale=args.time_scale),
        day_limit=args.day_limit,
        minute_limit=args.minute_limit,
        concurrent_limit=args.concurrent_limit,
        app_minute_limit=args.app_minute_limit,
        webhook_url=args.webhook_url,
    )
    base = f"http://{args.host}:{args.port}"
    seconds = (dt.datetime.now(dt.timezone.utc) - started).total_seconds()
    lines = [
        f"Xero sandbox seeded in {seconds:.1f}s (seed {args.seed}, {args.invoices} invoices/tenant, "
        f"{args.months} months, {args.currency})",
        f"  limits       per tenant {args.minute_limit}/min, {args.day_limit}/day, "
        f"{args.concurrent_limit} in flight; app {args.app_minute_limit}/min",
        f"  API          {base}/api.xro/2.0",
        f"  connections  {base}/connections",
        f"  authorize    {base}/connect/authorize",
        f"  token        {base}/connect/token",
        f"  control      {base}/_sandbox  (health, tenants, tokens, faults, requests, calls, clock, webhooks)",
        f"  client id    {DEMO_CLIENT_ID}",
        f"  secret       {DEMO_CLIENT_SECRET}",
        "  tenants:",
        *(f"    {org.tenant_id}  {org.name} ({org.currency})" for org in sandbox.orgs.values()),
        "Ctrl-C to stop.",
    ]
    try:
        serve_forever(sandbox, args.host, args.port, on_ready=lambda _: print("\n".join(lines), flush=True))
    except OSError as exc:
        return _refuse(f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}")
    return 0


def _refuse(message: str) -> int:
    """One clear line on stderr and exit status 2, as every xero-sync command does."""
    print(f"xero-sync sandbox: {message}", file=sys.stderr)
    return 2
