"""`xero-sync deploy-local` for real (what `scripts/deploy-local` runs): PostgreSQL, a code server
per shard, dagster-daemon, dagster-webserver, `xero-sync web` and the sandbox; two partners
connect and the daemon's runs bring both to Connected; the webserver lists the code locations over
GraphQL; a payment through the events API reaches the sandbox and a change made in Xero reaches
the store by webhook (issue 20: the production shape end to end); SIGTERM stops every process it
started and drops its throwaway database.

The one slow end-to-end test of the deployment, kept as small as still meaningful: two
organisations with three months of history each (one onboarding run per partner, then the
months before the first transaction marked empty). XERO_SYNC_DEPLOY_TEST_SHARDS sets the shard
count (default 2: partners spread over both shards' code locations).
"""

from __future__ import annotations

import datetime as dt
import os
import queue
import re
import shlex
import stat
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from tests.process_tree import descendants, in_groups, proc_stat, still_running
from xero_sync.deploy import probes
from xero_sync.deploy.progress import progress
from xero_sync.deploy.services import code_locations
from xero_sync.store.schema import partner_months, xero_connections
from xero_sync.shards.layout import location_name as shard_location_name

ROOT = Path(__file__).resolve().parents[2]
SHARDS = int(os.environ.get("XERO_SYNC_DEPLOY_TEST_SHARDS", "2"))
TENANTS = 2
READY_SECONDS = 300  # database, sandbox, code servers, webserver and daemon answering
CONNECTED_SECONDS = 420  # both partners Connected (sensor ticks; runs; empty months)
STOP_SECONDS = 120
PAYMENT_SECONDS = 60  # events API -> payment in the sandbox (bench/push_daemon.py measures it)
WEBHOOK_SECONDS = 60  # a Xero change -> the store, by webhook (issue 20's target)


def _deploy_env(path: Path) -> dict[str, str]:
    """The variables `deploy.env` exports (what a second terminal sources)."""
    out = {}
    for line in path.read_text().splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        out[name] = shlex.split(value)[0] if value else ""
    return out


def _payment_and_webhook(engine: sa.Engine, env: dict[str, str], web: str, alive) -> None:
    """Alternative reports a payment through the events API: it reaches the sandbox (Xero); a Xero
    user edits an invoice: the change reaches the store through the webhook receiver."""
    sandbox, token = env["XERO_SYNC_SANDBOX_URL"], env["XERO_SYNC_SERVICE_TOKEN"]
    with engine.connect() as conn:
        partner_id, tenant_id = conn.execute(sa.select(xero_connections.c.partner_id, xero_connections.c.tenant_id)
                                             .order_by(xero_connections.c.partner_id)).first()
    probes.set_up_accounts(engine, partner_id)
    (invoice,) = probes.open_invoices(engine, partner_id, 1)
    (other,) = probes.unpaid_invoices(engine, partner_id, 1)
    assert probes.take_payment(web, "not-the-token" * 4, partner_id, invoice, "pay_e2e").status == 401
    answer = probes.take_payment(web, token, partner_id, invoice, "pay_e2e")
    assert answer.status == 201, answer
    probes.wait_until("the payment in Xero", lambda: probes.payment_in_xero(sandbox, tenant_id, "pay_e2e"),
                      PAYMENT_SECONDS, alive)

    due = dt.date(2031, 3, 4)
    assert probes.due_date_in_store(engine, partner_id, other.xero_invoice_id) != due
    probes.edit_due_date_in_xero(sandbox, tenant_id, other.xero_invoice_id, due)
    probes.wait_until("the Xero change in the store",
                      lambda: probes.due_date_in_store(engine, partner_id, other.xero_invoice_id) == due,
                      WEBHOOK_SECONDS, alive)


def _read_until(lines: queue.Queue, seen: list[str], marker: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not any(marker in line for line in seen):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or (proc.poll() is not None and lines.empty()):
            raise AssertionError(f"no {marker!r} from deploy-local:\n{''.join(seen)}")
        try:
            seen.append(lines.get(timeout=min(remaining, 5)))
        except queue.Empty:
            pass


def _wait_connected(engine: sa.Engine, proc: subprocess.Popen, seen: list[str]) -> None:
    deadline = time.monotonic() + CONNECTED_SECONDS
    while not progress(engine).all_connected:
        assert proc.poll() is None, f"deploy-local exited with {proc.returncode}:\n{''.join(seen)}"
        assert time.monotonic() < deadline, f"not every partner connected: {progress(engine)}"
        try:
            proc.wait(timeout=2)  # the poll interval; wakes at once if deploy-local exits
        except subprocess.TimeoutExpired:
            pass


@pytest.mark.postgres
@pytest.mark.slow
def test_deploy_local_onboards_partners_through_the_daemon_and_stops_everything(pg_admin_url, tmp_path,
                                                                                 monkeypatch):
    started_at = time.monotonic()
    env = {**os.environ, "PYTHONUNBUFFERED": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "XERO_SYNC_DEPLOY_PG_URL": pg_admin_url.render_as_string(hide_password=False),
           # Sensors every 5 s instead of 30: the same ticks in the same order, less waiting.
           "XERO_SYNC_SENSOR_INTERVAL": "5"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "xero_sync.commands.cli", "deploy-local", "--home", str(tmp_path),
         "--shards", str(SHARDS), "--tenants", str(TENANTS), "--invoices", "20", "--months", "3",
         "--port", "0", "--sandbox-port", "0", "--web-port", "0"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    seen: list[str] = []
    admin = sa.create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    database, tree, groups, left = None, {}, set(), None
    try:
        _read_until(lines, seen, "Ctrl-C stops everything", proc, READY_SECONDS)
        text = "".join(seen)
        database = re.search(r"/(xs_deploy_[0-9a-f]+) ", text).group(1)
        ui = re.search(r"Dagster UI\s+(http://\S+)", text).group(1)
        web = re.search(r"web \+ events\s+(http://\S+)", text).group(1)
        env_file = tmp_path / "deploy" / "deploy.env"
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
        deploy_env = _deploy_env(env_file)
        assert len(deploy_env["XERO_SYNC_SERVICE_TOKEN"]) >= 32
        for name, value in deploy_env.items():  # this process sets up accounts as `xero-sync accounts`
            monkeypatch.setenv(name, value)
        engine = sa.create_engine(pg_admin_url.set(database=database))
        try:
            _wait_connected(engine, proc, seen)
            with engine.connect() as conn:
                c, m = xero_connections.c, partner_months.c
                planned = {p: (first, total) for p, first, total in conn.execute(
                    sa.select(c.partner_id, c.first_month, c.months_total).where(c.months_done == c.months_total))}
                landed = {p: n for p, n in conn.execute(
                    sa.select(m.partner_id, sa.func.count()).join(xero_connections, c.partner_id == m.partner_id)
                    .where(m.month >= c.first_month).group_by(m.partner_id))}
        finally:
            engine.dispose()
        assert len(planned) == TENANTS and all(total > 0 for _, total in planned.values()), planned
        # Every month from the organisation's first transaction to now landed in the store.
        assert landed == {p: total for p, (_, total) in planned.items()}

        # The months came from runs the daemon launched for the onboarding sensor.
        with dg.DagsterInstance.from_config(str(tmp_path / "deploy" / "dagster")) as instance:
            runs = instance.get_runs(dg.RunsFilter(tags={"xero/phase": "onboarding"}))
        assert {r.tags["xero/partner"] for r in runs if r.status == dg.DagsterRunStatus.SUCCESS} == set(planned)
        assert all(r.tags.get("dagster/sensor_name") == "new_connection_sensor" for r in runs)
        # Partners join the least filled shard: each shard's code location onboarded one.
        locations = {shard_location_name(i) for i in range(SHARDS)}
        assert {r.remote_job_origin.location_name for r in runs} == locations

        # The webserver answers GraphQL with one loaded code location per shard.
        assert code_locations(ui) == dict.fromkeys(locations, "LOADED")

        def alive() -> None:
            assert proc.poll() is None, f"deploy-local exited with {proc.returncode}:\n{''.join(seen)}"

        engine = sa.create_engine(pg_admin_url.set(database=database))
        try:
            _payment_and_webhook(engine, deploy_env, web, alive)
        finally:
            engine.dispose()

        tree = descendants(proc.pid)
        groups = {pid for pid in tree if (st := proc_stat(pid)) and st[0] == proc.pid}
        assert len(groups) == SHARDS + 4, tree  # sandbox, code servers, daemon, webserver, web
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=STOP_SECONDS) == 0, "".join(seen)
    finally:
        if proc.poll() is None:  # a failed assertion: stop it the way an operator would
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if database is not None:
            with admin.connect() as conn:
                left = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database}).first()
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
    assert still_running(tree) == [] and in_groups(groups) == []
    assert left is None  # the throwaway database went with the deployment
    print(f"deploy-local end to end: {time.monotonic() - started_at:.0f} s with {SHARDS} shard(s)")
