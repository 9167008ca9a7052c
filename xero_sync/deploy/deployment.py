"""One deployment of the production shape on this machine: what `xero-sync deploy-local`,
its end-to-end test and `bench/onboard_many.py` start, watch and stop.

`Deployment.start()` brings up, in order: a fresh PostgreSQL database (platform store migrated in
`public`, Dagster's storage in schema `dagster`), the Xero sandbox with Xero's per-tenant and
per-app limits, the partners (connected before Dagster starts unless asked otherwise), one
`dagster api grpc` code server per shard (`XERO_SYNC_SHARD=i`, `XERO_SYNC_SHARDS=N`), then
`dagster-daemon run` and `dagster-webserver` on a generated workspace with one `grpc_server` entry
per shard, and waits until every location is loaded and the daemons heartbeat; then `xero-sync web`
(waitress: the Integrations page, the webhook receiver and the events API, with a generated service
token) and points the sandbox's webhooks at the receiver, so a change in Xero reaches the store
without waiting for a schedule. `stop()` stops every child and its processes and drops a
throwaway database.
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import functools
import time
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from xero_sync.config import Settings
from xero_sync.deploy import database, services
from xero_sync.deploy.children import Children
from xero_sync.deploy.instance_files import CodeServer, dagster_yaml, default_max_runs, workspace_yaml
from xero_sync.deploy.partners import CONNECT_WORKERS, connect_partners
from xero_sync.deploy.progress import Progress, progress
from xero_sync.store.connections import Connection
from xero_sync.store.db import make_engine, upgrade
from xero_sync.store.private_files import private_folder, write_private
from xero_sync.store.token_cipher import TokenCipher

SANDBOX_SECONDS = 300.0  # seeding many organisations
CODE_SERVER_SECONDS = 180.0
DAGSTER_SECONDS = 240.0  # webserver answering, every location loaded, daemons heartbeating
WATCH_SECONDS = 2.0
PROGRESS_EVERY = 15.0
# The client's share of the sandbox's app limit: the same 90 % headroom as 9,000 of Xero's 10,000.
APP_BUDGET_SHARE = 0.9
EVENT_BATCH_SIZE = 1000  # per batch insert of one asset's partition materializations


@dataclass
class DeployOptions:
    root: Path = Path(".xero-sync")  # the deployment's folder is <root>/deploy, fresh each start
    shards: int = 2
    tenants: int = 20
    partners: int | None = None  # default: one per organisation
    invoices: int = 200  # per organisation
    months: int = 24
    seed: int = 1
    ui_port: int = 3000  # 0: a free port
    web_port: int = 8000  # `xero-sync web` (events API, webhooks); 0: a free port
    sandbox_port: int = 5055  # 0: a free port
    max_runs: int | None = None  # default: two per core
    app_minute_limit: int = 10_000  # the sandbox's (Xero's); the client budgets 90 % of it
    database: str | None = None  # None: a throwaway database, dropped on stop

    @property
    def partner_count(self) -> int:
        return self.tenants if self.partners is None else self.partners


@dataclass
class Deployment:
    options: DeployOptions
    home: Path = field(init=False)
    children: Children = field(init=False)
    db: database.DeployDatabase | None = None
    servers: list[CodeServer] = field(default_factory=list)
    sandbox_url: str = ""
    ui_url: str = ""
    web_url: str = ""
    connected_at: float | None = None  # wall clock when the partners were connected
    max_runs: int = 0  # runs at once, as written to dagster.yaml
    _engine: sa.Engine | None = None
    _key: str = ""
    _secrets: dict[str, str] = field(default_factory=dict)  # generated per start, in deploy.env only

    def __post_init__(self) -> None:
        self.home = (self.options.root / "deploy").resolve()
        self.children = Children(self.home / "logs")

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            assert self.db is not None, "start() first"
            self._engine = make_engine(self.db.platform_url)
        return self._engine

    def variables(self) -> dict[str, str]:
        """What every process of the deployment (and a second terminal's commands) needs."""
        assert self.db is not None
        opts = self.options
        out = {
            "XERO_SYNC_HOME": str(self.home),
            "XERO_SYNC_DATABASE_URL": self.db.platform_url,
            "XERO_SYNC_XERO": "sandbox",
            "XERO_SYNC_SANDBOX_URL": self.sandbox_url,
            "XERO_SYNC_ENCRYPTION_KEY": self._key,
            **self._secrets,
            "XERO_SYNC_SHARDS": str(opts.shards),
            "XERO_SYNC_APP_MINUTE_LIMIT": str(max(1, int(opts.app_minute_limit * APP_BUDGET_SHARE))),
            "DAGSTER_HOME": str(self.dagster_home),
            # Dagster writes a run's per-partition materializations of one asset in one insert
            # instead of one each (12 months x 7 assets per onboarding run); docs/operations.md.
            "DAGSTER_EVENT_BATCH_SIZE": str(EVENT_BATCH_SIZE),
        }
        if self.db.url.password:
            out["DAGSTER_PG_PASSWORD"] = self.db.url.password
        return out

    def _child_env(self, **extra: str) -> dict[str, str]:
        env = {**os.environ, **self.variables(), **extra}
        # The code this process runs is the code every child serves.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(services.REPO_ROOT), os.environ.get("PYTHONPATH")]))
        return env

    # -- starting -------------------------------------------------------------------------------

    def start(self, *, connect_first: bool = True, say=print) -> None:
        """Everything up and ready; partners connected before Dagster starts (its first sensor
        tick finds them) unless `connect_first` is False (then once Dagster is ready)."""
        opts = self.options
        self.prepare_folders()
        self._key = TokenCipher.generate_key()
        self._secrets = {
            "XERO_SYNC_SERVICE_TOKEN": secrets.token_urlsafe(32),  # the events API's bearer token
            "XERO_WEBHOOK_KEY": secrets.token_urlsafe(32),  # the sandbox signs webhooks with it
            "XERO_SYNC_WEB_SECRET": secrets.token_urlsafe(32),  # signs the web app's sessions
        }
        self.db = database.create(database.server_url(), opts.database)
        say(f"[deploy] database {self.db.shown()} (platform store in public, Dagster in schema dagster)")
        upgrade(self.db.platform_url)
        sandbox_port = opts.sandbox_port or services.free_port()
        self.sandbox_url = f"http://{services.HOST}:{sandbox_port}"
        os.environ.update(self.variables())  # this process connects partners with the same settings
        self.write_env_file()
        say(f"[deploy] seeding the Xero sandbox: {opts.tenants} organisations x {opts.invoices} invoices "
            f"over {opts.months} months")
        self.children.spawn("sandbox", services.sandbox_command(
            sandbox_port, tenants=opts.tenants, invoices=opts.invoices, months=opts.months, seed=opts.seed,
            app_minute_limit=opts.app_minute_limit), self._child_env(), self.home)
        self.children.wait_for("the Xero sandbox", lambda: services.sandbox_ready(self.sandbox_url),
                               SANDBOX_SECONDS)
        if connect_first:
            self.connect(say)
        self._start_dagster(say)
        self._start_web(say)
        if not connect_first:
            self.connect(say)

    def prepare_folders(self) -> None:
        """The deployment's folder, fresh and private (0700), with Dagster's home in it."""
        if self.home.exists():
            shutil.rmtree(self.home)
        private_folder(self.home)
        private_folder(self.dagster_home)

    def _start_dagster(self, say) -> None:
        opts = self.options
        self.servers = [CodeServer(i, services.free_port()) for i in range(opts.shards)]
        workspace = self.home / "workspace.yaml"
        workspace.write_text(workspace_yaml(self.servers))
        self.max_runs = opts.max_runs or default_max_runs(os.cpu_count())
        assert self.db is not None, "start() first"
        (self.dagster_home / "dagster.yaml").write_text(dagster_yaml(self.db.url, self.max_runs))
        say(f"[deploy] starting {opts.shards} code server(s), one per shard; at most {self.max_runs} runs at once")
        for server in self.servers:
            self.children.spawn(f"code-server-{server.shard}", services.code_server_command(server),
                                self._child_env(XERO_SYNC_SHARD=str(server.shard)), self.dagster_home)
        for server in self.servers:
            self.children.wait_for(f"code server {server.location_name}",
                                   functools.partial(services.code_server_ready, server), CODE_SERVER_SECONDS)
        ui_port = opts.ui_port or services.free_port()
        self.ui_url = f"http://{services.HOST}:{ui_port}"
        self.children.spawn("daemon", services.daemon_command(workspace), self._child_env(), self.dagster_home)
        self.children.spawn("webserver", services.webserver_command(workspace, ui_port), self._child_env(),
                            self.dagster_home)
        names = {s.location_name for s in self.servers}
        self.children.wait_for(
            "the Dagster webserver and its code locations",
            lambda: services.code_locations(self.ui_url) == dict.fromkeys(names, "LOADED"), DAGSTER_SECONDS)
        self.children.wait_for("the Dagster daemon", lambda: services.unhealthy_daemons(self.ui_url) == set(),
                               DAGSTER_SECONDS, interval=1.0)

    def _start_web(self, say) -> None:
        """`xero-sync web` under waitress, then the sandbox's webhooks pointed at its receiver
        (Xero's intent-to-receive check must pass, as when registering a webhook in Xero)."""
        web_port = self.options.web_port or services.free_port()
        self.web_url = f"http://{services.HOST}:{web_port}"
        self.children.spawn("web", services.web_command(web_port), self._child_env(), self.home)
        self.children.wait_for("xero-sync web", lambda: services.web_ready(self.web_url), CODE_SERVER_SECONDS)
        receiver = f"{self.web_url}/webhooks/xero"
        services.point_webhooks(self.sandbox_url, receiver, self._secrets["XERO_WEBHOOK_KEY"])
        say(f"[deploy] xero-sync web on {self.web_url}; the sandbox's webhooks go to {receiver}")

    def connect(self, say=print, workers: int = CONNECT_WORKERS) -> list[Connection]:
        """Connect the partners, `workers` consents at a time (each still joins the least filled
        shard: the store serializes the assignment)."""
        settings = Settings.from_env()
        count = self.options.partner_count
        started = time.monotonic()
        self.connected_at = time.time()
        connections = connect_partners(settings, self.engine, self.sandbox_url, count, workers)
        say(f"[deploy] {count} partners connected to the sandbox's organisations in "
            f"{time.monotonic() - started:.1f} s (Pending: the onboarding sensor takes it from here)")
        return connections

    def write_env_file(self) -> Path:
        """`<home>/deploy.env`: `. deploy.env` in a second terminal to run xero-sync commands
        (web, diff, accounts) against this deployment."""
        # It holds the encryption key and the database password: 0600 from its first byte.
        return write_private(self.home / "deploy.env",
                             "".join(f"export {k}={shlex.quote(v)}\n" for k, v in self.variables().items()))

    # -- running and stopping -------------------------------------------------------------------

    def progress(self) -> Progress:
        return progress(self.engine)

    def describe(self) -> list[str]:
        opts = self.options
        assert self.db is not None, "start() first"
        return [
            f"[deploy] Dagster UI     {self.ui_url}  (code locations: "
            f"{', '.join(s.location_name for s in self.servers)})",
            f"[deploy] Xero sandbox   {self.sandbox_url}  ({opts.tenants} organisations; per tenant 60/min, "
            f"5,000/day, 5 in flight; app {opts.app_minute_limit:,}/min, the client budgets "
            f"{self.variables()['XERO_SYNC_APP_MINUTE_LIMIT']}/min)",
            f"[deploy] web + events   {self.web_url}  (Integrations page, Xero webhooks, events API: "
            f"POST /api/partners/<partner>/events/<event> with `Authorization: Bearer "
            f"$XERO_SYNC_SERVICE_TOKEN` from deploy.env)",
            f"[deploy] database       {self.db.shown()}"
            f"{' (dropped on stop)' if self.db.throwaway else ' (kept after stop)'}",
            f"[deploy] logs           {self.children.log_dir}",
            f"[deploy] other commands `. {self.home / 'deploy.env'}` then e.g. `xero-sync accounts`",
            "[deploy] Ctrl-C stops everything",
        ]

    def watch(self, say=print) -> None:
        """Until a signal (Stopped) or a service dies (ChildExited): progress lines when they change."""
        last, last_said = None, 0.0
        while True:
            self.children.check()
            now = time.monotonic()
            if now - last_said >= PROGRESS_EVERY:
                try:
                    current = self.progress()
                except sa.exc.SQLAlchemyError as exc:  # progress lines are not worth stopping for
                    say(f"[deploy] cannot read progress from the store: {str(exc).splitlines()[0]}")
                    last_said = now
                    continue
                if current != last:
                    say(f"[deploy] {current.line()}")
                    if current.all_connected and self.connected_at is not None:
                        say(f"[deploy] every partner is Connected, {time.time() - self.connected_at:.0f} s "
                            "after connecting")
                last, last_said = current, now
            time.sleep(WATCH_SECONDS)  # the watch interval; a signal interrupts it at once

    def stop(self, say=print) -> None:
        killed = self.children.stop()
        if killed:
            say(f"[deploy] had to kill: {', '.join(killed)}")
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        if self.db is not None and self.db.throwaway:
            database.drop(self.db)
