"""Deployment defaults: real mode refuses demo secrets; `xero-sync web` runs under waitress with a
fixed public URL, Secure cookies over https and security headers (asserted over real HTTP)."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
import urllib3

from tests.web.test_webhooks import event, payload
from xero_sync.config import DEMO_WEBHOOK_KEY, ConfigError, Settings
from xero_sync.store.db import upgrade
from xero_sync.store.token_cipher import TokenCipher
from xero_sync.web.app import create_app
from xero_sync.web.settings import WebSettings
from xero_sync.web.webhooks import signature

PUBLIC = "https://xero.partners.example"
REAL_MODE_SECRETS = ["XERO_WEBHOOK_KEY", "XERO_SYNC_WEB_SECRET", "XERO_SYNC_PUBLIC_URL", "XERO_SYNC_ENCRYPTION_KEY",
                     "XERO_SYNC_SIGNIN_SECRET"]
SIGNIN_SECRET = "the-partner-dashboards-shared-signing-secret"


def real_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {
        "XERO_SYNC_XERO": "real",
        "XERO_SYNC_HOME": str(tmp_path / "home"),
        "XERO_SYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'store' / 'platform.db'}",
        "XERO_CLIENT_ID": "real-client-id",
        "XERO_CLIENT_SECRET": "real-client-secret",
        "XERO_WEBHOOK_KEY": "real-webhook-key",
        "XERO_SYNC_WEB_SECRET": "a-long-random-session-secret-for-this-test",
        "XERO_SYNC_PUBLIC_URL": PUBLIC,
        "XERO_SYNC_ENCRYPTION_KEY": TokenCipher.generate_key(),
        "XERO_SYNC_SIGNIN_SECRET": SIGNIN_SECRET,
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v}


def real_app(env: dict[str, str]):
    """The app as `xero-sync web` builds it from `env` (real mode)."""
    settings = Settings.from_env(env)
    return create_app(settings, web=WebSettings.of(settings, PUBLIC))


@pytest.mark.parametrize("unset", REAL_MODE_SECRETS)
def test_real_mode_without_its_own_secrets_refuses_to_build_the_app(tmp_path, unset):
    env = real_env(tmp_path, **{unset: ""})
    with pytest.raises(ConfigError, match=unset):
        real_app(env)


@pytest.mark.parametrize("name", ["XERO_CLIENT_ID", "XERO_CLIENT_SECRET", "XERO_WEBHOOK_KEY"])
def test_real_mode_refuses_the_demo_values(tmp_path, name):
    from xero_sync import config

    demo = {"XERO_CLIENT_ID": config.DEMO_CLIENT_ID, "XERO_CLIENT_SECRET": config.DEMO_CLIENT_SECRET,
            "XERO_WEBHOOK_KEY": config.DEMO_WEBHOOK_KEY}[name]
    with pytest.raises(ConfigError, match=name):
        Settings.from_env(real_env(tmp_path, **{name: demo}))


def test_real_mode_refuses_plain_http_public_url(tmp_path):
    with pytest.raises(ConfigError, match="must be https"):
        Settings.from_env(real_env(tmp_path, XERO_SYNC_PUBLIC_URL="http://xero.partners.example"))


def test_real_mode_refuses_a_body_signed_with_the_demo_key(tmp_path):
    env = real_env(tmp_path)
    upgrade(env["XERO_SYNC_DATABASE_URL"])
    app = real_app(env)
    client = app.test_client()
    body = payload(event())
    headers = {"Content-Type": "application/json"}
    demo = client.post("/webhooks/xero", data=body,
                       headers={**headers, "x-xero-signature": signature(DEMO_WEBHOOK_KEY, body)})
    assert demo.status_code == 401
    own = client.post("/webhooks/xero", data=body,
                      headers={**headers, "x-xero-signature": signature("real-webhook-key", body)})
    assert own.status_code == 200


def test_a_real_mode_receiver_without_a_key_answers_401_if_reached(tmp_path):
    """Belt and braces: should an app ever run with the key missing, it still refuses."""
    env = real_env(tmp_path)
    upgrade(env["XERO_SYNC_DATABASE_URL"])
    app = real_app(env)
    state = app.extensions["xero_sync_web"]
    state.settings = state.settings.model_copy(update={"webhook_key": None})
    body = payload(event())
    answer = app.test_client().post("/webhooks/xero", data=body, headers={
        "x-xero-signature": signature(DEMO_WEBHOOK_KEY, body)})
    assert answer.status_code == 401


def cli(env: dict[str, str], *argv: str, timeout: float = 60) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("XERO")}
    full.update(env)
    full["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return subprocess.run([sys.executable, "-m", "xero_sync.commands.cli", *argv], env=full,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("unset", REAL_MODE_SECRETS)
def test_web_in_real_mode_without_secrets_prints_one_line_and_exits(tmp_path, unset):
    done = cli(real_env(tmp_path, **{unset: ""}), "web", "--port", "0")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("xero-sync web: ") and unset in lines[0], done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert not (tmp_path / "home").exists() and not (tmp_path / "store").exists()  # nothing created


@pytest.fixture
def served(tmp_path) -> Iterator[str]:
    """`xero-sync web --port 0` in a subprocess (sandbox mode, https public URL); yields its URL."""
    env = {k: v for k, v in real_env(tmp_path).items() if k != "XERO_SYNC_XERO"}
    env["XERO_SYNC_SANDBOX_URL"] = "http://127.0.0.1:9"  # never called: we stop at the redirect
    (tmp_path / "store").mkdir()  # an explicit store URL: its folder must exist
    full = {k: v for k, v in os.environ.items() if not k.startswith("XERO")}
    full.update(env, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    process = subprocess.Popen([sys.executable, "-m", "xero_sync.commands.cli", "web", "--port", "0"],
                               env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()  # printed once the socket is bound
        match = re.search(r"on http://127\.0\.0\.1:(\d+)/integrations", line)
        if not match:
            process.wait(timeout=30)
            raise AssertionError((line, process.stderr.read()))
        yield f"http://127.0.0.1:{match.group(1)}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_production_server_headers_cookies_and_public_callback(served):
    http = urllib3.PoolManager(retries=False)
    page = http.request("GET", f"{served}/signin")
    assert page.status == 200
    assert "werkzeug" not in page.headers.get("Server", "").lower()  # waitress, not the dev server
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp and "script-src" not in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")

    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.data.decode()).group(1)
    signin = http.request("POST", f"{served}/signin", fields={"partner_id": "acme", "name": "Acme",
                                                              "csrf_token": csrf},
                          encode_multipart=False, redirect=False,
                          headers={"Cookie": page.headers["Set-Cookie"].split(";")[0]})
    assert signin.status == 302
    cookie = signin.headers["Set-Cookie"]
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite=lax"} <= flags, cookie
    session = cookie.split(";")[0]

    page = http.request("GET", f"{served}/integrations", headers={"Cookie": session})
    token = html.unescape(re.search(r'name="form_token" value="([^"]+)"', page.data.decode()).group(1))
    # A forged Host (and X-Forwarded-Host) cannot move the callback.
    connect = http.request("POST", f"{served}/integrations/xero/connect", fields={"form_token": token},
                           encode_multipart=False, redirect=False,
                           headers={"Cookie": session, "Host": "attacker.example",
                                    "X-Forwarded-Host": "attacker.example"})
    assert connect.status == 302
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(connect.headers["Location"]).query)
    assert query["redirect_uri"] == [f"{PUBLIC}/integrations/xero/callback"]
    assert "attacker" not in connect.headers["Location"]
