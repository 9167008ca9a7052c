"""Shared fixtures: platform-store databases on SQLite and PostgreSQL, and the Xero sandbox.

PostgreSQL: `XERO_SYNC_TEST_PG_URL` if set, else the server on 127.0.0.1:5432 (trust auth, user
postgres). If neither answers, a throwaway cluster is started from local PostgreSQL binaries.
With CI=true an unreachable server fails the tests instead of skipping them. Each test gets its
own database, created and dropped here; nothing depends on data left by an earlier run.
"""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.pg_cluster import PostgresUnavailable, find_or_start_postgres

pytest_plugins = ["tests.sandbox_fixtures"]


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[sa.URL]:
    try:
        with find_or_start_postgres() as url:
            yield url
    except PostgresUnavailable as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required in CI and unavailable: {exc}", pytrace=False)
        pytest.skip(f"PostgreSQL unavailable, PostgreSQL tests skipped: {exc}")


@pytest.fixture
def pg_url(pg_admin_url: sa.URL) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test (psycopg 3 driver)."""
    name = f"xs_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield pg_admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'platform.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request) -> str:
    """Runs the test once on SQLite (the embedded default) and once on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store_engine(db_url: str) -> Iterator[sa.Engine]:
    """A migrated platform store (Alembic head) on each backend."""
    from xero_sync.store.db import make_engine, upgrade

    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()


# The longest files start first, so on two workers they overlap the rest instead of trailing it
# (pytest-xdist hands out files in collection order).
_LONG_FIRST = ("tests/deploy/test_deploy_local.py", "tests/dagster/test_incremental.py",
               "tests/dagster/test_dagster_ui_browser.py", "tests/sandbox/test_fuzz_spec.py")


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: 0 if item.nodeid.startswith(_LONG_FIRST) else 1)


def pytest_configure(config):
    """Signals as in a terminal, in the main process and every xdist worker.

    A test command started in the background (`cmd &`, nohup, some CI runners) inherits SIGINT
    ignored. After every in-process Dagster run, Dagster's `capture_interrupts` maps SIGTERM to
    SIGINT's handler, so an ignored SIGINT becomes an ignored SIGTERM, and every process a test
    starts afterwards inherits it: `Pool.terminate()` then waits forever on its workers, and a
    child told to stop with SIGTERM never does (tests/test_test_signals.py)."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
