"""XeroResource: a XeroClient per tenant, with tokens from the encrypted token store.

One rate budget per tenant is shared by every client in the process (the client keeps a
registry keyed by tenant id), and every call is also taken from the app-wide budget in the
platform store (platform.rate_windows), so the app's minute and each tenant's minute and day stay
under Xero's limits whatever number of processes make calls; one run per tenant at a time is
enforced by the run queue.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
import sqlalchemy as sa
from pydantic import PrivateAttr

from xero_sync.config import Settings, XeroEndpoints
from xero_sync.store.connections import Connection
from xero_sync.store.db import make_engine
from xero_sync.store.health import add_api_calls
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


class NotConnected(dg.Failure):
    pass


class XeroResource(dg.ConfigurableResource):
    """Talks to Xero (or the sandbox) for one tenant at a time.

    Everything defaults to the environment at run time (see README "Configuration"):
    the database holding the token store, the Xero endpoints (sandbox by default) and the app's
    client id and secret. `sandbox_url` overrides the endpoints (tests, demo). The app-wide budget
    (`shared_budget`) counts calls in the same store: `app_minute_limit` (else
    `XERO_SYNC_APP_MINUTE_LIMIT`, else 9,000) leaves headroom under Xero's 10,000 a minute; the
    tenant limits are Xero's.
    """

    database_url: str | None = None
    sandbox_url: str | None = None
    shared_budget: bool = True
    app_minute_limit: int | None = None
    tenant_minute_limit: int = DEFAULT_TENANT_MINUTE_LIMIT
    tenant_day_limit: int = DEFAULT_TENANT_DAY_LIMIT
    _engine: sa.Engine | None = PrivateAttr(default=None)
    # (partner_id, client) handed out during this run or tick: their calls are counted at teardown.
    _clients: list = PrivateAttr(default_factory=list)
    _windows: StoreRateWindows | None = PrivateAttr(default=None)

    def _settings(self) -> Settings:
        return Settings.from_env()

    @property
    def endpoints(self) -> XeroEndpoints:
        if self.sandbox_url:
            return XeroEndpoints.for_base(self.sandbox_url)
        return self._settings().xero

    def oauth_app(self) -> OAuthApp:
        settings = self._settings()
        return OAuthApp(self.endpoints, settings.client_id, settings.client_secret)

    def _store_engine(self) -> sa.Engine:
        if self._engine is None:
            self._engine = make_engine(self.database_url or self._settings().database_url)
        return self._engine

    def token_store(self) -> SqlTokenStore:
        return SqlTokenStore(self._store_engine(), TokenCipher.for_settings(self._settings()))

    def rate_windows(self) -> StoreRateWindows | None:
        """The app-wide budget in the platform store (None when `shared_budget` is off)."""
        if self.shared_budget and self._windows is None:
            self._windows = StoreRateWindows(
                self._store_engine(),
                app_minute_limit=(self.app_minute_limit or self._settings().app_minute_limit
                                  or DEFAULT_APP_MINUTE_LIMIT),
                tenant_minute_limit=self.tenant_minute_limit, tenant_day_limit=self.tenant_day_limit)
        return self._windows if self.shared_budget else None

    def client_for(self, connection: Connection) -> XeroClient:
        if connection.tenant_id is None or connection.token_set_id is None:
            raise NotConnected(
                f"partner {connection.partner_id} has no Xero connection "
                f"(status {connection.status}); connect it from the Integrations page"
            )
        client = XeroClient(
            endpoints=self.endpoints,
            tenant_id=connection.tenant_id,
            token_store=self.token_store(),
            token_set_id=connection.token_set_id,
            oauth_app=self.oauth_app(),
        )
        # The store's parked_until decides; a park remembered by this process's budget from an
        # earlier run must not outlive it (the sensors only launch runs once unparked).
        client.budget.unpark()
        self._clients.append((connection.partner_id, client))
        client.budget.share(self.rate_windows())
        return client

    def record_api_calls(self) -> None:
        """Add the calls made by this resource's clients to each partner's count for today (the
        health asset's "API calls today"), with Xero's last X-DayLimit-Remaining."""
        if not self._clients or self._engine is None:
            return
        clients, self._clients = self._clients, []
        now = dt.datetime.now(dt.timezone.utc)
        with self._engine.begin() as conn:
            for partner_id, client in clients:
                stats = client.stats()
                add_api_calls(conn, partner_id, stats["calls"], now,
                              day_remaining=stats["budget"].get("day_remaining"))

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        try:
            self.record_api_calls()
        except sa.exc.SQLAlchemyError as exc:  # bookkeeping must not fail a run that did its work
            if context.log is not None:
                context.log.warning(f"could not record today's Xero API calls: {exc}")
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
            self._windows = None
