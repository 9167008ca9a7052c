"""`xero-sync web`: serve the Integrations page (and the Xero webhook receiver) with waitress."""

from __future__ import annotations

import argparse
import logging


def _web_command(args: argparse.Namespace) -> int:
    from xero_sync.config import Settings
    from xero_sync.store.db import require_folder, upgrade
    from xero_sync.store.token_cipher import TokenCipher
    from xero_sync.web.app import DEFAULT_PUBLIC_URL, PUBLIC_URL_KEY, create_app
    from xero_sync.web.serving import make_server
    from xero_sync.web.settings import WebSettings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    settings.check_web()  # real mode without its own secrets: one line, exit 2, nothing created
    web = WebSettings.of(settings, settings.public_url or DEFAULT_PUBLIC_URL)
    if not settings.store_is_default:
        require_folder(settings.database_url)
    if settings.has_encryption_key:
        TokenCipher.for_settings(settings)  # a malformed key: one line before anything is created
    upgrade(settings.database_url)
    app = create_app(settings, web=web)
    server = make_server(app, args.host, args.port, limits=web.limits)
    if settings.public_url is None:  # sandbox mode only: callbacks come back to where we listen
        host = "127.0.0.1" if args.host in {"0.0.0.0", "::", ""} else args.host
        app.config[PUBLIC_URL_KEY] = f"http://{host}:{server.effective_port}"
    where = "the Xero sandbox at " + settings.xero.authorize_url.rsplit("/connect/", 1)[0] \
        if settings.uses_sandbox else "real Xero"
    print(f"xero-sync web: Integrations page on http://{args.host}:{server.effective_port}/integrations "
          f"(public URL {app.config[PUBLIC_URL_KEY]}; Xero webhooks: POST /webhooks/xero); "
          f"talking to {where}", flush=True)
    server.run()
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("web", help="serve the Integrations page (connect Xero, set up accounts)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    p.set_defaults(func=_web_command)
