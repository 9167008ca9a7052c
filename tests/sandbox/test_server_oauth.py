"""OAuth2 and /connections on the sandbox server, driven like a browser and the real SDK."""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from xero_python.exceptions import HTTPStatusException

from tests.sandbox_fixtures import control, issue_tokens, make_sdk
from xero_sync.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SCOPES, XeroEndpoints

REDIRECT = "http://127.0.0.1:8765/callback"


def _authorize_params(**overrides) -> dict:
    params = {
        "response_type": "code",
        "client_id": DEMO_CLIENT_ID,
        "redirect_uri": REDIRECT,
        "scope": SCOPES,
        "state": "st-123",
    }
    params.update(overrides)
    return params


def _form_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def _consent(server, action: str = "allow", tenant_id: str | None = None) -> dict[str, list[str]]:
    """GET the consent page, submit its form; returns the callback's query parameters."""
    page = requests.get(f"{XeroEndpoints.for_base(server.base_url).authorize_url}", params=_authorize_params(), timeout=10)
    assert page.status_code == 200
    fields = _form_fields(page.text)
    radios = re.findall(r'<input type="radio" name="tenant_id" value="([^"]+)"', page.text)
    fields.update(tenant_id=tenant_id or radios[0], action=action)
    answer = requests.post(page.url, data=fields, allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT)
    return parse_qs(urlsplit(location).query)


def _token(server, auth: str = "basic", **form) -> requests.Response:
    if auth == "basic":
        basic = base64.b64encode(f"{DEMO_CLIENT_ID}:{DEMO_CLIENT_SECRET}".encode()).decode()
        return requests.post(XeroEndpoints.for_base(server.base_url).token_url, data=form, headers={"Authorization": f"Basic {basic}"}, timeout=10)
    form.update(client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET)
    return requests.post(XeroEndpoints.for_base(server.base_url).token_url, data=form, timeout=10)


def test_consent_page_lists_organisations_and_buttons(sandbox_factory):
    server = sandbox_factory(tenants=2, invoices=20, months=3)
    page = requests.get(XeroEndpoints.for_base(server.base_url).authorize_url, params=_authorize_params(), timeout=10)
    assert page.status_code == 200
    assert "<title>Xero | Authorise app</title>" in page.text
    assert "Select your company" in page.text
    assert "Allow access" in page.text and "Cancel" in page.text
    for org in server.sandbox.orgs.values():
        assert f'value="{org.tenant_id}"' in page.text
        assert org.name in page.text


@pytest.mark.parametrize(
    "overrides",
    [{"client_id": "someone-else"}, {"redirect_uri": "https://evil.example.com/cb"}],
)
def test_authorize_refuses_unknown_client_or_redirect_without_redirecting(sandbox, overrides):
    page = requests.get(
        XeroEndpoints.for_base(sandbox.base_url).authorize_url, params=_authorize_params(**overrides), allow_redirects=False, timeout=10
    )
    assert page.status_code == 400
    assert "Location" not in page.headers
    assert "Something went wrong" in page.text


def test_code_flow_then_sdk_sees_the_connection(sandbox, sandbox_tenant_id):
    callback = _consent(sandbox, tenant_id=sandbox_tenant_id)
    assert callback["state"] == ["st-123"]
    code = callback["code"][0]
    tokens = _token(sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["expires_in"] == 1800 and body["token_type"] == "Bearer"
    assert body["access_token"] and body["refresh_token"] and "offline_access" in body["scope"]

    sdk = make_sdk(sandbox, sandbox_tenant_id, token_set=body)
    connections = sdk.identity.get_connections()
    assert [c.tenant_id for c in connections] == [sandbox_tenant_id]
    assert connections[0].tenant_type == "ORGANISATION"

    # The code is single use.
    again = _token(sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_cancel_redirects_with_access_denied(sandbox):
    callback = _consent(sandbox, action="cancel")
    assert callback == {"error": ["access_denied"], "state": ["st-123"]}


def test_code_needs_matching_redirect_and_expires_after_five_minutes(sandbox):
    code = _consent(sandbox)["code"][0]
    wrong = _token(sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT + "x")
    assert wrong.status_code == 400
    code = _consent(sandbox)["code"][0]
    sandbox.sandbox.clock.advance(301)
    late = _token(sandbox, "form", grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"


def test_wrong_client_secret_is_refused(sandbox):
    answer = requests.post(
        XeroEndpoints.for_base(sandbox.base_url).token_url,
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        auth=(DEMO_CLIENT_ID, "wrong"),
        timeout=10,
    )
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"


def test_refresh_rotates_with_grace_then_invalid_grant(sandbox):
    first = issue_tokens(sandbox)
    second = _token(sandbox, grant_type="refresh_token", refresh_token=first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    # Lost response: the old token still works within 30 minutes and gives the same pair.
    sandbox.sandbox.clock.advance(29 * 60)
    replay = _token(sandbox, grant_type="refresh_token", refresh_token=first["refresh_token"]).json()
    assert replay["refresh_token"] == second["refresh_token"]
    sandbox.sandbox.clock.advance(2 * 60)
    late = _token(sandbox, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert late.status_code == 400 and late.json() == {"error": "invalid_grant"}
    # The rotated one works, once.
    third = _token(sandbox, "form", grant_type="refresh_token", refresh_token=second["refresh_token"])
    assert third.status_code == 200
    unknown = _token(sandbox, grant_type="refresh_token", refresh_token="not-a-token")
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_grant"


def test_unused_refresh_token_expires_after_sixty_days(sandbox):
    tokens = issue_tokens(sandbox)
    sandbox.sandbox.clock.advance(60 * 86_400 + 1)
    answer = _token(sandbox, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_expired_access_token_gets_xero_401_problem(sandbox_sdk):
    sdk = sandbox_sdk
    sdk.accounting.get_organisations(sdk.tenant_id)
    sdk.server.sandbox.clock.advance(30 * 60)
    with pytest.raises(HTTPStatusException) as caught:
        sdk.accounting.get_organisations(sdk.tenant_id)
    assert caught.value.status == 401
    body = caught.value.body if isinstance(caught.value.body, str) else caught.value.body.decode()
    assert '"Title": "Unauthorized"' in body and "TokenExpired: token expired at 11/15/2026 12:30:00" in body


def test_unknown_tenant_is_403_authentication_unsuccessful(sandbox_factory):
    server = sandbox_factory(tenants=2, invoices=10, months=2)
    first, second = list(server.sandbox.orgs)
    sdk = make_sdk(server, first)
    with pytest.raises(HTTPStatusException) as caught:
        sdk.accounting.get_organisations(second)
    assert caught.value.status == 403
    assert "AuthenticationUnsuccessful" in str(caught.value.body)


def test_delete_connection_then_tenant_calls_are_403(sandbox_sdk):
    sdk = sandbox_sdk
    _, status, headers = sdk.accounting.get_organisations(sdk.tenant_id, _return_http_data_only=False)
    assert status == 200
    for name in ("X-DayLimit-Remaining", "X-MinLimit-Remaining", "X-AppMinLimit-Remaining", "Xero-Correlation-Id"):
        assert name in headers
    connections, _, conn_headers = sdk.identity.get_connections(_return_http_data_only=False)
    assert "X-AppMinLimit-Remaining" in conn_headers and "X-DayLimit-Remaining" not in conn_headers
    with pytest.raises(HTTPStatusException) as unknown:
        sdk.identity.delete_connection("00000000-0000-0000-0000-000000000000")
    assert unknown.value.status == 404
    sdk.identity.delete_connection(connections[0].id)
    assert sdk.identity.get_connections() == []
    with pytest.raises(HTTPStatusException) as caught:
        sdk.accounting.get_organisations(sdk.tenant_id)
    assert caught.value.status == 403


def test_revoke_by_tenant_breaks_refresh_and_connections(sandbox, sandbox_tenant_id):
    tokens = issue_tokens(sandbox, sandbox_tenant_id)
    assert control(sandbox, "POST", "/tokens/revoke", {"tenant_id": sandbox_tenant_id}) == {"revoked": 1}
    answer = _token(sandbox, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
    listed = requests.get(
        XeroEndpoints.for_base(sandbox.base_url).connections_url, headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=10
    )
    assert listed.status_code == 200 and listed.json() == []


def test_sdk_refresh_against_the_sandbox_token_endpoint(sandbox_sdk, monkeypatch):
    """xero-python's own refresh call (form client_id/secret, scope list) works on the sandbox."""
    from xero_python.api_client.oauth2 import TokenApi

    sdk = sandbox_sdk
    monkeypatch.setattr(TokenApi, "refresh_token_url", XeroEndpoints.for_base(sdk.server.base_url).token_url)
    old = dict(sdk.tokens)
    sdk.server.sandbox.clock.advance(31 * 60)
    new = sdk.api_client.refresh_oauth2_token()
    assert new["refresh_token"] != old["refresh_token"]
    assert sdk.tokens["access_token"] == new["access_token"]  # the saver stored the rotated set
    assert sdk.accounting.get_organisations(sdk.tenant_id).organisations
