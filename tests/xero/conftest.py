"""Fixtures for the Xero client against the real sandbox server (over HTTP, real xero-python)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from tests.sandbox_fixtures import control, issue_tokens
from xero_sync.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, XeroEndpoints
from xero_sync.store import schema
from xero_sync.store.token_cipher import TokenCipher
from xero_sync.store.token_store import SqlTokenStore
from xero_sandbox.server import SandboxServer
from xero_sync.xero.client import XeroClient
from xero_sync.xero.oauth import OAuthApp
from xero_sync.xero.rate_budget import RateBudget
from xero_sync.core.tokens import TokenSet


@dataclass
class XeroEnv:
    server: SandboxServer
    tenant_id: str
    engine: sa.Engine
    store: SqlTokenStore
    app: OAuthApp
    endpoints: XeroEndpoints
    token_set_id: int
    cipher: TokenCipher

    @property
    def clock(self):
        return self.server.sandbox.clock

    def client(self, *, budget: RateBudget | None = None, tenant_id: str | None = None,
               store: SqlTokenStore | None = None, app: OAuthApp | None = None) -> XeroClient:
        tenant = tenant_id or self.tenant_id
        return XeroClient(
            endpoints=self.endpoints,
            tenant_id=tenant,
            token_store=store or self.store,
            token_set_id=self.token_set_id,
            oauth_app=app or self.app,
            # A private budget per client keeps tests independent of the process registry.
            budget=budget or RateBudget(tenant, clock=self.clock.time, sleep=self.clock.sleep),
            clock=self.clock.time,
            sleep=self.clock.sleep,
        )

    def new_app(self) -> OAuthApp:
        return OAuthApp(self.endpoints, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET,
                        clock=self.clock.time, sleep=self.clock.sleep)

    def requests(self, **params) -> list[dict]:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return control(self.server, "GET", f"/requests?{query}")

    def token_endpoint_calls(self) -> int:
        return sum(1 for r in control(self.server, "GET", "/requests") if "/connect/token" in r["path"])

    def fault(self, **body) -> dict:
        return control(self.server, "POST", "/faults", body)

    def add_connection(self, partner_id: str = "acme", tenant_id: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.insert(schema.partners).values(partner_id=partner_id, name=partner_id))
            conn.execute(sa.insert(schema.xero_connections).values(
                partner_id=partner_id, tenant_id=tenant_id or self.tenant_id,
                token_set_id=self.token_set_id, status="connected"))

    def connection_status(self, partner_id: str = "acme") -> tuple[str, str | None]:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(schema.xero_connections.c.status, schema.xero_connections.c.status_detail)
                               .where(schema.xero_connections.c.partner_id == partner_id)).one()
        return row.status, row.status_detail


def build_env(server: SandboxServer, engine: sa.Engine, tenant_id: str | None = None) -> XeroEnv:
    tenant = tenant_id or next(iter(server.sandbox.orgs))
    clock = server.sandbox.clock
    cipher = TokenCipher(TokenCipher.generate_key())
    store = SqlTokenStore(engine, cipher, clock=clock.time)
    tokens = TokenSet.from_token_response(issue_tokens(server, tenant), clock.time())
    endpoints = XeroEndpoints.for_base(server.base_url)
    app = OAuthApp(endpoints, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, clock=clock.time, sleep=clock.sleep)
    return XeroEnv(server, tenant, engine, store, app, endpoints, store.save_new(tokens), cipher)


def _migrated_engine(url: str) -> sa.Engine:
    from xero_sync.store.db import make_engine, upgrade

    upgrade(url)
    return make_engine(url)


@pytest.fixture
def sqlite_engine(sqlite_url):
    engine = _migrated_engine(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture
def make_env(sandbox_factory, sqlite_engine) -> Callable[..., XeroEnv]:
    def make(**sandbox_kwargs) -> XeroEnv:
        return build_env(sandbox_factory(**sandbox_kwargs), sqlite_engine)

    return make


@pytest.fixture
def env(make_env) -> XeroEnv:
    return make_env()
