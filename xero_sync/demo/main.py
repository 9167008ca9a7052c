"""`xero-sync demo`: the main job on embedded defaults, from nothing to a *Connected* partner.

Starts the Xero sandbox with a seeded organisation (3 years of history), creates a fresh
SQLite platform store and Dagster home under `.xero-sync/demo/`, connects a demo partner through
the sandbox's OAuth consent (no browser), then either
- runs `dagster dev` (UI on localhost:3000; the daemon's sensor fills partitions newest first), or
- with `--headless`, evaluates the same sensor and executes the runs it requests in-process,
  printing progress and a summary.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import time
from dataclasses import dataclass
from importlib import resources as importlib_resources
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from xero_sync.config import Settings
from xero_sync.connect.flow import confirm, exchange
from xero_sync.connect.headless import consent_headless
from xero_sync.store import connections, schema
from xero_sync.store.db import make_engine, upgrade
from xero_sync.store.token_cipher import KEY_FILE, TokenCipher
from xero_sync.demo.activity import written_summary
from xero_sync.demo.ui import Stopped, exit_code, run_dagster_dev, stop_on_signals
from xero_sync.xero.oauth import OAuthApp

DEMO_PARTNER = ("demo-msp", "Demo MSP")
# Runs executed in-process log warnings and errors only; the Dagster UI shows everything.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class DemoEnv:
    home: Path
    database_url: str
    sandbox_url: str
    dagster_home: Path

    def variables(self) -> dict[str, str]:
        """What a process needs to work on the demo's store and sandbox."""
        return {
            "XERO_SYNC_HOME": str(self.home),
            "XERO_SYNC_DATABASE_URL": self.database_url,
            "XERO_SYNC_SANDBOX_URL": self.sandbox_url,
            "XERO_SYNC_XERO": "sandbox",
            "DAGSTER_HOME": str(self.dagster_home),
        }

    def export(self) -> None:
        os.environ.update(self.variables())

    def write_env_file(self) -> Path:
        """`<home>/demo.env`: a second terminal (the Integrations page) sources it to share the
        demo's store, keys and sandbox."""
        path = self.home / "demo.env"
        lines = [f"export {k}={shlex.quote(v)}" for k, v in self.variables().items()]
        path.write_text("\n".join(lines) + "\n")
        return path

    def web_command(self) -> str:
        """`xero-sync web` on the demo's store and sandbox (the sandbox URL matters off :5055),
        with paths relative to the current folder when they are under it."""
        home = _relative(self.home)
        assignments = (f"XERO_SYNC_HOME={shlex.quote(home)} "
                       f"XERO_SYNC_DATABASE_URL={shlex.quote(f'sqlite:///{home}/xero_sync.db')} "
                       f"XERO_SYNC_SANDBOX_URL={shlex.quote(self.sandbox_url)}")
        return f"{assignments} .venv/bin/xero-sync web"


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path.resolve())


def prepare_home(root: Path, port: int) -> DemoEnv:
    """A fresh demo folder each run: the sandbox is in memory, so old tokens would be stale."""
    home = (root / "demo").resolve()
    if home.exists():
        shutil.rmtree(home)
    dagster_home = home / "dagster"
    dagster_home.mkdir(parents=True)
    local_yaml = importlib_resources.files("xero_sync.instance").joinpath("local.yaml").read_text()
    (dagster_home / "dagster.yaml").write_text(local_yaml)
    env = DemoEnv(home, f"sqlite:///{home / 'xero_sync.db'}", f"http://127.0.0.1:{port}", dagster_home)
    env.write_env_file()
    return env


def connect_demo_partner(settings: Settings, engine: sa.Engine) -> connections.Connection:
    code, redirect_uri = consent_headless(settings)
    consent = exchange(OAuthApp(settings.xero, settings.client_id, settings.client_secret), code, redirect_uri)
    return confirm(
        engine, TokenCipher.for_settings(settings),
        partner_id=DEMO_PARTNER[0], partner_name=DEMO_PARTNER[1],
        token_set=consent.token_set, organisation=consent.organisations[0],
    )


def drive_headless(instance: dg.DagsterInstance, defs: dg.Definitions, engine: sa.Engine,
                   partner_id: str, max_runs: int = 100) -> list[str]:
    """Evaluate the onboarding sensor and execute what it requests until the partner is connected."""
    from xero_sync.sensors.onboarding import new_connection_sensor

    failures: list[str] = []
    resources = defs.resources
    for _ in range(max_runs):
        with engine.begin() as conn:
            connection = connections.require_connection(conn, partner_id)
        if connection.status != "pending":
            break
        with dg.build_sensor_context(instance=instance, instance_ref=instance.get_ref(), definitions=defs,
                                     resources=resources) as context:
            result = new_connection_sensor.evaluate_tick(context)
        # What the daemon does with a tick's result: add partitions, record runless events.
        for partitions_request in result.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions(partitions_request.partitions_def_name,
                                            list(partitions_request.partition_keys))
        for event in result.asset_events or []:
            instance.report_runless_asset_event(event)
        if not result.run_requests and not result.asset_events:
            with engine.begin() as conn:
                connection = connections.require_connection(conn, partner_id)
            if connection.status == "pending":
                failures.append("the sensor requested nothing while the partner is still pending")
                break
            continue
        for request in result.run_requests or []:
            started = time.monotonic()
            # The job the sensor names (onboarding_job, then finalize_onboarding_job), so headless
            # runs look like the daemon's.
            assert request.job_name is not None  # the sensor targets two jobs: each request names one
            job = defs.resolve_job_def(request.job_name)
            outcome = job.execute_in_process(instance=instance, tags=request.tags, raise_on_error=False,
                                             run_config={**QUIET, **(request.run_config or {})})
            tags = request.tags
            status = "ok" if outcome.success else "FAILED"
            if "dagster/asset_partition_range_start" in tags:
                first = tags["dagster/asset_partition_range_start"].split("|")[0][:7]
                last = tags["dagster/asset_partition_range_end"].split("|")[0][:7]
                what = f"{tags['xero/range'].split(':', 1)[1]:<26} {first}..{last} priority {tags['dagster/priority']:>3}"
            else:
                first = last = "-"
                what = f"{job.name:<26}"
            print(f"  run {what}  {status}  {time.monotonic() - started:.1f}s")
            if not outcome.success:
                failures.append(f"run {outcome.run_id} ({job.name}) for {first}..{last} failed")
    return failures


def drive_push_headless(instance: dg.DagsterInstance, defs: dg.Definitions, engine: sa.Engine,
                        partner_id: str, max_ticks: int = 10) -> dg.ExecuteInProcessResult:
    """Record Alternative activity, push it through the outbox sensor and push job, re-read Xero
    with the incremental job, then materialize the partner's reconciliation diff."""
    from xero_sync.assets.reconciliation import reconciliation_diff
    from xero_sync.demo.activity import ensure_demo_accounts, record_demo_activity
    from xero_sync.sensors.outbox import payment_outbox_sensor

    with engine.begin() as conn:
        connection = connections.require_connection(conn, partner_id)
    assert defs.resources is not None  # the code location's definitions carry their resources
    ensure_demo_accounts(engine, defs.resources["xero"].client_for(connection), partner_id)
    record_demo_activity(engine, partner_id)
    push_job = defs.get_job_def("push_job")
    for _ in range(max_ticks):
        with dg.build_sensor_context(instance=instance, instance_ref=instance.get_ref(), definitions=defs,
                                     resources=defs.resources) as context:
            result = payment_outbox_sensor.evaluate_tick(context)
        if not result.run_requests:
            break
        for request in result.run_requests:
            push_job.execute_in_process(instance=instance, partition_key=request.partition_key,
                                        tags=request.tags, run_config=QUIET, raise_on_error=False)
    defs.get_job_def("incremental_sync_job").execute_in_process(
        instance=instance, partition_key=partner_id, run_config=QUIET)
    outcome = dg.materialize([reconciliation_diff], instance=instance, partition_key=partner_id,
                             resources=defs.resources, run_config=QUIET, raise_on_error=False)
    return outcome


def _diff_report(outcome) -> list[str]:
    """Print the reconciliation diff's counts; a non-empty diff is a demo failure."""
    if not outcome.success:
        return ["the reconciliation_diff run failed"]
    mat = outcome.get_asset_materialization_events()[0].step_materialization_data.materialization
    rows = mat.metadata["dagster/row_count"].value
    unexplained = mat.metadata["unexplained"].value
    print(f"reconciliation diff: {rows} differences, {unexplained} unexplained")
    return [] if rows == 0 else [f"reconciliation diff not empty: {mat.metadata['counts_by_kind'].value}"]


def summary(engine: sa.Engine, partner_id: str, api_calls: int) -> str:
    """What the initial sync brought over, each count saying what it counts (README explains)."""
    with engine.begin() as conn:
        c = connections.require_connection(conn, partner_id)
        count = lambda t: conn.execute(  # noqa: E731
            sa.select(sa.func.count()).select_from(t).where(t.c.partner_id == partner_id)
        ).scalar_one()
        inv, cust, pay = count(schema.invoices), count(schema.customers), count(schema.payments)
        landed = _landed_invoices(conn, partner_id)
        contacts, payments, notes = (count(schema.xero_contacts), count(schema.xero_payments),
                                     count(schema.xero_credit_notes))
    sales = landed["approved"] + landed["unapproved"] + landed["gone"] + landed["other"]
    other = f", {landed['other']} other" if landed["other"] else ""
    return "\n".join([
        f"partner        {partner_id} ({c.tenant_name})",
        f"status         {c.status}",
        f"months synced  {c.months_done} / {c.months_total} (first month {c.first_month}; "
        "earlier months are marked empty)",
        f"xero invoices  {sales + landed['bills']} landed = {sales} sales invoices (ACCREC: "
        f"{landed['approved']} approved, {landed['unapproved']} draft or submitted, "
        f"{landed['gone']} voided or deleted{other}) + {landed['bills']} supplier bills (ACCPAY)",
        f"xero other     {contacts} contacts, {payments} payments, {notes} credit notes landed",
        f"dashboard      {inv} invoices (the approved sales invoices; drafts, voided, deleted and "
        "bills are not synced)",
        f"               {cust} customers, {pay} payments made in Xero on those invoices",
        f"api calls      {api_calls}",
    ])


def _landed_invoices(conn: sa.Connection, partner_id: str) -> dict[str, int]:
    """Landed Xero invoices by what sync does with them (sync.rules' status sets)."""
    from xero_sync.sync.rules import GONE_STATUSES, SYNCED_STATUSES, UNAPPROVED_STATUSES

    t = schema.xero_invoices
    out = dict.fromkeys(("approved", "unapproved", "gone", "other", "bills"), 0)
    rows = conn.execute(sa.select(t.c.type, t.c.status, sa.func.count()).where(t.c.partner_id == partner_id)
                        .group_by(t.c.type, t.c.status)).all()
    for type_, status, n in rows:
        if type_ != "ACCREC":
            out["bills"] += n
        elif status in SYNCED_STATUSES:
            out["approved"] += n
        elif status in UNAPPROVED_STATUSES:
            out["unapproved"] += n
        elif status in GONE_STATUSES:
            out["gone"] += n
        else:
            out["other"] += n
    return out


def run(args: argparse.Namespace) -> int:
    from xero_sync.definitions import build_defs
    from xero_sandbox.server import SandboxServer
    from xero_sandbox.state import Sandbox

    restore_signals = stop_on_signals()  # Ctrl-C / SIGTERM: stop children and the sandbox, then exit
    server = None
    try:
        env = prepare_home(Path(args.home), args.port)
        env.export()
        settings = Settings.from_env()
        print(f"[demo] seeding the Xero sandbox: seed {args.seed}, {args.invoices} invoices over {args.months} months")
        # Two organisations: the demo partner takes the first; the second is free for connecting a
        # new partner from the Integrations page.
        sandbox = Sandbox.seeded(seed=args.seed, invoices=args.invoices, months=args.months, tenants=2)
        server = SandboxServer(sandbox, port=args.port)
        server.start()
        upgrade(env.database_url)
        engine = make_engine(env.database_url)
        connection = connect_demo_partner(settings, engine)
        print(f"[demo] partner {connection.partner_id} connected to {connection.tenant_name!r}: status {connection.status}")
        free = [org.name for org in sandbox.orgs.values() if org.tenant_id != connection.tenant_id]
        print(f"[demo] free for a new partner on the Integrations page: {', '.join(free)}")
        print(f"[demo] Integrations page, from a second terminal in this folder: {env.web_command()}")
        print(f"[demo]   (or `. {_relative(env.home / 'demo.env')}` first, then `.venv/bin/xero-sync web`)")
        if args.headless:
            instance = dg.DagsterInstance.get()
            defs = build_defs()
            print("[demo] initial sync (the onboarding sensor's runs, executed in-process):")
            failures = drive_headless(instance, defs, engine, connection.partner_id)
            pull_calls = sum(c["total"] for c in sandbox.limits.all_calls().values())
            print()
            print(summary(engine, connection.partner_id, pull_calls))
            if not failures:
                print("\n[demo] Alternative activity: a full and a partial payment on Xero invoices, a payment on")
                print("[demo] an invoice created in Alternative, and their payout; pushed by the outbox sensor's runs:")
                outcome = drive_push_headless(instance, defs, engine, connection.partner_id)
                print("\n".join(written_summary(engine, connection.partner_id)))
                push_calls = sum(c["total"] for c in sandbox.limits.all_calls().values()) - pull_calls
                print(f"api calls      {push_calls} (push, re-read and diff)")
                failures += _diff_report(outcome)
            for failure in failures:
                print(f"[demo] problem: {failure}", file=sys.stderr)
            return 1 if failures else 0
        return run_dagster_dev(env.database_url, env.sandbox_url, DEMO_PARTNER[0], args.dagster_port,
                               env.dagster_home, env.home / KEY_FILE)
    except Stopped as stop:
        return exit_code(stop)
    finally:
        restore_signals()
        if server is not None:
            server.stop()


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo", help="run the main job on embedded defaults (sandbox + SQLite)")
    p.add_argument("--headless", action="store_true", help="no UI: run the sync in-process and print a summary")
    p.add_argument("--home", default=os.environ.get("XERO_SYNC_HOME", ".xero-sync"), help="state folder (default .xero-sync)")
    p.add_argument("--port", type=int, default=5055, help="sandbox port (default 5055)")
    p.add_argument("--dagster-port", type=int, default=3000, help="Dagster UI port (default 3000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--invoices", type=int, default=1500)
    p.add_argument("--months", type=int, default=36)
    p.set_defaults(func=run)
