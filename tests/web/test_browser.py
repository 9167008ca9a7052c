"""The Integrations page in headless Chromium (Debian's, via Playwright; never a downloaded browser):
sign in → Connect → sandbox consent → Confirm → Pending → (onboarding runs) → Connected → Set Up
Accounts, plus a refused choice and a cancelled consent. Screenshots go to test-artifacts/web/.
"""

from __future__ import annotations

import dagster as dg
import pytest

from tests.web.conftest import LiveServer, Web
from xero_sync.definitions import build_defs
from xero_sync.demo.main import drive_headless

pytestmark = pytest.mark.browser


def sign_in(page, base: str, partner_id: str, name: str) -> None:
    page.goto(f"{base}/integrations")
    assert page.url.endswith("/signin")
    page.fill("#partner_id", partner_id)
    page.fill("#name", name)
    page.shot("sign-in")
    page.click("#signin")
    page.wait_for_url(f"{base}/integrations")


def consent(page, company: str, button: str = "Allow access") -> None:
    page.click("#connect")
    page.wait_for_selector("text=Select your company")
    page.check(f"label.org:has-text('{company}') input")
    page.shot("xero-consent")
    page.click(f"button:has-text('{button}')")


def test_connect_to_connected_and_set_up_accounts(web: Web, page, sqlite_url):
    company = web.sandbox.sandbox.orgs[web.tenants[1]].name
    with LiveServer(web.app) as live:
        base = live.url
        sign_in(page, base, "acme", "Acme MSP")
        assert page.inner_text("#xero-status") == "Not connected"
        page.shot("integrations-not-connected")

        consent(page, company)
        page.wait_for_selector("text=Confirm your company")
        assert page.inner_text("#organisation") == company
        page.shot("confirm-company")
        page.click("#confirm")
        page.wait_for_url(f"{base}/integrations?done=connected")
        assert page.inner_text("#xero-status") == "Pending"
        page.shot("pending")

        # The onboarding sensor and the runs it requests, in-process, as the daemon would.
        defs = build_defs(database_url=sqlite_url, sandbox_url=web.sandbox.base_url)
        with dg.instance_for_test() as instance:
            assert drive_headless(instance, defs, web.engine, "acme") == []
        connection = web.connection("acme")
        assert connection.status == "connected" and connection.months_total > 0

        page.goto(f"{base}/integrations")
        assert page.inner_text("#xero-status") == "Connected"
        total = connection.months_total
        assert page.inner_text("#xero-progress").startswith(f"{total} of {total} months synced")
        assert "Set up accounts" in page.inner_text("#xero-accounts-needed")
        page.shot("connected")

        page.click("#set-up-accounts")
        page.wait_for_selector("text=Set Up Accounts")
        # The deposit account cannot be the payments account: refused with the rule's message.
        page.select_option("#payments", label="090 Business Checking")
        page.select_option("#deposit", label="090 Business Checking")
        page.click("#save-accounts")
        errors = page.inner_text("#account-errors")
        assert "must be a different account from the payments account" in errors
        page.shot("accounts-refused")
        assert web.connection("acme").payments_account_id is None

        page.select_option("#payments", label="615 Undeposited Funds")
        page.select_option("#deposit", label="090 Business Checking")
        page.select_option("#fees", label="404 Merchant Fees")
        page.select_option("#income", label="200 Sales")
        page.shot("accounts-chosen")
        page.click("#save-accounts")
        page.wait_for_url(f"{base}/integrations?done=accounts")
        assert "Accounts saved" in page.inner_text("#notice")
        assert page.locator("#xero-accounts-needed").count() == 0
        page.shot("accounts-saved")

    saved = web.connection("acme")
    org = web.sandbox.sandbox.orgs[web.tenants[1]]
    by_code = {a.code: a.account_id for a in org.accounts.values()}
    assert (saved.payments_account_id, saved.deposit_account_id, saved.fees_account_id, saved.income_account_id) \
        == (by_code["615"], by_code["090"], by_code["404"], by_code["200"])
    assert saved.payments_account_is_bank is False


def test_cancelled_consent_in_the_browser(web: Web, page):
    with LiveServer(web.app) as live:
        sign_in(page, live.url, "bravo", "Bravo IT")
        consent(page, web.sandbox.sandbox.orgs[web.tenants[0]].name, button="Cancel")
        page.wait_for_selector("text=You cancelled the connection")
        page.shot("cancelled")
        page.click("a:has-text('Connect again')")
        assert page.inner_text("#xero-status") == "Not connected"
    assert web.counts()["token_sets"] == 0 and web.connection("bravo").tenant_id is None
