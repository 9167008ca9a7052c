"""Connecting the deployment's partners: partner i takes the sandbox's i-th organisation through
the sandbox's OAuth consent (no browser; `connect.headless`), the same exchange and Confirm as the
Integrations page, so each starts *Pending* and the onboarding sensor takes it from there."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from xero_sync.config import Settings
from xero_sync.connect.flow import ConnectError, confirm, exchange
from xero_sync.connect.headless import consent_headless
from xero_sync.deploy.services import http_json
from xero_sync.store.connections import Connection
from xero_sync.store.token_cipher import TokenCipher
from xero_sync.xero.oauth import OAuthApp

# Consents in flight. Partners created at the same moment still spread evenly over the shards:
# the store serializes shard assignment (store/shards.py, ASSIGN_LOCK).
CONNECT_WORKERS = 8


def partner_ids(count: int) -> list[str]:
    width = max(3, len(str(count)))
    return [f"msp-{n:0{width}d}" for n in range(1, count + 1)]


def sandbox_tenants(sandbox_url: str) -> list[str]:
    """The sandbox's organisations' tenant ids, in seeding order."""
    tenants = http_json(f"{sandbox_url}/_sandbox/tenants")
    if not isinstance(tenants, list):
        raise ConnectError(f"the sandbox at {sandbox_url} did not list its organisations")
    return [t["tenant_id"] for t in tenants]


def connect_one(settings: Settings, engine: sa.Engine, partner_id: str, tenant_id: str) -> Connection:
    code, redirect_uri = consent_headless(settings, tenant_id)
    consent = exchange(OAuthApp(settings.xero, settings.client_id, settings.client_secret), code, redirect_uri)
    organisation = consent.organisation(tenant_id)
    if organisation is None:
        raise ConnectError(f"the sandbox did not authorise tenant {tenant_id} for {partner_id}")
    return confirm(engine, TokenCipher.for_settings(settings), partner_id=partner_id,
                   partner_name=partner_id.upper(), token_set=consent.token_set, organisation=organisation)


def connect_partners(settings: Settings, engine: sa.Engine, sandbox_url: str, count: int,
                     workers: int = 1) -> list[Connection]:
    """Partners `msp-001`.. connected to the first `count` organisations, `workers` at a time."""
    tenants = sandbox_tenants(sandbox_url)
    if count > len(tenants):
        raise ConnectError(f"{count} partners need {count} organisations; the sandbox has {len(tenants)}")
    ids = partner_ids(count)
    with ThreadPoolExecutor(workers, thread_name_prefix="connect") as pool:
        return list(pool.map(lambda pair: connect_one(settings, engine, *pair), zip(ids, tenants)))
