"""Real mode in headless Chromium (Debian's, via Playwright) against waitress: a dashboard-signed
link opens the partner's page; the same link replayed, an expired one, or one for another audience
is refused; after sign-out, Back opens nothing. Screenshots go to test-artifacts/web/."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.web.real_mode import RealWeb

pytestmark = pytest.mark.browser


def test_signed_link_opens_the_page_once_and_sign_out_then_back_opens_nothing(real_web: RealWeb, page, browser):
    base = real_web.url
    link = base + real_web.link("acme", name="Acme MSP")
    page.goto(link)
    page.wait_for_url(f"{base}/integrations")
    assert page.inner_text("#xero-status") == "Not connected"
    assert "acme" in page.inner_text("header")
    page.shot("signed-in-by-link")

    other = browser.new_context()
    try:
        replay = other.new_page()
        answer = replay.goto(link)
        assert answer.status == 401 and "already used" in replay.inner_text("main")
        expired = base + real_web.link("acme", now=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=6))
        answer = replay.goto(expired)
        assert answer.status == 401 and "expired" in replay.inner_text("main")
        elsewhere = base + real_web.link("acme", aud="https://another-app.example")
        answer = replay.goto(elsewhere)
        assert answer.status == 401 and "another application" in replay.inner_text("main")
        assert replay.goto(f"{base}/integrations").status == 401
        assert other.cookies() == []
    finally:
        other.close()

    page.click("#signout")
    page.wait_for_url(f"{base}/signedout")
    page.shot("signed-out")
    page.go_back()
    page.wait_for_load_state()
    assert page.url == f"{base}/integrations"
    assert "Please sign in" in page.inner_text("main") and page.query_selector("#xero-status") is None
    page.shot("back-after-sign-out")
