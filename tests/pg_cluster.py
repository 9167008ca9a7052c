"""Find a PostgreSQL server for tests, or start a throwaway one from local binaries."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator

import sqlalchemy as sa

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


class PostgresUnavailable(RuntimeError):
    pass


def _reachable(url: sa.URL) -> str | None:
    """None if we can connect, else the reason."""
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        return None
    except Exception as exc:  # the driver's error text is the useful part
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    finally:
        engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _throwaway_cluster() -> Iterator[sa.URL]:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or (
        [shutil.which("initdb")] if shutil.which("initdb") else []
    )
    if not candidates:
        raise PostgresUnavailable("no initdb binary found to start a throwaway cluster")
    bindir = os.path.dirname(candidates[-1])
    datadir = tempfile.mkdtemp(prefix="xs-pg-")
    port = _free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(datadir, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    try:
        subprocess.run(
            [*as_user, f"{bindir}/initdb", "-D", datadir, "-U", "postgres", "--auth=trust"],
            check=True, capture_output=True,
        )
        # The server's output goes to a log file, never to a pipe of ours: a pipe it inherited
        # would keep subprocess.run waiting for as long as the server lives.
        subprocess.run(
            [*as_user, f"{bindir}/pg_ctl", "-D", datadir, "-l", f"{datadir}/server.log", "-w", "-o",
             f"-p {port} -k {datadir} -c listen_addresses=127.0.0.1", "start"],
            check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            timeout=60,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        log = os.path.join(datadir, "server.log")
        detail = open(log).read()[-500:] if os.path.exists(log) else ""
        shutil.rmtree(datadir, ignore_errors=True)
        raise PostgresUnavailable(f"could not start a throwaway cluster: {exc} {detail}".strip()) from exc
    try:
        print(f"\n[tests] started throwaway PostgreSQL on 127.0.0.1:{port}")
        yield sa.make_url(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres")
    finally:
        subprocess.run([*as_user, f"{bindir}/pg_ctl", "-D", datadir, "-m", "fast", "-w", "stop"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=60)
        shutil.rmtree(datadir, ignore_errors=True)


@contextlib.contextmanager
def find_or_start_postgres() -> Iterator[sa.URL]:
    explicit = os.environ.get("XERO_SYNC_TEST_PG_URL")
    url = sa.make_url(explicit or DEFAULT_URL)
    reason = _reachable(url)
    if reason is None:
        yield url
        return
    if explicit or os.environ.get("CI", "").lower() == "true":
        raise PostgresUnavailable(f"{url.render_as_string()} unreachable ({reason})")
    print(f"\n[tests] PostgreSQL at {url.render_as_string()} unreachable ({reason}); "
          "starting a throwaway cluster from local binaries")
    with _throwaway_cluster() as started:
        yield started
