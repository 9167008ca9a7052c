"""The test command's PostgreSQL fallback: with no server at the default address (and outside CI),
a throwaway cluster starts from the local binaries, answers, and is gone afterwards."""

from __future__ import annotations

import glob
import socket

import sqlalchemy as sa

from tests import pg_cluster


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_throwaway_cluster_when_no_server_answers(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("XERO_SYNC_TEST_PG_URL", raising=False)
    monkeypatch.setattr(pg_cluster, "DEFAULT_URL", f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/postgres")
    before = set(glob.glob("/tmp/xs-pg-*"))
    with pg_cluster.find_or_start_postgres() as url:
        assert pg_cluster._reachable(url) is None
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(sa.text("select 1")).scalar_one() == 1
        engine.dispose()
    assert pg_cluster._reachable(url) is not None  # stopped
    assert set(glob.glob("/tmp/xs-pg-*")) == before  # and removed


def test_in_ci_an_unreachable_server_is_an_error_not_a_fallback(monkeypatch):
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv("XERO_SYNC_TEST_PG_URL", raising=False)
    monkeypatch.setattr(pg_cluster, "DEFAULT_URL", f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/postgres")
    try:
        with pg_cluster.find_or_start_postgres():
            raise AssertionError("CI must not fall back to a throwaway cluster")
    except pg_cluster.PostgresUnavailable as exc:
        assert "unreachable" in str(exc)
