"""The web app in real mode (XERO_SYNC_XERO=real, https public URL, every secret set) under the
production server (waitress) on 127.0.0.1, and a small HTTP browser for it.

Nothing here calls Xero: sign-in, sessions and the server's limits need no Xero call.
"""

from __future__ import annotations

import datetime as dt
import http.client
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import sqlalchemy as sa
from flask import Flask

from tests.web.test_deployment import PUBLIC, real_env
from xero_sync.config import Settings
from xero_sync.store.db import make_engine, upgrade
from xero_sync.web.app import create_app
from xero_sync.web.identity import sign_assertion
from xero_sync.web.serving import make_server, stop
from xero_sync.web.settings import WebSettings

COOKIE = "xero_sync_session"
_FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    text: str

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


@dataclass
class Browser:
    """One browser: keeps the session cookie (whatever its Secure flag: we are the https proxy)."""

    base: str
    cookie: str | None = None
    origin: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, form: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> Answer:
        parts = urlsplit(self.base)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        sent = dict(self.extra, **(headers or {}))
        if self.cookie:
            sent["Cookie"] = f"{COOKIE}={self.cookie}"
        body = None
        if form is not None:
            body = urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            answer = Answer(response.status, response.headers, response.read().decode(errors="replace"))
        finally:
            conn.close()
        for value in answer.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            if name == COOKIE:
                cookie = rest.split(";")[0]
                self.cookie = cookie or None
        return answer

    def get(self, path: str, **kw) -> Answer:
        return self.request("GET", path, **kw)

    def post(self, path: str, form: dict[str, str] | None = None, **kw) -> Answer:
        return self.request("POST", path, form=form or {}, **kw)

    def form_token(self) -> str:
        page = self.get("/integrations")
        assert page.status == 200, (page.status, page.text[:300])
        return _FORM_TOKEN.search(page.text).group(1)


@dataclass
class RealWeb:
    app: Flask
    url: str
    engine: sa.Engine
    web: WebSettings
    env: dict[str, str]

    def browser(self) -> Browser:
        return Browser(self.url)

    def link(self, partner_id: str, **kw) -> str:
        """The path of a dashboard-signed sign-in link (HS256 with the configured secret)."""
        return "/signin/assertion?" + urlencode({"token": sign_assertion(self.web.signin, partner_id, **kw)})

    def signed_in(self, partner_id: str, name: str | None = None) -> Browser:
        browser = self.browser()
        answer = browser.get(self.link(partner_id, name=name))
        assert answer.status == 303 and answer.location.endswith("/integrations"), (answer.status, answer.text)
        return browser


class Served:
    """`app` under waitress on an ephemeral port of 127.0.0.1 in a thread."""

    def __init__(self, app: Flask, web: WebSettings, **options) -> None:
        self.server = make_server(app, "127.0.0.1", 0, limits=web.limits, **options)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self._thread = threading.Thread(target=self.server.run, name="xero-sync-web", daemon=True)

    def __enter__(self) -> "Served":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        stop(self.server)
        self._thread.join(timeout=5)


def build_real_app(db_url: str, tmp_path: Path, monkeypatch, **overrides: str):
    env = real_env(tmp_path, XERO_SYNC_DATABASE_URL=db_url, **overrides)
    for name in [k for k in __import__("os").environ if k.startswith("XERO")]:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():  # the app reads a few settings itself (encryption key)
        monkeypatch.setenv(name, value)
    upgrade(db_url)
    settings = Settings.from_env(env)
    web = WebSettings.of(settings, PUBLIC)
    engine = make_engine(db_url)
    return create_app(settings, engine, web=web), engine, web, env


def serve_real(db_url: str, tmp_path: Path, monkeypatch, **overrides: str) -> Iterator[RealWeb]:
    app, engine, web, env = build_real_app(db_url, tmp_path, monkeypatch, **overrides)
    try:
        with Served(app, web) as served:
            yield RealWeb(app, served.url, engine, web, env)
    finally:
        engine.dispose()


def old_cookie(app: Flask, partner_id: str, generation: int, hours_ago: float) -> str:
    """A session cookie signed with the app's key, as it would have been issued `hours_ago`."""
    serializer = app.session_interface.get_signing_serializer(app)
    signed_in_at = int((dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=hours_ago)).timestamp())
    return serializer.dumps({"partner_id": partner_id, "generation": generation, "sid": "x" * 22,
                             "signed_in_at": signed_in_at, "_permanent": True})
