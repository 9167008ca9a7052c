"""The command the demo prints for the Integrations page reaches the demo's sandbox, whatever port
it is on (XERO_SYNC_SANDBOX_URL included), and docs/demo.md's command is the demo's default one."""

from __future__ import annotations

import re
import shlex
import urllib.request
from pathlib import Path

from xero_sync.config import Settings
from xero_sync.demo.main import DemoEnv, prepare_home
from xero_sync.store.db import make_engine, upgrade
from xero_sync.web.app import create_app

DEMO_DOC = Path(__file__).resolve().parents[2] / "docs" / "demo.md"


def env_of(command: str) -> dict[str, str]:
    """The VAR=value assignments that prefix a shell command."""
    env = {}
    for word in shlex.split(command.replace("\\\n", " ")):
        if "=" not in word or word.startswith("-"):
            break
        name, value = word.split("=", 1)
        env[name] = value
    return env


def test_the_web_app_built_from_the_demos_command_reaches_a_sandbox_on_another_port(sandbox_factory, tmp_path, monkeypatch):
    server = sandbox_factory(tenants=2, invoices=30, months=3)
    port = int(server.base_url.rsplit(":", 1)[1])
    assert port != 5055
    monkeypatch.chdir(tmp_path)
    env = prepare_home(Path(".xero-sync"), port)
    command = env.web_command()
    variables = env_of(command)
    assert variables["XERO_SYNC_SANDBOX_URL"] == server.base_url
    # The same settings are written where a second terminal can source them.
    assert f"export XERO_SYNC_SANDBOX_URL={server.base_url}" in (env.home / "demo.env").read_text()

    settings = Settings.from_env(variables)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        client = create_app(settings, engine).test_client()
        from tests.web.sign_in import dev_sign_in
        dev_sign_in(client, "acme", "Acme")
        page = client.get("/integrations").text
        token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
        answer = client.post("/integrations/xero/connect", data={"form_token": token})
        location = answer.headers["Location"]
        assert location.startswith(f"{server.base_url}/connect/authorize")
        with urllib.request.urlopen(location, timeout=10) as consent:  # Xero's consent page answers
            assert consent.status == 200 and "Allow access" in consent.read().decode()
    finally:
        engine.dispose()


def test_demo_doc_shows_the_demos_default_command():
    text = DEMO_DOC.read_text()
    env = DemoEnv(Path(".xero-sync/demo"), "sqlite:///.xero-sync/demo/xero_sync.db",
                  "http://127.0.0.1:5055", Path(".xero-sync/demo/dagster"))
    assert env.web_command() in text
