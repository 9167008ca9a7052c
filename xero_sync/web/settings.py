"""The web app's view of the settings: sign-in assertions, session lifetime and the server's limits.

Built from `xero_sync.config.Settings` (which reads and checks every variable) when `xero-sync web`
(or a test) builds the app. In real mode a sign-in key is required: a shared secret (HS256) or the
dashboard's JWKS URL (RS256); only the web app needs one, so only it asks (`WebSettings.of`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xero_sync.config import (
    DEFAULT_CHANNEL_TIMEOUT,
    DEFAULT_CONNECTION_LIMIT,
    DEFAULT_ISSUER,
    DEFAULT_MAX_BODY,
    DEFAULT_SESSION_HOURS,
    SIGNIN_JWKS_URL_ENV,
    SIGNIN_SECRET_ENV,
    ConfigError,
    Settings,
)

__all__ = ["DEFAULT_CHANNEL_TIMEOUT", "DEFAULT_CONNECTION_LIMIT", "DEFAULT_ISSUER", "DEFAULT_MAX_BODY",
           "DEFAULT_SESSION_HOURS", "SIGNIN_JWKS_URL_ENV", "SIGNIN_SECRET_ENV", "ServerLimits",
           "SigninSettings", "WebSettings"]


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
    def of(cls, settings: Settings, public_url: str) -> "WebSettings":
        """The web app's settings; in real mode a ConfigError unless the dashboard's key is set."""
        if not settings.uses_sandbox and not (settings.signin_secret or settings.signin_jwks_url):
            raise ConfigError(
                f"XERO_SYNC_XERO=real needs the partner dashboard's sign-in key: set {SIGNIN_SECRET_ENV} "
                f"(HS256 shared secret) or {SIGNIN_JWKS_URL_ENV} (RS256)")
        signin = SigninSettings(
            issuer=settings.signin_issuer or DEFAULT_ISSUER,
            audience=settings.signin_audience or public_url,
            secret=settings.signin_secret,
            jwks_url=settings.signin_jwks_url,
        )
        limits = ServerLimits(max_body_bytes=settings.web_max_body_bytes,
                              connection_limit=settings.web_connection_limit,
                              channel_timeout=settings.web_channel_timeout)
        return cls(signin=signin, session_hours=settings.session_hours, limits=limits)
