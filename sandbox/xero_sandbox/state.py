"""The sandbox as one object: organisations, clock, OAuth, limits, idempotency, faults, log, webhooks.

`Sandbox` is what `app.extensions["xero_sandbox"]` holds; every part reads the same `Clock`, so a
frozen clock moves token expiry, rate windows and idempotency windows together.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections import deque
from dataclasses import dataclass, field

from xero_sandbox.demo_app import DEMO_WEBHOOK_KEY
from xero_sandbox.canned import CannedAnswers
from xero_sandbox.clock import Clock
from xero_sandbox.faults import FaultInjector
from xero_sandbox.idempotency import IdempotencyStore
from xero_sandbox.limits import RateLimits
from xero_sandbox.oauth import OAuthRegistry
from xero_sandbox.org import Organisation
from xero_sandbox.seed import seed_organisations
from xero_sandbox.timing import DeferredWrites, ReadLag
from xero_sandbox.webhooks import Webhooks

_LOG_CAPACITY = 100_000  # enough for any test or demo; old entries fall off


class RequestLog:
    """Every request the sandbox answered, newest last, with a sequence number to page by."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._entries: deque[dict] = deque(maxlen=_LOG_CAPACITY)
        self._seq = itertools.count(1)

    def add(self, **entry) -> dict:
        with self._lock:
            entry = {"seq": next(self._seq), "time": self.clock.now().isoformat(), **entry}
            self._entries.append(entry)
            return entry

    def entries(self, tenant_id: str | None = None, since: int = 0) -> list[dict]:
        with self._lock:
            return [
                e
                for e in self._entries
                if e["seq"] > since and (tenant_id is None or e.get("tenant_id") == tenant_id)
            ]


@dataclass
class Sandbox:
    orgs: dict[str, Organisation]
    clock: Clock
    oauth: OAuthRegistry
    limits: RateLimits
    idempotency: IdempotencyStore
    faults: FaultInjector
    requests: RequestLog
    webhooks: Webhooks
    seed: int = 0
    settings: dict = field(default_factory=dict)
    canned: CannedAnswers = field(default_factory=CannedAnswers)
    deferred: DeferredWrites = field(init=False)  # `applied_late` writes (timing.py)
    read_lag: ReadLag = field(init=False)  # `read_lag` hidden records (timing.py)

    def __post_init__(self) -> None:
        self.deferred = DeferredWrites(self.clock)
        self.read_lag = ReadLag(self.clock)

    @classmethod
    def seeded(
        cls,
        seed: int,
        invoices: int,
        months: int,
        tenants: int = 1,
        currency: str = "USD",
        clock: Clock | None = None,
        day_limit: int = 5000,
        minute_limit: int = 60,
        concurrent_limit: int = 5,
        app_minute_limit: int = 10_000,
        webhook_url: str | None = None,
        webhook_key: str = DEMO_WEBHOOK_KEY,
        end: dt.date | None = None,
    ) -> "Sandbox":
        clock = clock or Clock()
        webhooks = Webhooks(clock, webhook_url, webhook_key)
        orgs = seed_organisations(
            seed=seed,
            invoices=invoices,
            months=months,
            tenants=tenants,
            currency=currency,
            clock=clock,
            end=end,
        )
        # Seeding is history, not news: webhooks start after it.
        for org in orgs:
            org.on_change = webhooks.listener(org.tenant_id)
        return cls(
            orgs={org.tenant_id: org for org in orgs},
            clock=clock,
            oauth=OAuthRegistry(clock),
            limits=RateLimits(
                clock,
                day_limit=day_limit,
                minute_limit=minute_limit,
                concurrent_limit=concurrent_limit,
                app_minute_limit=app_minute_limit,
            ),
            idempotency=IdempotencyStore(clock),
            faults=FaultInjector(seed),
            requests=RequestLog(clock),
            webhooks=webhooks,
            seed=seed,
            settings={"invoices": invoices, "months": months, "tenants": tenants, "currency": currency},
        )

    def org(self, tenant_id: str) -> Organisation | None:
        return self.orgs.get(tenant_id)

    def tokens_for(self, tenant_id: str) -> dict:
        """A fresh grant connected to `tenant_id` and its token set (as /connect/token returns)."""
        org = self.orgs[tenant_id]
        return self.oauth.issue_for_tenant(tenant_id, org.name)

    def close(self) -> None:
        self.webhooks.stop()
