"""Connect → consent → Confirm through the Flask test client, and every way it can go wrong.

Each error path must show a page saying what happened and what to do, and leave no token set and
no linked connection behind.
"""

from __future__ import annotations

import urllib.parse

import pytest

from tests.web.sign_in import dev_sign_in
from tests.web.conftest import hidden_fields, make_web
from xero_sync.xero.oauth import OAuthApp

NOTHING_LEFT = {"token_sets": 0, "linked": 0, "not_connected_only": 0, "webhook_events": 0}


def with_query(path: str, **changes: str) -> str:
    parts = urllib.parse.urlsplit(path)
    query = dict(urllib.parse.parse_qsl(parts.query))
    query.update(changes)
    return f"{parts.path}?{urllib.parse.urlencode(query)}"


def query_of(path: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(path).query))


def test_sign_in_required_and_partner_id_checked(web):
    client = web.app.test_client()
    assert client.get("/integrations").headers["Location"].endswith("/signin")
    bad = dev_sign_in(client, "Acme|1", "x")
    assert bad.status_code == 400 and "lowercase letters" in bad.text


def test_happy_path_connects_pending_with_tokens_encrypted(web):
    client = web.client("acme", "Acme MSP")
    assert "Not connected" in client.get("/integrations").text
    authorize = web.start_connect(client)
    query = query_of(authorize)
    assert query["redirect_uri"] == "http://127.0.0.1:8000/integrations/xero/callback"  # the public URL
    assert "offline_access" in query["scope"].split() and len(query["state"]) >= 32
    callback = web.consent(authorize, tenant_id=web.tenants[1])
    confirm_page = client.get(callback)
    assert "Confirm your company" in confirm_page.text
    assert web.sandbox.sandbox.orgs[web.tenants[1]].name in confirm_page.text
    assert web.counts() == NOTHING_LEFT  # nothing stored before Confirm
    answer = client.post("/integrations/xero/confirm", data={**hidden_fields(confirm_page.text), "action": "confirm"})
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"])
    assert "Pending" in page.text and 'id="disconnect"' in page.text and 'id="connect"' not in page.text
    connection = web.connection("acme")
    assert (connection.status, connection.tenant_id) == ("pending", web.tenants[1])
    assert web.counts()["token_sets"] == 1
    # The session cookie holds the partner id only: no token, no tenant.
    cookie = client.get_cookie("xero_sync_session").value
    assert len(cookie) < 200


def test_consent_denied(web):
    client = web.client("acme")
    callback = web.consent(web.start_connect(client), action="cancel")
    assert query_of(callback)["error"] == "access_denied"
    page = client.get(callback)
    assert page.status_code == 200
    assert "You cancelled" in page.text and "Connect again" in page.text
    assert web.counts() == NOTHING_LEFT
    assert web.connection("acme").status == "not_connected"


def test_cancel_on_confirm_page_stores_nothing(web):
    client = web.client("acme")
    page = client.get(web.consent(web.start_connect(client)))
    answer = client.post("/integrations/xero/confirm", data={**hidden_fields(page.text), "action": "cancel"})
    assert "You cancelled" in answer.text
    assert web.counts() == NOTHING_LEFT
    # The consent is used up: confirming it afterwards is refused.
    again = client.post("/integrations/xero/confirm", data={**hidden_fields(page.text), "action": "confirm"})
    assert again.status_code == 400 and "expired or was already used" in again.text
    assert web.counts() == NOTHING_LEFT


@pytest.mark.parametrize("state", ["forged-state", ""])
def test_bad_state_is_refused_without_exchanging_the_code(web, state):
    client = web.client("acme")
    callback = web.consent(web.start_connect(client))
    page = client.get(with_query(callback, state=state))
    assert page.status_code == 400
    assert "expired or was already used" in page.text and "start again" in page.text.lower()
    assert web.counts() == NOTHING_LEFT
    # The code was never exchanged: it still works at Xero.
    app = OAuthApp(web.settings.xero, web.settings.client_id, web.settings.client_secret)
    assert app.exchange_code(query_of(callback)["code"], "http://127.0.0.1:8000/integrations/xero/callback").access_token


def test_replayed_state_is_refused(web):
    client = web.client("acme")
    callback = web.consent(web.start_connect(client))
    assert "Confirm your company" in client.get(callback).text
    replay = client.get(callback)
    assert replay.status_code == 400 and "expired or was already used" in replay.text
    assert web.counts() == NOTHING_LEFT


def test_expired_state_is_refused(web, monkeypatch):
    import xero_sync.web.consents as consents

    client = web.client("acme")
    authorize = web.start_connect(client)
    callback = web.consent(authorize)
    real_time = consents.time.time
    monkeypatch.setattr(consents.time, "time", lambda: real_time() + consents.STATE_TTL_SECONDS + 1)
    page = client.get(callback)
    assert page.status_code == 400 and "expired or was already used" in page.text
    assert web.counts() == NOTHING_LEFT


def test_expired_code(web):
    client = web.client("acme")
    callback = web.consent(web.start_connect(client))
    # Xero's authorisation codes live minutes; the sandbox's 5. Let 6 pass on its clock.
    web.sandbox.sandbox.clock.advance(6 * 60)
    page = client.get(callback)
    assert page.status_code == 400
    assert "This Xero sign-in expired" in page.text and "Start again" in page.text
    assert web.counts() == NOTHING_LEFT


def test_invalid_code(web):
    client = web.client("acme")
    callback = web.consent(web.start_connect(client))
    page = client.get(with_query(callback, code="not-a-code"))
    assert page.status_code == 400 and "This Xero sign-in expired" in page.text
    assert web.counts() == NOTHING_LEFT


def test_tenant_already_connected_to_another_partner(web):
    a, b = web.client("acme"), web.client("bravo")
    web.connect(a, tenant_id=web.tenants[0])
    before = web.counts()
    page = b.get(web.consent(web.start_connect(b), tenant_id=web.tenants[0]))
    answer = b.post("/integrations/xero/confirm", data={**hidden_fields(page.text), "action": "confirm"})
    assert answer.status_code == 409
    assert "already connected to another partner" in answer.text
    assert web.counts() == before  # no extra token set, no second link
    assert web.connection("bravo").status == "not_connected" and web.connection("bravo").tenant_id is None
    assert web.connection("acme").status == "pending"


def test_xero_down_during_code_exchange(web):
    client = web.client("acme")
    callback = web.consent(web.start_connect(client))
    web.sandbox.stop()  # connection refused from now on
    page = client.get(callback)
    assert page.status_code == 502
    assert "Xero is not answering" in page.text and "try again in a few minutes" in page.text.lower()
    assert web.counts() == NOTHING_LEFT


def test_token_endpoint_refusing_shows_a_page_not_a_traceback(web):
    client = web.client("acme")
    callback = web.consent(web.start_connect(client))
    state = web.app.extensions["xero_sync_web"]
    # The token endpoint answers 404 (every endpoint moved; the callback reaches only that one).
    state.settings = state.settings.model_copy(update={"sandbox_url": state.settings.sandbox_url + "/missing"})
    assert state.settings.xero.token_url.endswith("/missing/connect/token")
    page = client.get(callback)
    assert page.status_code == 502 and "Xero refused the request" in page.text
    assert web.counts() == NOTHING_LEFT


def test_connect_refused_while_linked(web):
    client = web.client("acme")
    web.connect(client)
    answer = client.post("/integrations/xero/connect", data={"form_token": web.form_token(client)})
    assert answer.status_code == 409 and "Disconnect it first" in answer.text


def test_posts_without_the_form_token_are_refused(web):
    client = web.client("acme")
    answer = client.post("/integrations/xero/connect", data={"form_token": "forged"})
    assert answer.status_code == 400 and "Reload the page" in answer.text


def test_disconnect(web):
    client = web.client("acme")
    web.connect(client)
    connection = web.connection("acme")
    grant_connections = [c for g in web.sandbox.sandbox.oauth.grants.values() for c in g.connections]
    assert connection.xero_connection_id in grant_connections
    answer = client.post("/integrations/xero/disconnect", data={"form_token": web.form_token(client)})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("done=disconnected")
    assert web.connection("acme").status == "disconnected"
    grant_connections = [c for g in web.sandbox.sandbox.oauth.grants.values() for c in g.connections]
    assert connection.xero_connection_id not in grant_connections  # DELETE /connections/{id} reached Xero
    page = client.get("/integrations")
    assert "Disconnected" in page.text and 'id="connect"' in page.text and 'id="disconnect"' not in page.text
    # Reconnecting works after a disconnect.
    web.connect(client)
    assert web.connection("acme").status == "pending"


def test_disconnect_when_xero_is_down_changes_nothing(web):
    client = web.client("acme")
    web.connect(client)
    token = web.form_token(client)
    web.sandbox.stop()
    answer = client.post("/integrations/xero/disconnect", data={"form_token": token})
    assert answer.status_code == 502 and "Xero is not answering" in answer.text
    assert web.connection("acme").status == "pending"


@pytest.mark.postgres
def test_connect_flow_on_postgres(sandbox_factory, pg_url, tmp_path, monkeypatch):
    from tests.web.conftest import SMALL_SANDBOX

    server = sandbox_factory(tenants=2, **SMALL_SANDBOX)
    for web in make_web(server, pg_url, tmp_path, monkeypatch):
        a, b = web.client("acme"), web.client("bravo")
        web.connect(a, tenant_id=web.tenants[0])
        page = b.get(web.consent(web.start_connect(b), tenant_id=web.tenants[0]))
        refused = b.post("/integrations/xero/confirm", data={**hidden_fields(page.text), "action": "confirm"})
        assert refused.status_code == 409
        assert web.counts() == {"token_sets": 1, "linked": 1, "not_connected_only": 1, "webhook_events": 0}
        assert web.connection("acme").status == "pending"


def test_two_confirm_pages_second_refused_without_orphan_tokens(web):
    client = web.client("acme")
    first = client.get(web.consent(web.start_connect(client), tenant_id=web.tenants[0]))
    second = client.get(web.consent(web.start_connect(client), tenant_id=web.tenants[1]))
    assert "Confirm your company" in first.text and "Confirm your company" in second.text
    ok = client.post("/integrations/xero/confirm", data={**hidden_fields(first.text), "action": "confirm"})
    assert ok.status_code == 302
    refused = client.post("/integrations/xero/confirm", data={
        **hidden_fields(second.text), "tenant_id": web.tenants[1], "action": "confirm"})
    assert refused.status_code == 409 and "Disconnect it first" in refused.text
    assert web.counts()["token_sets"] == 1  # the refused confirm's tokens were not kept
    assert web.connection("acme").tenant_id == web.tenants[0]
