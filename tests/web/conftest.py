"""The Integrations page against a running Xero sandbox, on a per-test platform store.

`web` gives a `Web`: the Flask app (create_app with Settings from a monkeypatched environment:
XERO_SYNC_HOME and the store in tmp_path, the sandbox's URL), its engine, and helpers that click
through the sandbox's consent form over HTTP, as a browser would.
"""

from __future__ import annotations

import html
import re
import shutil
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
import urllib3
from flask import Flask
from flask.testing import FlaskClient

from tests.sandbox_fixtures import use_sandbox_settings
from tests.web.sign_in import dev_sign_in
from xero_sync.config import Settings
from xero_sync.store import connections
from xero_sync.store.db import make_engine, upgrade
from xero_sync.store.schema import webhook_events, xero_connections, xero_token_sets
from xero_sandbox.server import SandboxServer
from xero_sync.web.app import PUBLIC_URL_KEY, create_app
from xero_sync.web.serving import make_server, stop

SMALL_SANDBOX = {"invoices": 60, "months": 6, "minute_limit": 100_000}
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
_RADIO = re.compile(r'<input type="radio" name="tenant_id" value="([^"]+)"')


def hidden_fields(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in _HIDDEN.findall(page)}


@dataclass
class Web:
    app: Flask
    engine: sa.Engine
    sandbox: SandboxServer
    settings: Settings

    def client(self, partner_id: str, name: str | None = None) -> FlaskClient:
        """A browser session signed in as `partner_id`."""
        client = self.app.test_client()
        answer = dev_sign_in(client, partner_id, name)
        assert answer.status_code == 302, answer.text
        return client

    @staticmethod
    def form_token(client: FlaskClient) -> str:
        page = client.get("/integrations").text
        return hidden_fields(page)["form_token"]

    def start_connect(self, client: FlaskClient) -> str:
        """Press Connect; returns the sandbox authorize URL we were sent to."""
        answer = client.post("/integrations/xero/connect", data={"form_token": self.form_token(client)})
        assert answer.status_code == 302, answer.text
        location = answer.headers["Location"]
        assert location.startswith(self.settings.xero.authorize_url), location
        return location

    def consent(self, authorize_url: str, *, tenant_id: str | None = None, action: str = "allow") -> str:
        """The partner at Xero: pick a company, Allow access (or Cancel); returns our callback path+query."""
        http = urllib3.PoolManager(retries=False)
        page = http.request("GET", authorize_url)
        assert page.status == 200, page.data[:500]
        text = page.data.decode()
        fields = hidden_fields(text)
        fields["tenant_id"] = tenant_id or _RADIO.findall(text)[0]
        fields["action"] = action
        answer = http.request("POST", self.settings.xero.authorize_url, fields=fields,
                              encode_multipart=False, redirect=False)
        assert answer.status == 302, answer.data[:500]
        parts = urllib.parse.urlsplit(answer.headers["Location"])
        assert parts.path == "/integrations/xero/callback", answer.headers["Location"]
        return f"{parts.path}?{parts.query}"

    def connect(self, client: FlaskClient, tenant_id: str | None = None) -> None:
        """The whole happy path: Connect, consent, Confirm; the connection ends up pending."""
        callback = self.consent(self.start_connect(client), tenant_id=tenant_id)
        page = client.get(callback)
        assert page.status_code == 200 and "Confirm your company" in page.text, page.text
        fields = hidden_fields(page.text)
        answer = client.post("/integrations/xero/confirm", data={**fields, "action": "confirm"})
        assert answer.status_code == 302, answer.text
        assert answer.headers["Location"].endswith("/integrations?done=connected")

    def connection(self, partner_id: str) -> connections.Connection | None:
        with self.engine.begin() as conn:
            return connections.get_connection(conn, partner_id)

    def counts(self) -> dict[str, int]:
        """Rows that a half-made connection would leave behind."""
        with self.engine.begin() as conn:
            count = lambda q: conn.execute(q).scalar_one()  # noqa: E731
            return {
                "token_sets": count(sa.select(sa.func.count()).select_from(xero_token_sets)),
                "linked": count(sa.select(sa.func.count()).select_from(xero_connections)
                                .where(xero_connections.c.tenant_id.is_not(None))),
                "not_connected_only": count(sa.select(sa.func.count()).select_from(xero_connections)
                                            .where(xero_connections.c.status != "not_connected")),
                "webhook_events": count(sa.select(sa.func.count()).select_from(webhook_events)),
            }

    @property
    def tenants(self) -> list[str]:
        return list(self.sandbox.sandbox.orgs)


def make_web(server: SandboxServer, db_url: str, tmp_path, monkeypatch) -> Iterator[Web]:
    use_sandbox_settings(monkeypatch, server, db_url, tmp_path / "home")
    monkeypatch.delenv("XERO_SYNC_WEB_SECRET", raising=False)
    upgrade(db_url)
    settings = Settings.from_env()
    engine = make_engine(db_url)
    app = create_app(settings, engine)
    app.testing = True
    try:
        yield Web(app, engine, server, settings)
    finally:
        engine.dispose()


@pytest.fixture
def web(sandbox_factory, sqlite_url, tmp_path, monkeypatch) -> Iterator[Web]:
    """Two small organisations in the sandbox, SQLite store."""
    server = sandbox_factory(tenants=2, **SMALL_SANDBOX)
    yield from make_web(server, sqlite_url, tmp_path, monkeypatch)


class LiveServer:
    """The web app under the production server (waitress) over real HTTP in a thread, on an
    ephemeral port that becomes its public URL (for the browser and the sandbox's webhooks)."""

    def __init__(self, app: Flask) -> None:
        self._server = make_server(app, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.effective_port}"
        app.config[PUBLIC_URL_KEY] = self.url
        self._thread = threading.Thread(target=self._server.run, name="xero-sync-web", daemon=True)

    def __enter__(self) -> "LiveServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        stop(self._server)
        self._thread.join(timeout=5)


@pytest.fixture
def live_web(web: Web) -> Iterator[LiveServer]:
    with LiveServer(web.app) as server:
        yield server


@pytest.fixture
def real_web(db_url, tmp_path, monkeypatch):
    """Real mode under waitress, on SQLite and PostgreSQL (tests/web/real_mode.py)."""
    from tests.web.real_mode import serve_real

    yield from serve_real(db_url, tmp_path, monkeypatch)


# --- headless Chromium (Debian's, via Playwright; never a downloaded browser) ----------------

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    folder = ARTIFACTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    page.shots = iter(range(1, 100))
    page.shot = lambda name: page.screenshot(path=str(folder / f"{next(page.shots):02d}-{name}.png"), full_page=True)
    try:
        yield page
    finally:
        context.close()
