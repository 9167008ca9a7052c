"""App wiring: the session secret, and what the session cookie may hold (no tokens)."""

from __future__ import annotations

import stat

from xero_sync.config import Settings
from xero_sync.web.app import SECRET_ENV, load_secret


def test_secret_from_env_or_a_private_generated_file(tmp_path):
    assert load_secret(Settings.from_env({"XERO_SYNC_HOME": str(tmp_path), SECRET_ENV: "from-env"})) == "from-env"
    home = Settings.from_env({"XERO_SYNC_HOME": str(tmp_path / "home")})
    first = load_secret(home)
    path = tmp_path / "home" / "web_secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 40 and load_secret(home) == first  # stable across restarts


def test_session_holds_only_who_when_and_state(web):
    client = web.client("acme")
    web.start_connect(client)
    serializer = web.app.session_interface.get_signing_serializer(web.app)
    data = serializer.loads(client.get_cookie("xero_sync_session").value)
    assert set(data) == {"partner_id", "generation", "sid", "signed_in_at", "_permanent", "oauth_state"}
    assert data["partner_id"] == "acme" and set(data["oauth_state"]) == {"value", "expires_at"}
    cookie = client.get_cookie("xero_sync_session")
    assert cookie.http_only and cookie.same_site == "Lax"
