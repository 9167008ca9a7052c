"""A connected (pending) partner against a running sandbox, with a real Dagster instance."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

import dagster as dg
import pytest
import sqlalchemy as sa

from tests.sandbox_fixtures import use_sandbox_settings
from xero_sync.config import Settings
from xero_sync.definitions import build_defs
from xero_sync.demo.main import connect_demo_partner
from xero_sync.store.db import make_engine, upgrade
from xero_sandbox.server import SandboxServer


@dataclass
class World:
    server: SandboxServer
    engine: sa.Engine
    instance: dg.DagsterInstance
    defs: dg.Definitions
    partner_id: str
    tenant_id: str
    db_url: str

    @property
    def org(self):
        return self.server.sandbox.orgs[self.tenant_id]

    def calls(self) -> int:
        return self.server.sandbox.limits.calls(self.tenant_id)["total"]


def make_world(server: SandboxServer, db_url: str, tmp_path, monkeypatch) -> Iterator[World]:
    use_sandbox_settings(monkeypatch, server, db_url, tmp_path / "home")
    upgrade(db_url)
    engine = make_engine(db_url)
    connection = connect_demo_partner(Settings.from_env(), engine)
    # A real on-disk SQLite instance; on tmpfs when available, since Dagster's event log fsyncs
    # every event and a range run writes one per partition and asset.
    shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(dir=shm) as dagster_home, dg.instance_for_test(temp_dir=dagster_home) as instance:
        yield World(server, engine, instance, build_defs(database_url=db_url, sandbox_url=server.base_url),
                    connection.partner_id, connection.tenant_id, db_url)
    engine.dispose()


@pytest.fixture
def world(sandbox_factory, db_url, tmp_path, monkeypatch) -> Iterator[World]:
    """Seed 11: 3 years of history, limits raised so tests never wait on the minute window."""
    server = sandbox_factory(seed=11, invoices=600, months=36, minute_limit=100_000)
    yield from make_world(server, db_url, tmp_path, monkeypatch)


@dataclass
class TwoPartners:
    """Two partners, each connected to its own sandbox organisation, onboarded to Connected."""

    server: SandboxServer
    engine: sa.Engine
    instance: dg.DagsterInstance
    defs: dg.Definitions
    dagster_home: str
    tenants: dict[str, str]  # partner_id -> tenant_id
    onboarding_failures: list[str]


def connect_partner(settings: Settings, engine: sa.Engine, partner_id: str, name: str, tenant_id: str):
    """The headless consent for one organisation, then Confirm of exactly that one."""
    from xero_sync.connect.flow import confirm, exchange
    from xero_sync.connect.headless import consent_headless
    from xero_sync.store.token_cipher import TokenCipher
    from xero_sync.xero.oauth import OAuthApp

    code, redirect_uri = consent_headless(settings, tenant_id=tenant_id)
    consent = exchange(OAuthApp(settings.xero, settings.client_id, settings.client_secret), code, redirect_uri)
    organisation = next(o for o in consent.organisations if o.tenant_id == tenant_id)
    return confirm(engine, TokenCipher.for_settings(settings), partner_id=partner_id, partner_name=name,
                   token_set=consent.token_set, organisation=organisation)


@pytest.fixture
def two_partners(sandbox_factory, sqlite_url, tmp_path, monkeypatch) -> Iterator[TwoPartners]:
    """acme and beta on two small organisations (SQLite store; a Dagster home on disk that a
    webserver can open too), both driven through the onboarding sensor's runs to Connected."""
    from xero_sync.demo.main import drive_headless

    server = sandbox_factory(seed=5, invoices=100, months=12, tenants=2, minute_limit=100_000)
    use_sandbox_settings(monkeypatch, server, sqlite_url, tmp_path / "home")
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    settings = Settings.from_env()
    tenant_ids = list(server.sandbox.orgs)
    tenants = {"acme": tenant_ids[0], "beta": tenant_ids[1]}
    for partner_id, tenant_id in tenants.items():
        connect_partner(settings, engine, partner_id, partner_id.title() + " MSP", tenant_id)
    shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(dir=shm) as dagster_home, dg.instance_for_test(temp_dir=dagster_home) as instance:
        defs = build_defs(database_url=sqlite_url, sandbox_url=server.base_url)
        failures = []
        for partner_id in tenants:
            failures += drive_headless(instance, defs, engine, partner_id)
        yield TwoPartners(server, engine, instance, defs, dagster_home, tenants, failures)
    engine.dispose()
