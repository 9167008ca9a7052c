"""The deployment's PostgreSQL database: created fresh (a throwaway `xs_deploy_<random>` dropped
when the deployment stops, or a named one kept for inspection), holding the platform store in
`public` and Dagster's storage in the `dagster` schema.

The server is `XERO_SYNC_DEPLOY_PG_URL` (any database on it that `CREATE DATABASE` can be run
from), else 127.0.0.1:5432 as user postgres.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from xero_sync.config import DEFAULT_DEPLOY_PG_URL, DEPLOY_PG_URL_ENV, ConfigError, Settings
from xero_sync.deploy.instance_files import DAGSTER_SCHEMA

SERVER_ENV = DEPLOY_PG_URL_ENV
DEFAULT_SERVER = DEFAULT_DEPLOY_PG_URL
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


@dataclass(frozen=True)
class DeployDatabase:
    server: sa.URL  # where CREATE/DROP DATABASE runs
    url: sa.URL  # the deployment's database (psycopg 3, the platform store's driver)
    throwaway: bool

    @property
    def platform_url(self) -> str:
        return self.url.render_as_string(hide_password=False)

    def shown(self) -> str:
        return self.url.render_as_string(hide_password=True)


def server_url(env: dict[str, str] | None = None) -> sa.URL:
    try:
        url = sa.make_url(Settings.from_env(env).deploy_pg_url)
    except sa.exc.ArgumentError:
        raise ConfigError(f"{SERVER_ENV} is not a SQLAlchemy URL") from None
    if url.get_backend_name() != "postgresql":
        raise ConfigError(f"{SERVER_ENV} must point at PostgreSQL, got {url.get_backend_name()}")
    return url.set(drivername="postgresql+psycopg")


def _admin(server: sa.URL) -> sa.Engine:
    return sa.create_engine(server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})


def create(server: sa.URL, name: str | None = None) -> DeployDatabase:
    """A fresh database (a named one is dropped first: the sandbox's tokens live in memory, so
    connections stored by an earlier deployment could not refresh) with the Dagster schema."""
    throwaway = name is None
    name = name or f"xs_deploy_{uuid.uuid4().hex[:10]}"
    if not _NAME.fullmatch(name):
        raise ConfigError(f"database name {name!r}: use 1-63 lowercase letters, digits and _")
    admin = _admin(server)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    db = DeployDatabase(server, server.set(database=name), throwaway)
    engine = sa.create_engine(db.url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {DAGSTER_SCHEMA}"))
    finally:
        engine.dispose()
    return db


def drop(db: DeployDatabase) -> None:
    admin = _admin(db.server)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db.url.database}" WITH (FORCE)'))
    finally:
        admin.dispose()
