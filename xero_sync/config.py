"""Settings from the environment, read when asked for (never at import time).

Embedded defaults run everything on one machine: a SQLite platform store under `.xero-sync/` and
the bundled Xero sandbox on 127.0.0.1:5055 with its demo app credentials. Production sets the
`XERO_*` URLs (or leaves them unset for real Xero), a client id/secret and an encryption key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

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
    webhook_key: str
    uses_sandbox: bool

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
            endpoints = XeroEndpoints(**REAL_XERO)
        else:
            endpoints = XeroEndpoints.for_base(env.get("XERO_SYNC_SANDBOX_URL", SANDBOX_DEFAULT_URL))
        return cls(
            home=home,
            database_url=database_url,
            xero=endpoints,
            client_id=env.get("XERO_CLIENT_ID", DEMO_CLIENT_ID),
            client_secret=env.get("XERO_CLIENT_SECRET", DEMO_CLIENT_SECRET),
            webhook_key=env.get("XERO_WEBHOOK_KEY", DEMO_WEBHOOK_KEY),
            uses_sandbox=use_real == "sandbox",
        )
