"""XeroResource: a XeroClient per tenant, with tokens from the encrypted token store.

One rate budget per tenant is shared by every client in the process (the client keeps a
registry keyed by tenant id); one run per tenant at a time is enforced by the run queue.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
import sqlalchemy as sa
from pydantic import PrivateAttr

from xero_sync.config import Settings, XeroEndpoints
from xero_sync.platform.connections import Connection
from xero_sync.platform.db import make_engine
from xero_sync.platform.health import add_api_calls
from xero_sync.platform.token_cipher import TokenCipher
from xero_sync.platform.token_store import SqlTokenStore
from xero_sync.xero.client import XeroClient
from xero_sync.xero.oauth import OAuthApp


class NotConnected(dg.Failure):
    pass


class XeroResource(dg.ConfigurableResource):
    """Talks to Xero (or the sandbox) for one tenant at a time.

    Everything defaults to the environment at run time (see README "Configuration"):
    the database holding the token store, the Xero endpoints (sandbox by default) and the app's
    client id and secret. `sandbox_url` overrides the endpoints (tests, demo).
    """

    database_url: str | None = None
    sandbox_url: str | None = None
    _engine: sa.Engine | None = PrivateAttr(default=None)
    # (partner_id, client) handed out during this run or tick: their calls are counted at teardown.
    _clients: list = PrivateAttr(default_factory=list)

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

    def token_store(self) -> SqlTokenStore:
        settings = self._settings()
        if self._engine is None:
            self._engine = make_engine(self.database_url or settings.database_url)
        return SqlTokenStore(self._engine, TokenCipher.from_env(settings.home))

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
