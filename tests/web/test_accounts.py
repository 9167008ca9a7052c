"""Set Up Accounts through the test client: only when connected, lists what qualifies per role,
validates what is posted (even a forged form) against Xero's chart, stores the choice."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import hidden_fields
from xero_sync.commands.cli import build_parser
from xero_sync.store import connections


@pytest.fixture
def connected(web):
    client = web.client("acme")
    web.connect(client, tenant_id=web.tenants[0])
    # The onboarding runs are covered by the browser test; here the status is what matters.
    with web.engine.begin() as conn:
        connections.mark_connected(conn, "acme")
    org = web.sandbox.sandbox.orgs[web.tenants[0]]
    return client, {a.code: a.account_id for a in org.accounts.values()}


def options(page: str, role: str) -> list[str]:
    select = re.search(rf'<select id="{role}".*?</select>', page, re.S).group(0)
    return re.findall(r'<option value="[^"]+"[^>]*>([^<]+)</option>', select)


def test_only_when_connected(web):
    client = web.client("acme")
    answer = client.get("/integrations/xero/accounts")
    assert answer.status_code == 409 and "once your Xero connection shows Connected" in answer.text
    web.connect(client)
    assert client.get("/integrations/xero/accounts").status_code == 409  # pending
    assert 'id="set-up-accounts"' not in client.get("/integrations").text


def test_lists_qualifying_accounts_per_role(connected):
    client, _ = connected
    page = client.get("/integrations/xero/accounts").text
    assert options(page, "payments") == ["090 Business Checking", "091 Business Savings", "095 Payments Clearing",
                                         "615 Undeposited Funds"]
    assert options(page, "deposit") == ["090 Business Checking", "091 Business Savings", "095 Payments Clearing"]
    assert options(page, "fees") == ["404 Merchant Fees", "429 General Expenses", "469 Rent"]
    assert options(page, "income") == ["200 Sales", "260 Other Revenue"]


def test_forged_choice_is_refused_with_the_rule(web, connected):
    client, code = connected
    token = hidden_fields(client.get("/integrations/xero/accounts").text)["form_token"]
    answer = client.post("/integrations/xero/accounts", data={
        "form_token": token, "payments": code["610"], "deposit": code["615"], "fees": code["090"]})
    assert answer.status_code == 400
    assert "Payments account: 610 Accounts Receivable has type CURRENT" in answer.text
    assert "the deposit account must be a BANK account" in answer.text
    assert "the fees account must be an expense account" in answer.text
    assert web.connection("acme").payments_account_id is None


def test_valid_choice_saved_and_shown_again(web, connected):
    client, code = connected
    token = hidden_fields(client.get("/integrations/xero/accounts").text)["form_token"]
    answer = client.post("/integrations/xero/accounts", data={
        "form_token": token, "payments": code["090"], "deposit": code["091"], "fees": "", "income": ""})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("done=accounts")
    saved = web.connection("acme")
    assert (saved.payments_account_id, saved.deposit_account_id, saved.payments_account_is_bank) == \
        (code["090"], code["091"], True)
    assert (saved.fees_account_id, saved.income_account_id) == (None, None)
    page = client.get("/integrations/xero/accounts").text
    assert f'<option value="{code["091"]}" selected>' in page


def test_fees_setting_saved_and_shown_again(web, connected):
    client, code = connected
    page = client.get("/integrations/xero/accounts").text
    assert re.search(r'<option value="line" selected>', page)  # the default
    token = hidden_fields(page)["form_token"]
    answer = client.post("/integrations/xero/accounts", data={
        "form_token": token, "payments": code["615"], "deposit": code["090"], "fees": code["404"],
        "fees_as": "spend"})
    assert answer.status_code == 302 and web.connection("acme").fees_as_spend is True
    assert re.search(r'<option value="spend" selected>', client.get("/integrations/xero/accounts").text)
    answer = client.post("/integrations/xero/accounts", data={
        "form_token": token, "payments": code["615"], "deposit": code["090"], "fees_as": "twice"})
    assert answer.status_code == 400 and "Fees must be booked as a line or a spend" in answer.text
    assert web.connection("acme").fees_as_spend is True


def test_xero_down_on_set_up_accounts(web, connected):
    client, _ = connected
    web.sandbox.stop()
    answer = client.get("/integrations/xero/accounts")
    assert answer.status_code == 502 and "Xero is not answering" in answer.text


def test_web_command_is_registered():
    args = build_parser().parse_args(["web", "--port", "8123", "--host", "0.0.0.0"])
    assert (args.command, args.port, args.host) == ("web", 8123, "0.0.0.0")
    defaults = build_parser().parse_args(["web"])
    assert (defaults.port, defaults.host) == (8000, "127.0.0.1")
