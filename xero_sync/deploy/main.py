"""`xero-sync deploy-local` (what `scripts/deploy-local` runs): the production shape on this machine.

Starts a `Deployment` (xero_sync.deploy.deployment), prints where everything is, then watches:
progress lines while partners onboard; a service that dies stops the deployment (exit 1). Ctrl-C
or SIGTERM stops every child and its processes (exit 130 or 0).
"""

from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path

from xero_sync.config import ConfigError
from xero_sync.connect.flow import ConnectError
from xero_sync.deploy.children import ChildExited
from xero_sync.deploy.deployment import Deployment, DeployOptions
from xero_sync.deploy.services import WebhookSetupError


def run(args: argparse.Namespace) -> int:
    from xero_sync.demo.ui import Stopped, exit_code, say, stop_on_signals

    if args.partners is not None and args.partners > args.tenants:
        raise ConfigError(f"--partners {args.partners} needs as many organisations: pass --tenants {args.partners}")
    options = DeployOptions(
        root=Path(args.home), shards=args.shards, tenants=args.tenants, partners=args.partners,
        invoices=args.invoices, months=args.months, seed=args.seed, ui_port=args.port, web_port=args.web_port,
        sandbox_port=args.sandbox_port, max_runs=args.max_runs, app_minute_limit=args.app_minute_limit,
        database=args.database)
    restore_signals = stop_on_signals()  # Ctrl-C / SIGTERM: stop every child, then exit
    deployment = Deployment(options)
    code = 0
    try:
        deployment.start(say=say)
        say("\n".join(deployment.describe()))
        deployment.watch(say=say)
    except Stopped as stop:
        say(f"\n[deploy] {signal.Signals(stop.signum).name}: stopping every service")
        code = exit_code(stop)
    except (ChildExited, TimeoutError, ConnectError, WebhookSetupError) as exc:
        say(f"[deploy] {exc}")
        code = 1
    finally:
        # A second Ctrl-C must not cut the stop short and leave processes behind.
        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, signal.SIG_IGN)
        deployment.stop(say=say)
        restore_signals()
    say("[deploy] stopped")
    return code


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"not a TCP port (0 picks a free one): {value}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("deploy-local", help="the production shape on this machine "
                              "(PostgreSQL, code server per shard, daemon, webserver, sandbox)")
    p.add_argument("--home", default=os.environ.get("XERO_SYNC_HOME", ".xero-sync"),
                   help="state folder; the deployment uses <home>/deploy, fresh each start")
    p.add_argument("--shards", type=_count, default=2, help="partner shards: one code server each (default 2)")
    p.add_argument("--tenants", type=_count, default=20, help="sandbox organisations (default 20)")
    p.add_argument("--partners", type=_count, default=None,
                   help="partners to connect, one per organisation (default: every organisation)")
    p.add_argument("--invoices", type=_count, default=200, help="invoices per organisation (default 200)")
    p.add_argument("--months", type=_count, default=24, help="months of history (default 24)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--port", type=_port, default=3000, help="Dagster UI port (default 3000; 0: free)")
    p.add_argument("--web-port", type=_port, default=8000,
                   help="xero-sync web: events API, webhooks, Integrations page (default 8000; 0: free)")
    p.add_argument("--sandbox-port", type=_port, default=5055, help="sandbox port (default 5055; 0: free)")
    p.add_argument("--max-runs", type=_count, default=None, help="runs at once (default two per core)")
    p.add_argument("--app-minute-limit", type=_count, default=10_000,
                   help="the sandbox's per-app calls per minute (default Xero's 10,000)")
    p.add_argument("--database", default=None,
                   help="PostgreSQL database name, recreated and kept after stop (default: throwaway)")
    p.set_defaults(func=run)
