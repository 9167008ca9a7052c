"""A connected partner's Xero client, assembled from the settings and the platform store (plain:
no Dagster): the runs' `XeroResource` and the command line (`xero-sync accounts`) both use it.

Tokens come from the encrypted token store; one rate budget per tenant is shared by every client
in the process (the client keeps a registry keyed by tenant id), and with `windows` every call is
also taken from the app-wide budget in the platform store (platform.rate_windows).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from xero_sync.config import Settings, XeroEndpoints
from xero_sync.store.connections import Connection
from xero_sync.store.rate_windows import (
    DEFAULT_APP_MINUTE_LIMIT,
    DEFAULT_TENANT_DAY_LIMIT,
    DEFAULT_TENANT_MINUTE_LIMIT,
    StoreRateWindows,
)
from xero_sync.store.token_cipher import TokenCipher
from xero_sync.store.token_store import SqlTokenStore
from xero_sync.xero.client import XeroClient
from xero_sync.xero.oauth import OAuthApp


class NotConnected(Exception):
    """The partner has no Xero connection to call through."""


def app_windows(engine: sa.Engine, settings: Settings, *, app_minute_limit: int | None = None,
                tenant_minute_limit: int = DEFAULT_TENANT_MINUTE_LIMIT,
                tenant_day_limit: int = DEFAULT_TENANT_DAY_LIMIT) -> StoreRateWindows:
    """The app-wide budget in the store: `app_minute_limit`, else XERO_SYNC_APP_MINUTE_LIMIT,
    else 9,000 (headroom under Xero's 10,000 a minute); the tenant limits are Xero's."""
    return StoreRateWindows(
        engine, app_minute_limit=app_minute_limit or settings.app_minute_limit or DEFAULT_APP_MINUTE_LIMIT,
        tenant_minute_limit=tenant_minute_limit, tenant_day_limit=tenant_day_limit)


@dataclass
class XeroClients:
    """Xero clients for the partners of one store. `endpoints` defaults to the settings' Xero
    (the sandbox by default); `windows` is the app-wide budget the clients share (None: none);
    `cipher` defaults to the settings' key, read when a token store is made."""

    engine: sa.Engine
    settings: Settings
    endpoints: XeroEndpoints | None = None
    windows: StoreRateWindows | None = None
    cipher: TokenCipher | None = None

    @classmethod
    def from_settings(cls, engine: sa.Engine, settings: Settings | None = None,
                      sandbox_url: str | None = None) -> "XeroClients":
        """Clients as the runs make them: `sandbox_url` overrides the endpoints, and every call
        counts in the app-wide budget. The encryption key is read now: a malformed one is refused
        before anything else is done."""
        settings = settings or Settings.from_env()
        return cls(engine, settings, XeroEndpoints.for_base(sandbox_url) if sandbox_url else None,
                   app_windows(engine, settings), TokenCipher.for_settings(settings))

    @property
    def xero(self) -> XeroEndpoints:
        return self.endpoints or self.settings.xero

    def oauth_app(self) -> OAuthApp:
        return OAuthApp(self.xero, self.settings.client_id, self.settings.client_secret)

    def token_store(self) -> SqlTokenStore:
        return SqlTokenStore(self.engine, self.cipher or TokenCipher.for_settings(self.settings))

    def client_for(self, connection: Connection) -> XeroClient:
        if connection.tenant_id is None or connection.token_set_id is None:
            raise NotConnected(
                f"partner {connection.partner_id} has no Xero connection "
                f"(status {connection.status}); connect it from the Integrations page"
            )
        client = XeroClient(
            endpoints=self.xero,
            tenant_id=connection.tenant_id,
            token_store=self.token_store(),
            token_set_id=connection.token_set_id,
            oauth_app=self.oauth_app(),
        )
        # The store's parked_until decides; a park remembered by this process's budget from an
        # earlier run must not outlive it (the sensors only launch runs once unparked).
        client.budget.unpark()
        client.budget.share(self.windows)
        return client
