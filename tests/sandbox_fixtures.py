"""Sandbox fixtures: a real Xero sandbox server over HTTP, and the real xero-python SDK against it.

- `sandbox_factory(**kwargs) -> SandboxServer`: seeds and starts a server (kwargs as
  `Sandbox.seeded`: seed, invoices, months, tenants, currency, day_limit, minute_limit,
  concurrent_limit, app_minute_limit, webhook_url, webhook_key, clock). Defaults: seed 7,
  300 invoices, 24 months, 1 tenant, a frozen clock at FROZEN_AT. Stopped at teardown.
- `sandbox`: `sandbox_factory()` with the defaults (one small organisation).
- `sandbox_tenant_id`: the default sandbox's only tenant id.
- `issue_tokens(server, tenant_id) -> dict`: token set via POST /_sandbox/tokens.
- `make_sdk(server, tenant_id=None, token_set=None) -> SandboxSDK`: tokens plus a configured
  xero-python `ApiClient`, `AccountingApi`, `IdentityApi` (SDK retries off, see docs/stack-notes.md).
- `sandbox_sdk`: `make_sdk(sandbox)` for the default sandbox.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from xero_sync.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from xero_sandbox.clock import Clock
from xero_sandbox.server import SandboxServer
from xero_sandbox.state import Sandbox

FROZEN_AT = dt.datetime(2026, 11, 15, 12, 0, tzinfo=dt.timezone.utc)
DEFAULTS = {"seed": 7, "invoices": 300, "months": 24, "tenants": 1}


def start_sandbox(**kwargs) -> SandboxServer:
    """A started server over a freshly seeded sandbox; the caller stops it."""
    options = {**DEFAULTS, **kwargs}
    options.setdefault("clock", Clock(frozen_at=FROZEN_AT))
    return SandboxServer(Sandbox.seeded(**options)).start()


def control(server: SandboxServer, method: str, path: str, body: dict | None = None):
    """Call a /_sandbox control endpoint; returns the parsed JSON answer."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{server.base_url}/_sandbox{path}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def issue_tokens(server: SandboxServer, tenant_id: str | None = None) -> dict:
    tenant_id = tenant_id or next(iter(server.sandbox.orgs))
    return control(server, "POST", "/tokens", {"tenant_id": tenant_id})


@dataclass
class SandboxSDK:
    server: SandboxServer
    tenant_id: str
    token_holder: dict  # {"tokens": the current token set}; the SDK's saver replaces it
    api_client: object  # xero_python.api_client.ApiClient
    accounting: object  # xero_python.accounting.AccountingApi
    identity: object  # xero_python.identity.IdentityApi

    @property
    def tokens(self) -> dict:
        return self.token_holder["tokens"]


def make_api_client(token_holder: dict):
    """An xero-python ApiClient whose token getter/saver read and write `token_holder["tokens"]`."""
    from xero_python.api_client import ApiClient
    from xero_python.api_client.configuration import Configuration
    from xero_python.api_client.oauth2 import OAuth2Token

    def getter() -> dict:
        tokens = token_holder["tokens"]
        return {
            "access_token": tokens["access_token"],
            "refresh_token": tokens.get("refresh_token"),
            "scope": tokens["scope"].split() if isinstance(tokens["scope"], str) else tokens["scope"],
            "expires_in": tokens["expires_in"],
            "token_type": tokens["token_type"],
            "expires_at": None,  # the SDK never refreshes on its own here: tests drive refresh
        }

    def saver(token: dict) -> None:
        token_holder["tokens"] = dict(token)

    # Configuration is a process-wide singleton copied shallowly: set this client's own token
    # object instead of passing it to the constructor (ignored after the first call).
    configuration = Configuration()
    configuration.oauth2_token = OAuth2Token(client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET)
    api_client = ApiClient(
        configuration,
        pool_threads=1,
        oauth2_token_getter=getter,
        oauth2_token_saver=saver,
    )
    # xero-python silently retries 429/503 with Retry-After otherwise (docs/stack-notes.md).
    api_client.rest_client.pool_manager.connection_pool_kw["retries"] = False
    return api_client


def make_sdk(server: SandboxServer, tenant_id: str | None = None, token_set: dict | None = None) -> SandboxSDK:
    from xero_python.accounting import AccountingApi
    from xero_python.identity import IdentityApi

    tenant_id = tenant_id or next(iter(server.sandbox.orgs))
    holder = {"tokens": token_set or issue_tokens(server, tenant_id)}
    api_client = make_api_client(holder)
    base = server.base_url
    return SandboxSDK(
        server=server,
        tenant_id=tenant_id,
        token_holder=holder,
        api_client=api_client,
        accounting=AccountingApi(api_client, base_url=f"{base}/api.xro/2.0"),
        identity=IdentityApi(api_client, base_url=base),
    )


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., SandboxServer]]:
    servers: list[SandboxServer] = []

    def factory(**kwargs) -> SandboxServer:
        server = start_sandbox(**kwargs)
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()


@pytest.fixture
def sandbox(sandbox_factory) -> SandboxServer:
    return sandbox_factory()


@pytest.fixture
def sandbox_tenant_id(sandbox: SandboxServer) -> str:
    return next(iter(sandbox.sandbox.orgs))


@pytest.fixture
def sandbox_sdk(sandbox: SandboxServer) -> SandboxSDK:
    return make_sdk(sandbox)


def use_sandbox_settings(monkeypatch, server: SandboxServer, db_url: str, home) -> None:
    """Point Settings.from_env() at this sandbox and store, with a fresh encryption key."""
    from xero_sync.store.token_cipher import TokenCipher

    monkeypatch.setenv("XERO_SYNC_HOME", str(home))
    monkeypatch.setenv("XERO_SYNC_DATABASE_URL", db_url)
    monkeypatch.setenv("XERO_SYNC_SANDBOX_URL", server.base_url)
    monkeypatch.setenv("XERO_SYNC_XERO", "sandbox")
    monkeypatch.setenv("XERO_SYNC_ENCRYPTION_KEY", TokenCipher.generate_key())
