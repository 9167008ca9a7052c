"""Issue 19: in real mode a partner can only ever be itself.

Over real HTTP against waitress, real mode (https public URL, every secret set), on SQLite and
PostgreSQL: the only way in is the partner dashboard's short-lived signed assertion, used once;
sessions end at sign-out, at Disconnect and after their lifetime; CSRF tokens are bound to the
session.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import http.server
import json
import threading
from collections.abc import Iterator

import jwt
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.web.real_mode import Browser, RealWeb, old_cookie, serve_real
from xero_sync.store import connections
from xero_sync.store.schema import partner_sessions, signin_assertions
from xero_sync.web.identity import sign_assertion
from xero_sync.web.settings import SigninSettings


def test_real_mode_serves_no_signin_form(real_web: RealWeb):
    """Seen: POST /signin partner_id=victim-msp answered 302 with a session for the victim."""
    attacker = real_web.browser()
    answer = attacker.post("/signin", {"partner_id": "victim-msp", "name": "Victim"})
    assert answer.status in (404, 405) and attacker.cookie is None
    assert attacker.get("/signin").status == 404
    page = attacker.get("/integrations")
    assert page.status == 401 and "partner dashboard" in page.text and "form_token" not in page.text
    disconnect = attacker.post("/integrations/xero/disconnect", {"form_token": "x"})
    assert disconnect.status == 401


def test_a_dashboard_signed_link_opens_the_partners_page_once(real_web: RealWeb):
    link = real_web.link("acme-msp", name="Acme MSP")
    browser = real_web.browser()
    answer = browser.get(link)
    assert answer.status == 303 and answer.location.endswith("/integrations")
    page = browser.get("/integrations")
    assert page.status == 200 and "acme-msp" in page.text and "Not connected" in page.text
    assert page.headers["Cache-Control"] == "no-store"

    replay = real_web.browser()
    refused = replay.get(link)
    assert refused.status == 401 and "already used" in refused.text and replay.cookie is None


@pytest.mark.parametrize(("case", "claims", "why"), [
    ("expired", {"now": dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=6)}, "expired"),
    ("another audience", {"aud": "https://another-app.example"}, "another application"),
    ("another issuer", {"iss": "someone-else"}, "issuer"),
    ("valid for hours", {"minutes": 240}, "longer than 10 minutes"),
    ("bad partner id", {"sub": "Victim|1"}, "no valid partner"),
])
def test_links_that_are_not_acceptable_are_refused(real_web: RealWeb, case, claims, why):
    claims = dict(claims)
    partner = claims.pop("sub", "acme")
    token = sign_assertion(real_web.web.signin, partner, **claims)
    browser = real_web.browser()
    answer = browser.get(f"/signin/assertion?token={token}")
    assert answer.status == 401 and why in answer.text, (case, answer.text)
    assert browser.cookie is None


def test_links_signed_otherwise_are_refused(real_web: RealWeb):
    wrong_key = SigninSettings(issuer=real_web.web.signin.issuer, audience=real_web.web.signin.audience,
                               secret="another-secret-that-is-long-enough-to-use")
    now = dt.datetime.now(dt.timezone.utc)
    unsigned = jwt.encode({"iss": real_web.web.signin.issuer, "aud": real_web.web.signin.audience,
                           "sub": "acme", "iat": int(now.timestamp()), "exp": int(now.timestamp()) + 60,
                           "jti": "j" * 20}, None, algorithm="none")
    no_jti = jwt.encode({"iss": real_web.web.signin.issuer, "aud": real_web.web.signin.audience, "sub": "acme",
                         "iat": int(now.timestamp()), "exp": int(now.timestamp()) + 60},
                        real_web.web.signin.secret, algorithm="HS256")
    for token in (sign_assertion(wrong_key, "acme"), unsigned, no_jti, "not-a-jwt", "x" * 5000):
        answer = real_web.browser().get(f"/signin/assertion?token={token}")
        assert answer.status == 401, (token[:20], answer.status)
    with real_web.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(signin_assertions)).scalar_one() == 0


def test_concurrent_replays_of_one_link_open_one_session(real_web: RealWeb):
    link = real_web.link("acme")

    def use(_):
        browser = real_web.browser()
        return browser.get(link).status, browser.cookie

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(use, range(16)))
    assert sorted(status for status, _ in results) == [303] + [401] * 15, results
    assert sum(1 for _, cookie in results if cookie) == 1
    with real_web.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(signin_assertions)).scalar_one() == 1


def test_concurrent_first_sign_ins_of_a_new_partner(real_web: RealWeb):
    links = [real_web.link("newcomer") for _ in range(12)]
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(lambda link: real_web.browser().get(link).status, links))
    assert statuses == [303] * 12
    with real_web.engine.connect() as conn:
        assert conn.execute(sa.select(partner_sessions.c.generation)).scalars().all() == [0]


def test_sign_out_ends_every_session_of_the_partner(real_web: RealWeb):
    """Seen: the old cookie still opened /integrations after POST /signout; /signout had no CSRF
    check; the form token never changed."""
    first, second = real_web.signed_in("acme"), real_web.signed_in("acme")
    token = first.form_token()
    assert token != second.form_token()  # bound to the session, not just the partner
    kept = first.cookie

    cross_site = first.post("/signout", {}, headers={"Origin": "https://evil.example"})
    assert cross_site.status == 403
    no_token = first.post("/signout", {})
    assert no_token.status == 400 and first.get("/integrations").status == 200

    out = first.post("/signout", {"form_token": token})
    assert out.status == 303 and out.location.endswith("/signedout") and first.cookie is None
    stolen = Browser(real_web.url, cookie=kept)
    assert stolen.get("/integrations").status == 401
    assert second.get("/integrations").status == 401  # every session of the partner ended
    again = real_web.signed_in("acme")
    assert again.form_token() != token


def test_disconnect_ends_other_sessions_and_renews_this_one(real_web: RealWeb):
    with real_web.engine.begin() as conn:
        connections.ensure_partner(conn, "acme", "Acme")
        connections.set_status(conn, "acme", "pending")  # linked, no token set: no Xero call to undo
    mine, other = real_web.signed_in("acme"), real_web.signed_in("acme")
    before = mine.cookie
    answer = mine.post("/integrations/xero/disconnect", {"form_token": mine.form_token()})
    assert answer.status == 302 and answer.location.endswith("done=disconnected")
    assert mine.cookie != before and "Disconnected" in mine.get("/integrations").text
    assert other.get("/integrations").status == 401
    assert Browser(real_web.url, cookie=before).get("/integrations").status == 401


def test_sessions_last_hours_not_weeks(real_web: RealWeb):
    real_web.signed_in("acme")
    hours = real_web.web.session_hours
    assert hours == 8
    fresh = Browser(real_web.url, cookie=old_cookie(real_web.app, "acme", 0, hours_ago=hours - 0.5))
    assert fresh.get("/integrations").status == 200
    stale = Browser(real_web.url, cookie=old_cookie(real_web.app, "acme", 0, hours_ago=hours + 0.1))
    assert stale.get("/integrations").status == 401
    signed = real_web.signed_in("acme")
    assert signed.get("/integrations").status == 200
    # The cookie itself expires with the session (not in 31 days).
    browser = real_web.browser()
    answer = browser.get(real_web.link("acme"))
    expires = answer.headers["Set-Cookie"].split("Expires=")[1].split(";")[0]
    when = dt.datetime.strptime(expires, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=dt.timezone.utc)
    assert when - dt.datetime.now(dt.timezone.utc) < dt.timedelta(hours=hours, minutes=1)


# --- RS256 from the dashboard's JWKS ---------------------------------------------------------

class _Jwks:
    """The dashboard's public keys at http://127.0.0.1:<port>/jwks.json (in-process)."""

    def __init__(self, keys: dict[str, rsa.RSAPrivateKey]) -> None:
        body = json.dumps({"keys": [
            {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())), "kid": kid, "use": "sig",
             "alg": "RS256"} for kid, key in keys.items()]}).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def rs256_web(db_url, tmp_path, monkeypatch) -> Iterator[tuple[RealWeb, rsa.RSAPrivateKey]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks = _Jwks({"dashboard-2026": key})
    try:
        yield from ((web, key) for web in serve_real(db_url, tmp_path, monkeypatch, XERO_SYNC_SIGNIN_SECRET="",
                                                      XERO_SYNC_SIGNIN_JWKS_URL=jwks.url))
    finally:
        jwks.close()


def _rs256(web: RealWeb, key, kid: str = "dashboard-2026", **claims) -> str:
    now = int(dt.datetime.now(dt.timezone.utc).timestamp())
    body = {"iss": web.web.signin.issuer, "aud": web.web.signin.audience, "sub": "acme", "iat": now,
            "exp": now + 120, "jti": f"rs256-{now}-{id(claims)}-{kid}", **claims}
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid})


def test_rs256_assertions_checked_against_the_dashboards_jwks(rs256_web):
    web, key = rs256_web
    browser = web.browser()
    assert browser.get(f"/signin/assertion?token={_rs256(web, key)}").status == 303
    assert browser.get("/integrations").status == 200
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert web.browser().get(f"/signin/assertion?token={_rs256(web, stranger)}").status == 401
    assert web.browser().get(f"/signin/assertion?token={_rs256(web, stranger, kid='unknown')}").status == 401
    # An HS256 token is not what this dashboard signs: refused whatever its secret.
    hs256 = SigninSettings(issuer=web.web.signin.issuer, audience=web.web.signin.audience, secret="s" * 40)
    assert web.browser().get(f"/signin/assertion?token={sign_assertion(hs256, 'acme')}").status == 401


def test_concurrent_sign_outs_end_every_session(real_web: RealWeb):
    browsers = [real_web.signed_in("acme") for _ in range(10)]
    tokens = [b.form_token() for b in browsers]
    cookies = [b.cookie for b in browsers]
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        statuses = list(pool.map(lambda pair: pair[0].post("/signout", {"form_token": pair[1]}).status,
                                 zip(browsers, tokens)))
    # The first sign-out ends them all; later ones find no session (or a stale token): none opens.
    assert all(status in (303, 400) for status in statuses) and 303 in statuses, statuses
    assert all(Browser(real_web.url, cookie=c).get("/integrations").status == 401 for c in cookies)
    with real_web.engine.connect() as conn:
        assert conn.execute(sa.select(partner_sessions.c.generation)).scalar_one() >= 1
