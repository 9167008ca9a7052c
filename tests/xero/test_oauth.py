"""OAuthApp against the sandbox's identity service: consent, code exchange, refresh rotation."""

import urllib.parse

import pytest
import urllib3

from xero_sync.config import SCOPES
from xero_sync.core.errors import NeedsReauth

REDIRECT = "http://127.0.0.1:3000/xero/callback"


def _consent(env, state: str) -> str:
    """Do what the partner's browser does: open the consent page, allow, follow to the code."""
    http = urllib3.PoolManager()
    url = env.app.authorize_url(state, REDIRECT)
    page = http.request("GET", url, redirect=False)
    assert page.status == 200
    answer = http.request(
        "POST", env.endpoints.authorize_url, redirect=False,
        fields={"client_id": env.app.client_id, "redirect_uri": REDIRECT, "scope": SCOPES,
                "state": state, "tenant_id": env.tenant_id, "action": "allow"},
        encode_multipart=False,
    )
    assert answer.status == 302
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(answer.headers["Location"]).query)
    assert query["state"] == [state]
    return query["code"][0]


def test_authorize_url_has_the_oauth_parameters(env):
    url = env.app.authorize_url("st-1", REDIRECT)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert url.startswith(env.endpoints.authorize_url)
    assert query == {"response_type": ["code"], "client_id": [env.app.client_id],
                     "redirect_uri": [REDIRECT], "scope": [SCOPES], "state": ["st-1"]}


def test_code_exchange_refresh_rotation_and_reuse(env):
    tokens = env.app.exchange_code(_consent(env, "st-2"), REDIRECT)
    assert tokens.refresh_token and tokens.expires_at.timestamp() == env.clock.time() + 1800
    assert env.tenant_id in [c.tenant_id for c in env.app.connections(tokens.access_token)]
    rotated = env.app.refresh(tokens)
    assert rotated.refresh_token != tokens.refresh_token and rotated.access_token != tokens.access_token
    env.clock.advance(31 * 60)  # past the 30-minute grace for the previous refresh token
    with pytest.raises(NeedsReauth, match="invalid_grant"):
        env.app.refresh(tokens)
    with pytest.raises(NeedsReauth):  # a code is single use
        env.app.exchange_code("not-a-code", REDIRECT)


def test_the_access_token_names_its_consent_and_connections_filter_by_it(env):
    first = env.app.exchange_code(_consent(env, "st-ae1"), REDIRECT)
    second = env.app.exchange_code(_consent(env, "st-ae2"), REDIRECT)  # the same tenant, consented again
    assert first.auth_event_id and second.auth_event_id and first.auth_event_id != second.auth_event_id
    # Reconnecting renews the connection's authEventId: only the newest consent finds it.
    assert [c.tenant_id for c in env.app.connections(second.access_token, second.auth_event_id)] == [env.tenant_id]
    assert env.app.connections(second.access_token, first.auth_event_id) == []
    assert env.app.connections(second.access_token)[0].auth_event_id == second.auth_event_id
    # A refreshed token still names the consent it came from.
    assert env.app.refresh(second).auth_event_id == second.auth_event_id
