"""`xero-sync web`: serve the Integrations page (and the Xero webhook receiver) on this machine."""

from __future__ import annotations

import argparse
import logging


def _web_command(args: argparse.Namespace) -> int:
    from werkzeug.serving import run_simple

    from xero_sync.config import Settings
    from xero_sync.platform.db import upgrade
    from xero_sync.web.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    upgrade(settings.database_url)
    app = create_app(settings)
    where = "the Xero sandbox at " + settings.xero.authorize_url.rsplit("/connect/", 1)[0] \
        if settings.uses_sandbox else "real Xero"
    print(f"xero-sync web: Integrations page on http://{args.host}:{args.port}/integrations "
          f"(Xero webhooks: POST /webhooks/xero); talking to {where}")
    run_simple(args.host, args.port, app, threaded=True, use_reloader=False, use_debugger=False)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("web", help="serve the Integrations page (connect Xero, set up accounts)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    p.set_defaults(func=_web_command)
