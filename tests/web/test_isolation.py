"""Tenant isolation: a partner only ever sees and changes their own connection."""

from __future__ import annotations

from tests.web.conftest import hidden_fields


def test_partner_b_cannot_see_or_change_a(web):
    a, b = web.client("acme", "Acme MSP"), web.client("bravo", "Bravo IT")
    web.connect(a, tenant_id=web.tenants[0])
    tenant_name = web.sandbox.sandbox.orgs[web.tenants[0]].name
    assert tenant_name in a.get("/integrations").text
    page_b = b.get("/integrations").text
    assert tenant_name not in page_b and "Not connected" in page_b

    # B's Disconnect and Set Up Accounts act on B's (empty) connection only.
    answer = b.post("/integrations/xero/disconnect", data={"form_token": web.form_token(b)})
    assert answer.status_code == 409
    assert b.get("/integrations/xero/accounts").status_code == 409
    assert web.connection("acme").status == "pending"

    # A's form token is useless in B's session.
    answer = b.post("/integrations/xero/disconnect", data={"form_token": web.form_token(a)})
    assert answer.status_code == 400
    assert web.connection("acme").status == "pending"


def test_b_cannot_use_a_state_or_consent(web):
    a, b = web.client("acme"), web.client("bravo")
    callback = web.consent(web.start_connect(a), tenant_id=web.tenants[1])

    # B replays A's callback (A's state and code) in B's own session: refused, nothing exchanged.
    web.start_connect(b)  # B has a state of its own; A's does not match it
    refused = b.get(callback)
    assert refused.status_code == 400 and "expired or was already used" in refused.text

    # A's state and code still work for A.
    confirm_page = a.get(callback)
    assert "Confirm your company" in confirm_page.text
    fields = hidden_fields(confirm_page.text)

    # B cannot confirm A's pending consent (it finds nothing), and does not use it up.
    stolen = b.post("/integrations/xero/confirm",
                    data={**fields, "form_token": web.form_token(b), "action": "confirm"})
    assert stolen.status_code == 400 and "expired or was already used" in stolen.text
    assert web.connection("bravo").tenant_id is None

    answer = a.post("/integrations/xero/confirm", data={**fields, "action": "confirm"})
    assert answer.status_code == 302
    assert web.connection("acme").tenant_id == web.tenants[1]
    assert web.connection("bravo").status == "not_connected"


def test_no_partner_id_in_any_url(web):
    a = web.client("acme")
    page = a.get("/integrations").text
    authorize = web.start_connect(a)
    callback = web.consent(authorize)
    for text in (page, authorize, callback):
        assert "partner=" not in text and "/acme" not in text
