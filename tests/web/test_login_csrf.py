"""Issue 19, login CSRF: the sandbox's development sign-in form takes a CSRF token and refuses a
form sent from another site (over real HTTP against waitress, SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.web.real_mode import Browser, RealWeb, serve_real
from xero_sync.store.schema import partners

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def sandbox_web(db_url, tmp_path, monkeypatch) -> Iterator[RealWeb]:
    """Sandbox mode (the dev form exists) with an https public URL, under waitress."""
    yield from serve_real(db_url, tmp_path, monkeypatch, XERO_SYNC_XERO="", XERO_CLIENT_ID="",
                          XERO_CLIENT_SECRET="", XERO_WEBHOOK_KEY="", XERO_SYNC_SANDBOX_URL="http://127.0.0.1:9")


def _partners(web: RealWeb) -> list[str]:
    with web.engine.connect() as conn:
        return conn.execute(sa.select(partners.c.partner_id)).scalars().all()


def test_cross_site_signin_sets_no_session(sandbox_web: RealWeb):
    """Seen: a cross-site POST /signin (another site's Origin, no token) set a session."""
    victim = sandbox_web.browser()
    answer = victim.post("/signin", {"partner_id": "attacker-msp", "name": "Attacker"},
                         headers={"Origin": "https://evil.example"})
    assert answer.status == 403 and victim.cookie is None
    # Without an Origin header but without the form's token: refused too.
    assert victim.post("/signin", {"partner_id": "attacker-msp"}).status == 400
    assert victim.get("/integrations").status == 302
    assert _partners(sandbox_web) == []


def test_a_token_from_another_browser_or_site_does_not_sign_in(sandbox_web: RealWeb):
    attacker = sandbox_web.browser()
    token = _CSRF.search(attacker.get("/signin").text).group(1)
    victim = sandbox_web.browser()
    assert victim.post("/signin", {"partner_id": "attacker-msp", "csrf_token": token}).status == 400
    # The attacker's own cookie and token, sent from the attacker's site: refused by Origin.
    forged = Browser(sandbox_web.url, cookie=attacker.cookie)
    answer = forged.post("/signin", {"partner_id": "attacker-msp", "csrf_token": token},
                         headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert answer.status == 403
    assert _partners(sandbox_web) == []


def test_the_dev_form_still_signs_in_with_its_token(sandbox_web: RealWeb):
    browser = sandbox_web.browser()
    token = _CSRF.search(browser.get("/signin").text).group(1)
    answer = browser.post("/signin", {"partner_id": "demo-msp", "name": "Demo", "csrf_token": token},
                          headers={"Origin": sandbox_web.url})
    assert answer.status == 302 and answer.location.endswith("/integrations")
    page = browser.get("/integrations")
    assert page.status == 200 and "demo-msp" in page.text
    # Sign-out with the session's form token ends it; then the old cookie opens nothing.
    kept = browser.cookie
    form_token = re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
    assert browser.post("/signout", {"form_token": form_token}).status == 303
    assert Browser(sandbox_web.url, cookie=kept).get("/integrations").status == 302
