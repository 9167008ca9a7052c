"""Dagster's PostgreSQL storage, keeping its connections open between statements.

dagster-postgres opens a new PostgreSQL connection for every statement outside the webserver
(SQLAlchemy `NullPool`): a run of one partner's last 12 months made about 900 connections, each a
new server process, and that, not Xero or our code, was most of a small run's cost (measured with
cProfile on deploy-local: 3.6 s of an 8.8 s run in `psycopg2.connect`). The webserver already
keeps a pooled engine per storage (`optimize_for_webserver`); this storage does the same in every
process that loads the instance (daemon, code servers, run workers), with the same pool shape:
one connection kept per storage, more opened only while threads overlap.

Configured exactly like dagster-postgres's `storage: postgres:` block, under `storage: custom:`
(see dagster.yaml), with the psycopg2 driver (`scheme: postgresql+psycopg2`): SQLAlchemy 2.1 maps
plain `postgresql://` to psycopg 3, whose pooled connections dagster-postgres closes under it.
Known upstream: dagster-io/dagster#20325, #33936. The two private dagster-postgres/Dagster
pieces this needs (the config schema, `optimize_for_webserver`) are in xero_sync/dagster_private.py.
"""

from __future__ import annotations

import sqlalchemy as sa
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config

from xero_sync.config import ConfigError
from xero_sync.dagster_private import pool_postgres_storages, postgres_storage_config

# Each storage keeps one connection; a thread finding it busy opens one of at most this many
# extra, closed when returned (the daemon's and code servers' thread pools are 4 wide).
MAX_OVERFLOW = 8
# Connections are replaced after an hour, as the webserver's are by default.
POOL_RECYCLE_SECONDS = 3600
NO_STATEMENT_TIMEOUT = 0  # runs may hold long statements; the webserver sets its own


class PooledPostgresStorage(DagsterPostgresStorage):
    """`DagsterPostgresStorage` with pooled connections in every process."""

    def __init__(self, postgres_url: str, should_autocreate_tables: bool = True, inst_data=None,
                 token_provider=None):
        driver = sa.make_url(postgres_url).get_driver_name()
        if driver != "psycopg2":
            raise ConfigError(
                f"Dagster storage (dagster.yaml, PooledPostgresStorage): driver {driver!r}; set "
                "`scheme: postgresql+psycopg2` (dagster-postgres works with psycopg2 only)")
        super().__init__(postgres_url, should_autocreate_tables, inst_data=inst_data,
                         token_provider=token_provider)
        pool_postgres_storages(self, NO_STATEMENT_TIMEOUT, POOL_RECYCLE_SECONDS, MAX_OVERFLOW)

    @classmethod
    def config_type(cls):
        return postgres_storage_config()

    @classmethod
    def from_config_value(cls, inst_data, config_value):  # ty: ignore[invalid-method-override]
        return cls(
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
        )
