"""PlatformResource: the platform store's engine for assets, sensors and schedules."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import dagster as dg
import sqlalchemy as sa
from pydantic import PrivateAttr

from xero_sync.config import Settings
from xero_sync.dagster_private import add_run_tags
from xero_sync.jobs.run_tags import PARTNER, TENANT, hand_run_tags
from xero_sync.store.connections import get_connection
from xero_sync.store.db import make_engine


class PlatformResource(dg.ConfigurableResource):
    """The Alternative platform store (PostgreSQL in production, SQLite embedded).

    `database_url` defaults to XERO_SYNC_DATABASE_URL (read at run time, not import time). The
    XeroResource nests this resource and uses its engine, so a run has one engine on the store.

    The default comes from `xero_sync.config.Settings`, not `dg.EnvVar`: Settings embeds a default
    for every variable (an SQLite store beside the code), and an EnvVar has no default, so binding
    it would make the variable mandatory. Reading one Settings object when asked also keeps a
    single place that names, parses and documents the variables.
    """

    database_url: str | None = None
    _engine: sa.Engine | None = PrivateAttr(default=None)

    @property
    def url(self) -> str:
        return self.database_url or Settings.from_env().database_url

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            self._engine = make_engine(self.url)
        return self._engine

    @contextlib.contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        """One transaction: committed on success, rolled back on error."""
        with self.engine.begin() as conn:
            yield conn

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """A run launched by hand (UI, backfill) names its partner, tenant and phase as it starts
        (jobs/run_tags.py); our sensors' and schedules' runs already do."""
        run = context.dagster_run
        if run is None or context.instance is None:
            return
        tags = hand_run_tags(run.tags)
        if not tags:
            return
        with self.engine.connect() as conn:
            connection = get_connection(conn, tags[PARTNER])
        tags[TENANT] = connection.tenant_id if connection and connection.tenant_id else tags[PARTNER]
        add_run_tags(context.instance, run.run_id, tags)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
