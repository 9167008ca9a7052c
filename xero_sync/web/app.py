"""The Integrations page: a small Flask app (server-side templates, a little CSS, no JavaScript).

It stands in for the partner dashboard's Integrations section: the Xero module card (status,
initial-sync progress, problems that need the partner), Connect (OAuth2 with `state`), Confirm,
Set Up Accounts and Disconnect, plus Xero's webhook receiver at POST /webhooks/xero.

The session is Flask's signed cookie and holds only `partner_id` and the OAuth `state`. Tokens
never go into it: a consent waiting for *Confirm* is kept server-side (`consents.PendingConsents`).
In production the dashboard's own authentication sets `session["partner_id"]`; the dev sign-in
form (`signin.py`) does it here.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from xero_sync.config import Settings
from xero_sync.platform.db import make_engine
from xero_sync.platform.private_files import read_or_create_secret
from xero_sync.platform.token_cipher import TokenCipher
from xero_sync.web.consents import PendingConsents
from xero_sync.web.serving import install_security_headers

SECRET_ENV = "XERO_SYNC_WEB_SECRET"
SECRET_FILE = "web_secret.key"
PUBLIC_URL_KEY = "XERO_SYNC_PUBLIC_URL"
# Without XERO_SYNC_PUBLIC_URL (sandbox mode only): where `xero-sync web` listens by default.
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
EXTENSION = "xero_sync_web"

log = logging.getLogger(__name__)


@dataclass
class WebState:
    """What every view needs, kept on `app.extensions[EXTENSION]`."""

    settings: Settings
    engine: sa.Engine
    cipher: TokenCipher
    consents: PendingConsents
    webhook_purged_at: float = float("-inf")  # time.monotonic() of the last purge of unknown tenants


def load_secret(home: Path, env: dict[str, str] | None = None) -> str:
    """The session-signing secret: XERO_SYNC_WEB_SECRET, else a generated file in home (0600)."""
    env = os.environ if env is None else env
    if env.get(SECRET_ENV):
        return env[SECRET_ENV]
    return read_or_create_secret(Path(home) / SECRET_FILE, lambda: secrets.token_urlsafe(48))


def public_url(app: Flask) -> str:
    """The one base URL partners and Xero reach us at (XERO_SYNC_PUBLIC_URL)."""
    return app.config[PUBLIC_URL_KEY]


def callback_url(app: Flask) -> str:
    """The OAuth redirect_uri: from the configured public URL, never from the request's Host."""
    return f"{public_url(app)}/integrations/xero/callback"


def create_app(settings: Settings | None = None, engine: sa.Engine | None = None) -> Flask:
    """The Integrations page and webhook receiver over the platform store (already migrated).

    Real mode refuses to build the app with any demo default (ConfigError naming what to set).
    """
    settings = settings or Settings.from_env()
    settings.check_web()
    base_url = settings.public_url or DEFAULT_PUBLIC_URL
    engine = engine or make_engine(settings.database_url)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.web_secret or load_secret(settings.home),
        SESSION_COOKIE_NAME="xero_sync_session",
        SESSION_COOKIE_HTTPONLY=True,
        # Lax: the cookie comes back on Xero's top-level redirect to the callback, but not on
        # cross-site POSTs (with the per-partner form token, that closes CSRF).
        SESSION_COOKIE_SAMESITE="Lax",
        # Secure whenever partners reach us over https (always, in production).
        SESSION_COOKIE_SECURE=base_url.startswith("https://"),
        MAX_CONTENT_LENGTH=5 * 1024 * 1024,  # webhook payloads are small; refuse giant bodies
    )
    app.config[PUBLIC_URL_KEY] = base_url
    install_security_headers(app, public_url=base_url, authorize_url=settings.xero.authorize_url)
    app.extensions[EXTENSION] = WebState(
        settings=settings,
        engine=engine,
        cipher=TokenCipher.from_env(settings.home),
        consents=PendingConsents(),
    )

    from xero_sync.web import accounts, errors, events_api, integrations, signin, webhooks

    app.register_blueprint(signin.blueprint)
    app.register_blueprint(integrations.blueprint)
    app.register_blueprint(accounts.blueprint)
    app.register_blueprint(webhooks.blueprint)
    events_api.register(app, os.environ.get(events_api.SERVICE_TOKEN_ENV))  # Alternative's services
    errors.register(app)
    return app
