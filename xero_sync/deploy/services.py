"""The deployment's services: their command lines and how each one is known to be ready.

Every command is this interpreter's (`sys.executable -m ...`), so the venv that runs
`deploy-local` is the one that serves the code, whatever PATH says.
"""

from __future__ import annotations

import json
import socket
import sys
import urllib.error
import urllib.request
from pathlib import Path

import xero_sync
from xero_sync.dagster_private import DAEMON_MODULE, code_server_answers
from xero_sync.deploy.instance_files import CodeServer

REPO_ROOT = Path(xero_sync.__file__).resolve().parents[1]
HOST = "127.0.0.1"

LOCATIONS_QUERY = """{ workspaceOrError { __typename ... on Workspace { locationEntries {
  name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
DAEMONS_QUERY = """{ instance { daemonHealth { allDaemonStatuses { daemonType healthy required } } } }"""
# The daemons a deployment cannot work without: sensors launch onboarding runs, the queue starts them.
NEEDED_DAEMONS = {"SENSOR", "SCHEDULER", "QUEUED_RUN_COORDINATOR"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def sandbox_command(port: int, *, tenants: int, invoices: int, months: int, seed: int,
                    app_minute_limit: int) -> list[str]:
    """The Xero sandbox with Xero's per-tenant limits (60/min, 5,000/day, 5 in flight) and the
    given per-app minute limit."""
    return [sys.executable, "-m", "xero_sync.commands.cli", "sandbox", "--host", HOST,
            "--port", str(port), "--tenants", str(tenants), "--invoices", str(invoices),
            "--months", str(months), "--seed", str(seed), "--app-minute-limit", str(app_minute_limit)]


def code_server_command(server: CodeServer) -> list[str]:
    return [sys.executable, "-m", "dagster", "api", "grpc", "-m", "xero_sync.definitions", "-a", "defs",
            "-h", HOST, "-p", str(server.port), "--location-name", server.location_name,
            "-d", str(REPO_ROOT), "--log-level", "warning"]


def daemon_command(workspace: Path) -> list[str]:
    return [sys.executable, "-m", DAEMON_MODULE, "run", "-w", str(workspace), "--log-level", "warning"]


def webserver_command(workspace: Path, port: int) -> list[str]:
    return [sys.executable, "-m", "dagster_webserver", "-w", str(workspace), "-h", HOST, "-p", str(port),
            "--log-level", "warning"]


def web_command(port: int) -> list[str]:
    """`xero-sync web`: waitress serving the Integrations page, the webhook receiver and the events API."""
    return [sys.executable, "-m", "xero_sync.commands.cli", "web", "--host", HOST, "--port", str(port)]


def http_json(url: str, body: dict | None = None, timeout: float = 10) -> object | None:
    """GET (or POST `body` as JSON) and decode the answer; None if nothing answers yet."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return json.loads(answer.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
        return None


def sandbox_ready(base_url: str) -> bool:
    health = http_json(f"{base_url}/_sandbox/health", timeout=2)
    return isinstance(health, dict) and health.get("ok") is True


def code_server_ready(server: CodeServer) -> bool:
    """The gRPC server answers a ping (it loads the definitions before it serves)."""
    return code_server_answers(HOST, server.port)


def graphql(ui_url: str, query: str) -> dict | None:
    answer = http_json(f"{ui_url}/graphql", {"query": query})
    return answer.get("data") if isinstance(answer, dict) else None


def code_locations(ui_url: str) -> dict[str, str]:
    """Location name -> load status (LOADED, LOADING) as the webserver reports it; a location
    whose code failed to load shows as its error's type."""
    data = graphql(ui_url, LOCATIONS_QUERY)
    if not data or data["workspaceOrError"]["__typename"] != "Workspace":
        return {}
    out = {}
    for entry in data["workspaceOrError"]["locationEntries"]:
        loaded = entry["locationOrLoadError"]
        error = loaded is not None and loaded["__typename"] == "PythonError"
        out[entry["name"]] = "PythonError" if error else entry["loadStatus"]
    return out


def unhealthy_daemons(ui_url: str) -> set[str] | None:
    """Needed daemons not (yet) heartbeating; None if the webserver does not answer."""
    data = graphql(ui_url, DAEMONS_QUERY)
    if not data:
        return None
    healthy = {d["daemonType"] for d in data["instance"]["daemonHealth"]["allDaemonStatuses"] if d["healthy"]}
    return NEEDED_DAEMONS - healthy


def web_ready(web_url: str) -> bool:
    """The events API answers (401 without a token: the app is up and the API enabled)."""
    request = urllib.request.Request(f"{web_url}/api/partners/-/events/payment-taken", data=b"{}",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=2):
            return False  # accepted without a token: never
    except urllib.error.HTTPError as answer:
        return answer.code == 401
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


class WebhookSetupError(RuntimeError):
    """The sandbox could not be pointed at the receiver (the message says what answered)."""


def point_webhooks(sandbox_url: str, receiver: str, key: str) -> None:
    """Register `receiver` as the sandbox's webhook URL with the signing `key` and run Xero's
    intent-to-receive check against it."""
    configured = http_json(f"{sandbox_url}/_sandbox/webhooks", {"url": receiver, "key": key})
    if not isinstance(configured, dict) or configured.get("url") != receiver:
        raise WebhookSetupError(f"the sandbox did not take the webhook URL {receiver}: {configured}")
    intent = http_json(f"{sandbox_url}/_sandbox/webhooks/intent", {})
    if not isinstance(intent, dict) or not intent.get("ok"):
        raise WebhookSetupError(f"the webhook receiver {receiver} failed the intent-to-receive check: {intent}")
