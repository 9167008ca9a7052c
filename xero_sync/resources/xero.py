"""XeroResource: a XeroClient per tenant, with tokens from the encrypted token store.

The clients are made by connect/clients.py (the command line makes them the same way without
Dagster). One rate budget per tenant is shared by every client in the process (the client keeps a
registry keyed by tenant id), and every call is also taken from the app-wide budget in the
platform store (platform.rate_windows), so the app's minute and each tenant's minute and day stay
under Xero's limits whatever number of processes make calls; one run per tenant at a time is
enforced by the run queue.
"""

import datetime as dt

import dagster as dg
import sqlalchemy as sa
from pydantic import PrivateAttr

from xero_sync.config import Settings, XeroEndpoints
from xero_sync.connect.clients import NotConnected as NoConnection
from xero_sync.connect.clients import XeroClients, app_windows
from xero_sync.resources.platform import PlatformResource
from xero_sync.store.connections import Connection
from xero_sync.store.health import add_api_calls
from xero_sync.store.rate_windows import (
    DEFAULT_TENANT_DAY_LIMIT,
    DEFAULT_TENANT_MINUTE_LIMIT,
    StoreRateWindows,
)
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

    The store is reached through `platform`, the nested PlatformResource (Dagster's resources that
    depend on other resources): the definitions nest the partially configured (`configure_at_launch`)
    resource they also bind to "platform", which Dagster resolves to that one key, so a run holds
    one engine (one pool) on the store; a fully configured nested resource would get its own. Without it (the command line, tests that build
    a client directly) the resource makes its own PlatformResource from `database_url`.

    Settings are read at run time from `xero_sync.config.Settings`, not bound with `dg.EnvVar`:
    every variable there has an embedded default (SQLite store, sandbox endpoints), and an EnvVar
    has none, so binding them would make each variable mandatory. Reading one Settings object
    when asked also keeps a single place that names, parses and documents the variables.
    """

    # Optional nested resource: Dagster reads this annotation at run time (so no `from __future__
    # import annotations` here); its type alias does not admit the None default to mypy.
    platform: dg.ResourceDependency[PlatformResource | None] = None  # type: ignore[assignment]
    database_url: str | None = None
    sandbox_url: str | None = None
    shared_budget: bool = True
    app_minute_limit: int | None = None
    tenant_minute_limit: int = DEFAULT_TENANT_MINUTE_LIMIT
    tenant_day_limit: int = DEFAULT_TENANT_DAY_LIMIT
    # The PlatformResource made from `database_url` when none is nested; torn down with this one.
    _own_platform: PlatformResource | None = PrivateAttr(default=None)
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

    def _factory(self, windows: StoreRateWindows | None = None) -> XeroClients:
        return XeroClients(self._store_engine(), self._settings(), self.endpoints, windows)

    def oauth_app(self) -> OAuthApp:
        return self._factory().oauth_app()

    def _platform(self) -> PlatformResource:
        if isinstance(self.platform, PlatformResource):
            return self.platform  # in a run: the one instance Dagster gave both resource keys
        if self._own_platform is None:
            # Unset, or used outside a run (the demo's headless push): the field is then still the
            # definitions' unresolved `PlatformResource.configure_at_launch(...)`; use its config.
            given = getattr(self.platform, "data", None) or {}
            self._own_platform = PlatformResource(database_url=self.database_url or given.get("database_url"))
        return self._own_platform

    def _store_engine(self) -> sa.Engine:
        return self._platform().engine

    def token_store(self) -> SqlTokenStore:
        return self._factory().token_store()

    def rate_windows(self) -> StoreRateWindows | None:
        """The app-wide budget in the platform store (None when `shared_budget` is off)."""
        if self.shared_budget and self._windows is None:
            self._windows = app_windows(
                self._store_engine(), self._settings(), app_minute_limit=self.app_minute_limit,
                tenant_minute_limit=self.tenant_minute_limit, tenant_day_limit=self.tenant_day_limit)
        return self._windows if self.shared_budget else None

    def client_for(self, connection: Connection) -> XeroClient:
        try:
            client = self._factory(self.rate_windows()).client_for(connection)
        except NoConnection as exc:
            raise NotConnected(str(exc)) from None
        self._clients.append((connection.partner_id, client))
        return client

    def record_api_calls(self) -> None:
        """Add the calls made by this resource's clients to each partner's count for today (the
        health asset's "API calls today"), with Xero's last X-DayLimit-Remaining."""
        if not self._clients:
            return
        clients, self._clients = self._clients, []
        now = dt.datetime.now(dt.timezone.utc)
        with self._store_engine().begin() as conn:
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
        self._windows = None
        if self._own_platform is not None:  # a nested PlatformResource is torn down by Dagster
            self._own_platform.teardown_after_execution(context)
            self._own_platform = None
