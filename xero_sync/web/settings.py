"""The web app's own settings: sign-in assertions, session lifetime and the server's limits.

Read from the environment when `xero-sync web` (or a test) builds the app, never at import. In real
mode a sign-in key is required: a shared secret (HS256) or the dashboard's JWKS URL (RS256).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from xero_sync.config import ConfigError, env_int

SIGNIN_SECRET_ENV = "XERO_SYNC_SIGNIN_SECRET"
SIGNIN_JWKS_URL_ENV = "XERO_SYNC_SIGNIN_JWKS_URL"
SIGNIN_ISSUER_ENV = "XERO_SYNC_SIGNIN_ISSUER"
SIGNIN_AUDIENCE_ENV = "XERO_SYNC_SIGNIN_AUDIENCE"
SESSION_HOURS_ENV = "XERO_SYNC_SESSION_HOURS"
MAX_BODY_ENV = "XERO_SYNC_WEB_MAX_BODY_BYTES"
CONNECTION_LIMIT_ENV = "XERO_SYNC_WEB_CONNECTION_LIMIT"
CHANNEL_TIMEOUT_ENV = "XERO_SYNC_WEB_CHANNEL_TIMEOUT"

DEFAULT_ISSUER = "alternative-partner-dashboard"
MIN_SECRET_LENGTH = 32  # HS256 with a short secret can be brute-forced offline from one link
DEFAULT_SESSION_HOURS = 8
# An events API body (1 MiB) plus room; webhooks and forms are far smaller. waitress's own
# default is 1 GiB, read in full before anything could refuse it.
DEFAULT_MAX_BODY = 2 * 1024 * 1024
# Idle connections cost a socket each, not a thread: allow many more than a burst of slow
# clients, and drop the idle ones soon (waitress: 100 connections, 120 s).
DEFAULT_CONNECTION_LIMIT = 500
DEFAULT_CHANNEL_TIMEOUT = 20


@dataclass(frozen=True)
class SigninSettings:
    """How a sign-in assertion from the partner dashboard is checked (web/identity.py)."""

    issuer: str
    audience: str
    secret: str | None = field(default=None, repr=False)  # HS256 shared secret
    jwks_url: str | None = None  # RS256 keys of the dashboard

    @property
    def enabled(self) -> bool:
        return bool(self.secret or self.jwks_url)


@dataclass(frozen=True)
class ServerLimits:
    """waitress's limits (`xero-sync web`): refuse early, never read a huge body in full."""

    max_body_bytes: int = DEFAULT_MAX_BODY
    connection_limit: int = DEFAULT_CONNECTION_LIMIT
    channel_timeout: int = DEFAULT_CHANNEL_TIMEOUT

    def waitress_options(self) -> dict[str, int]:
        return {
            "max_request_body_size": self.max_body_bytes,
            # Headers beyond 64 KiB are not a browser (waitress: 256 KiB).
            "max_request_header_size": 64 * 1024,
            "connection_limit": self.connection_limit,
            "channel_timeout": self.channel_timeout,
            # How often idle channels are looked for: a fraction of the timeout.
            "cleanup_interval": max(1, min(30, self.channel_timeout // 2)),
        }


@dataclass(frozen=True)
class WebSettings:
    signin: SigninSettings
    session_hours: int = DEFAULT_SESSION_HOURS
    limits: ServerLimits = ServerLimits()

    @classmethod
    def from_env(cls, public_url: str, *, real: bool, env: Mapping[str, str] | None = None) -> "WebSettings":
        env = os.environ if env is None else env
        secret = env.get(SIGNIN_SECRET_ENV, "").strip() or None
        jwks_url = env.get(SIGNIN_JWKS_URL_ENV, "").strip() or None
        if secret and jwks_url:
            raise ConfigError(f"set either {SIGNIN_SECRET_ENV} (HS256) or {SIGNIN_JWKS_URL_ENV} (RS256), not both")
        if secret and len(secret) < MIN_SECRET_LENGTH:
            raise ConfigError(f"{SIGNIN_SECRET_ENV} must be at least {MIN_SECRET_LENGTH} characters")
        if jwks_url:
            parts = urlsplit(jwks_url)
            local = parts.hostname in {"127.0.0.1", "localhost", "::1"}
            if parts.scheme != "https" and not (parts.scheme == "http" and local):
                raise ConfigError(f"{SIGNIN_JWKS_URL_ENV}={jwks_url!r} must be an https URL")
        if real and not (secret or jwks_url):
            raise ConfigError(
                f"XERO_SYNC_XERO=real needs the partner dashboard's sign-in key: set {SIGNIN_SECRET_ENV} "
                f"(HS256 shared secret) or {SIGNIN_JWKS_URL_ENV} (RS256)")
        signin = SigninSettings(
            issuer=env.get(SIGNIN_ISSUER_ENV, "").strip() or DEFAULT_ISSUER,
            audience=env.get(SIGNIN_AUDIENCE_ENV, "").strip() or public_url,
            secret=secret,
            jwks_url=jwks_url,
        )
        limits = ServerLimits(
            max_body_bytes=env_int(env, MAX_BODY_ENV, DEFAULT_MAX_BODY, minimum=64 * 1024),
            connection_limit=env_int(env, CONNECTION_LIMIT_ENV, DEFAULT_CONNECTION_LIMIT, minimum=10, maximum=10_000),
            channel_timeout=env_int(env, CHANNEL_TIMEOUT_ENV, DEFAULT_CHANNEL_TIMEOUT, minimum=1, maximum=600),
        )
        hours = env_int(env, SESSION_HOURS_ENV, DEFAULT_SESSION_HOURS, minimum=1, maximum=72)
        return cls(signin=signin, session_hours=hours, limits=limits)
