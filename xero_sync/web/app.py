"""The Integrations page: a small Flask app (server-side templates, a little CSS, no JavaScript).

It stands in for the partner dashboard's Integrations section: the Xero module card (status,
initial-sync progress, problems that need the partner), Connect (OAuth2 with `state`), Confirm,
Set Up Accounts and Disconnect, plus Xero's webhook receiver at POST /webhooks/xero.

The session is Flask's signed cookie: the partner, its session generation, a random id, when it
signed in, and the OAuth `state` (web/sessions.py). Tokens never go into it: a consent waiting for
*Confirm* is kept server-side (`consents.PendingConsents`). In real mode a partner signs in only
with a short-lived assertion signed by the partner dashboard (web/identity.py); the development
sign-in form is registered only in sandbox mode (web/signin.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from xero_sync.config import Settings
from xero_sync.store.db import make_engine
from xero_sync.store.private_files import read_or_create_secret
from xero_sync.store.token_cipher import TokenCipher
from xero_sync.web.consents import PendingConsents
from xero_sync.web.identity import AssertionVerifier
from xero_sync.web.serving import install_security_headers
from xero_sync.web.settings import WebSettings

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
    web: WebSettings
    verifier: AssertionVerifier
    webhook_purged_at: float = float("-inf")  # time.monotonic() of the last purge of unknown tenants


def load_secret(settings: Settings) -> str:
    """The session-signing secret: XERO_SYNC_WEB_SECRET, else a generated file in home (0600)."""
    if settings.web_secret:
        return settings.web_secret
    return read_or_create_secret(Path(settings.home) / SECRET_FILE, lambda: secrets.token_urlsafe(48))


def public_url(app: Flask) -> str:
    """The one base URL partners and Xero reach us at (XERO_SYNC_PUBLIC_URL)."""
    return app.config[PUBLIC_URL_KEY]


def callback_url(app: Flask) -> str:
    """The OAuth redirect_uri: from the configured public URL, never from the request's Host."""
    return f"{public_url(app)}/integrations/xero/callback"


def create_app(settings: Settings | None = None, engine: sa.Engine | None = None,
               web: WebSettings | None = None) -> Flask:
    """The Integrations page and webhook receiver over the platform store (already migrated).

    Real mode refuses to build the app with any demo default or without the dashboard's sign-in
    key (ConfigError naming what to set).
    """
    settings = settings or Settings.from_env()
    settings.check_web()
    base_url = settings.public_url or DEFAULT_PUBLIC_URL
    web = web or WebSettings.of(settings, base_url)
    engine = engine or make_engine(settings.database_url)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=load_secret(settings),
        SESSION_COOKIE_NAME="xero_sync_session",
        SESSION_COOKIE_HTTPONLY=True,
        # Lax: the cookie comes back on Xero's top-level redirect to the callback, but not on
        # cross-site POSTs (with the per-partner form token, that closes CSRF).
        SESSION_COOKIE_SAMESITE="Lax",
        # Secure whenever partners reach us over https (always, in production).
        SESSION_COOKIE_SECURE=base_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=web.session_hours),
        # waitress refuses larger bodies before reading them; this covers any other server.
        MAX_CONTENT_LENGTH=web.limits.max_body_bytes,
    )
    app.config[PUBLIC_URL_KEY] = base_url
    install_security_headers(app, public_url=base_url, authorize_url=settings.xero.authorize_url)
    app.extensions[EXTENSION] = WebState(
        settings=settings,
        engine=engine,
        cipher=TokenCipher.for_settings(settings),
        consents=PendingConsents(),
        web=web,
        verifier=AssertionVerifier(web.signin),
    )

    from xero_sync.web import accounts, errors, events_api, integrations, sessions, signin, webhooks

    app.register_blueprint(signin.blueprint)
    if settings.uses_sandbox:  # real mode: the partner dashboard's signed assertion is the only way in
        app.register_blueprint(signin.dev_blueprint)
    app.register_blueprint(integrations.blueprint)
    app.register_blueprint(accounts.blueprint)
    app.register_blueprint(webhooks.blueprint)
    events_api.register(app, settings.service_token)  # Alternative's services
    errors.register(app)

    @app.context_processor
    def _signed_in() -> dict[str, str | None]:  # base.html's header: who, and the sign-out form
        partner_id = sessions.current_partner()
        return {"signed_in_partner": partner_id, "session_form_token": sessions.form_token() if partner_id else ""}

    return app
