"""Settings from the environment, read when asked for (never at import time).

Embedded defaults run everything on one machine: a SQLite platform store under `.xero-sync/` and
the bundled Xero sandbox on 127.0.0.1:5055 with its demo app credentials. Production sets the
`XERO_*` URLs (or leaves them unset for real Xero), a client id/secret and an encryption key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import overload
from urllib.parse import urlsplit

SANDBOX_DEFAULT_URL = "http://127.0.0.1:5055"
# The sandbox's demo app. Not secret: it only opens the local sandbox.
DEMO_CLIENT_ID = "xero-sync-demo"
DEMO_CLIENT_SECRET = "demo-secret-sandbox-only"
DEMO_WEBHOOK_KEY = "demo-webhook-key-sandbox-only"

REAL_XERO = {
    "api_url": "https://api.xero.com/api.xro/2.0",
    "connections_url": "https://api.xero.com/connections",
    "authorize_url": "https://login.xero.com/identity/connect/authorize",
    "token_url": "https://identity.xero.com/connect/token",
}

SCOPES = (
    "offline_access openid profile email accounting.contacts accounting.settings "
    "accounting.transactions accounting.reports.read"  # the diff reads Reports/TrialBalance
)


PUBLIC_URL_ENV = "XERO_SYNC_PUBLIC_URL"
# The app-wide minute budget (platform.rate_windows; default 9,000 of Xero's 10,000), e.g. lower
# to leave room for another consumer of the same Xero app, or to match a sandbox's smaller limit.
APP_MINUTE_LIMIT_ENV = "XERO_SYNC_APP_MINUTE_LIMIT"
# Where the data team opens the Dagster UI; partner_health's links start with it (unset: links are
# root-relative, `/assets/...`, resolved by the UI that shows them).
DAGSTER_UI_URL_ENV = "XERO_SYNC_DAGSTER_UI_URL"
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable and what is wrong."""


@dataclass(frozen=True)
class XeroEndpoints:
    api_url: str  # .../api.xro/2.0
    connections_url: str  # .../connections
    authorize_url: str  # .../connect/authorize
    token_url: str  # .../connect/token

    @classmethod
    def for_base(cls, base_url: str) -> "XeroEndpoints":
        """The sandbox (or anything shaped like it) serves every endpoint under one base URL."""
        base = base_url.rstrip("/")
        return cls(
            api_url=f"{base}/api.xro/2.0",
            connections_url=f"{base}/connections",
            authorize_url=f"{base}/connect/authorize",
            token_url=f"{base}/connect/token",
        )


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    xero: XeroEndpoints
    client_id: str
    client_secret: str
    webhook_key: str | None  # None in real mode when XERO_WEBHOOK_KEY is unset: refuse webhooks
    uses_sandbox: bool
    web_secret: str | None = None  # XERO_SYNC_WEB_SECRET (sandbox mode may use a generated file)
    public_url: str | None = None  # XERO_SYNC_PUBLIC_URL: where partners and Xero reach the web app
    has_encryption_key: bool = False  # XERO_SYNC_ENCRYPTION_KEY set (else the dev key file)
    app_minute_limit: int | None = None  # XERO_SYNC_APP_MINUTE_LIMIT: the app-wide budget's minute
    dagster_ui_url: str = ""  # XERO_SYNC_DAGSTER_UI_URL: the Dagster UI's base URL ("" = relative links)

    @property
    def store_is_default(self) -> bool:
        """The embedded store in XERO_SYNC_HOME (which we may create), not a URL someone gave us."""
        return self.database_url == f"sqlite:///{self.home / 'xero_sync.db'}"

    def check_web(self) -> None:
        """Refuse to serve the web app in real mode with any demo default (ConfigError, one line)."""
        if self.uses_sandbox:
            return
        problems = []
        if not self.webhook_key or self.webhook_key == DEMO_WEBHOOK_KEY:
            problems.append("XERO_WEBHOOK_KEY (the webhook signing key of your Xero app)")
        if not self.web_secret:
            problems.append("XERO_SYNC_WEB_SECRET (a long random string that signs sessions)")
        if not self.public_url:
            problems.append(f"{PUBLIC_URL_ENV} (the https URL partners and Xero reach this app at)")
        if not self.has_encryption_key:
            problems.append("XERO_SYNC_ENCRYPTION_KEY (not the generated key file)")
        if problems:
            raise ConfigError("XERO_SYNC_XERO=real refuses demo defaults; set " + "; ".join(problems))

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        home = Path(env.get("XERO_SYNC_HOME", ".xero-sync")).resolve()
        database_url = env.get("XERO_SYNC_DATABASE_URL") or f"sqlite:///{home / 'xero_sync.db'}"
        if "://" not in database_url:
            raise ConfigError(
                f"XERO_SYNC_DATABASE_URL={database_url!r} is not a SQLAlchemy URL "
                "(expected e.g. postgresql+psycopg://user@host/db or sqlite:///path)"
            )
        use_real = env.get("XERO_SYNC_XERO", "sandbox").lower()
        if use_real not in {"sandbox", "real"}:
            raise ConfigError(f"XERO_SYNC_XERO={use_real!r}: expected 'sandbox' or 'real'")
        if use_real == "real":
            missing = [k for k in ("XERO_CLIENT_ID", "XERO_CLIENT_SECRET") if not env.get(k)]
            if missing:
                raise ConfigError(f"XERO_SYNC_XERO=real needs {', '.join(missing)} to be set")
            demo = [k for k, v in (("XERO_CLIENT_ID", DEMO_CLIENT_ID), ("XERO_CLIENT_SECRET", DEMO_CLIENT_SECRET),
                                   ("XERO_WEBHOOK_KEY", DEMO_WEBHOOK_KEY)) if env.get(k) == v]
            if demo:
                raise ConfigError(f"XERO_SYNC_XERO=real refuses the sandbox's demo value of {', '.join(demo)}")
            endpoints = XeroEndpoints(**REAL_XERO)
        else:
            endpoints = XeroEndpoints.for_base(env.get("XERO_SYNC_SANDBOX_URL", SANDBOX_DEFAULT_URL))
        return cls(
            home=home,
            database_url=database_url,
            xero=endpoints,
            client_id=env.get("XERO_CLIENT_ID", DEMO_CLIENT_ID),
            client_secret=env.get("XERO_CLIENT_SECRET", DEMO_CLIENT_SECRET),
            # Real mode never falls back to the (public) demo key: unset means every webhook is refused.
            webhook_key=env.get("XERO_WEBHOOK_KEY") or (DEMO_WEBHOOK_KEY if use_real == "sandbox" else None),
            uses_sandbox=use_real == "sandbox",
            web_secret=env.get("XERO_SYNC_WEB_SECRET") or None,
            public_url=parse_public_url(env.get(PUBLIC_URL_ENV), real=use_real == "real"),
            has_encryption_key=bool(env.get("XERO_SYNC_ENCRYPTION_KEY", "").strip()),
            app_minute_limit=env_int(env, APP_MINUTE_LIMIT_ENV, None),
            dagster_ui_url=dagster_ui_url(env),
        )


@overload
def env_int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 1,
            maximum: int | None = None) -> int: ...
@overload
def env_int(env: Mapping[str, str], name: str, default: None, *, minimum: int = 1,
            maximum: int | None = None) -> int | None: ...
def env_int(env: Mapping[str, str], name: str, default: int | None, *, minimum: int = 1,
            maximum: int | None = None) -> int | None:
    """A whole-number setting: `default` when unset or empty, else within minimum..maximum (a
    ConfigError naming the variable otherwise)."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if maximum is not None and not minimum <= value <= maximum:
        raise ConfigError(f"{name}={value} must be between {minimum} and {maximum}")
    if value < minimum:
        raise ConfigError(f"{name}={value} must be at least {minimum}")
    return value


def parse_public_url(value: str | None, *, real: bool) -> str | None:
    """XERO_SYNC_PUBLIC_URL without a trailing slash; https in real mode (except on this machine)."""
    if not value:
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"{PUBLIC_URL_ENV}={value!r} is not a base URL (expected e.g. https://xero.example.com)")
    if real and parts.scheme != "https" and parts.hostname not in _LOCAL_HOSTS:
        raise ConfigError(f"{PUBLIC_URL_ENV}={value!r} must be https with XERO_SYNC_XERO=real")
    return value.strip().rstrip("/")


def dagster_ui_url(env: Mapping[str, str] | None = None) -> str:
    """XERO_SYNC_DAGSTER_UI_URL without a trailing slash (a path prefix is kept, e.g. behind a
    proxy at https://ops.example.com/dagster), or "" when unset: links into the UI stay relative."""
    env = os.environ if env is None else env
    value = env.get(DAGSTER_UI_URL_ENV, "").strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if "@" in parts.netloc:  # the links are shown in the UI: no credentials in them (nor in this error)
        raise ConfigError(f"{DAGSTER_UI_URL_ENV} must not carry a user or password")
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"{DAGSTER_UI_URL_ENV}={value!r} is not a base URL "
                          "(expected e.g. https://dagster.example.com or http://127.0.0.1:3000)")
    return value.rstrip("/")
