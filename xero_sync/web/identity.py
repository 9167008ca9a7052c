"""The partner's identity from the partner dashboard: a short-lived signed assertion (a JWT).

The dashboard signs `{"iss", "aud", "sub": partner id, "name"?, "iat", "exp", "jti"}` with HS256
(a shared secret, XERO_SYNC_SIGNIN_SECRET) or RS256 (its keys published at
XERO_SYNC_SIGNIN_JWKS_URL) and sends the partner to `/signin/assertion?token=...`. PyJWT checks the
signature, issuer, audience and expiry; we add a lifetime cap (`exp - iat` at most a few minutes)
and the single use of `jti`, recorded in the store by the view (store/web_sessions.py).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

import jwt

from xero_sync.core.ids import InvalidId, check_partner_id
from xero_sync.web.settings import SigninSettings

MAX_LIFETIME_SECONDS = 10 * 60  # an assertion valid for longer is refused whatever its signature
LEEWAY_SECONDS = 30  # clocks of the dashboard and this app may differ a little
MAX_TOKEN_LENGTH = 4096
REQUIRED_CLAIMS = ["iss", "aud", "sub", "iat", "exp", "jti"]
JWKS_TIMEOUT_SECONDS = 5


class AssertionRefused(ValueError):
    """The assertion is not acceptable; the message says why (safe to show: no key material)."""


class KeysUnavailable(AssertionRefused):
    """The dashboard's JWKS could not be fetched: nobody can sign in until it can."""


@dataclass(frozen=True)
class Assertion:
    partner_id: str
    name: str
    jti: str
    expires_at: dt.datetime


class AssertionVerifier:
    """Checks assertions for one app (its audience); one per app, so the JWKS is cached."""

    def __init__(self, settings: SigninSettings) -> None:
        self.settings = settings
        self._jwks = jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=300,
                                     timeout=JWKS_TIMEOUT_SECONDS) if settings.jwks_url else None

    def _key(self, token: str):
        if self._jwks is None:
            return self.settings.secret, ["HS256"]
        try:
            return self._jwks.get_signing_key_from_jwt(token).key, ["RS256"]
        except jwt.PyJWKClientConnectionError as exc:
            raise KeysUnavailable("the partner dashboard's signing keys cannot be fetched right now") from exc
        except (jwt.PyJWKClientError, jwt.InvalidTokenError) as exc:
            raise AssertionRefused(f"no key of the partner dashboard signed it ({exc})") from None

    def verify(self, token: str) -> Assertion:
        """The assertion's partner, or AssertionRefused naming what is wrong."""
        if not self.settings.enabled:
            raise AssertionRefused("sign-in assertions are not configured on this server")
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise AssertionRefused("the sign-in link carries no assertion (or one far too long)")
        key, algorithms = self._key(token)
        try:
            claims = jwt.decode(
                token, key, algorithms=algorithms, audience=self.settings.audience,
                issuer=self.settings.issuer, leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise AssertionRefused("the sign-in link has expired") from None
        except jwt.InvalidAudienceError:
            raise AssertionRefused("the sign-in link is for another application (audience)") from None
        except jwt.InvalidIssuerError:
            raise AssertionRefused("the sign-in link was not issued by the partner dashboard (issuer)") from None
        except jwt.InvalidTokenError as exc:
            raise AssertionRefused(f"the sign-in link is not valid ({exc})") from None
        if not isinstance(claims["iat"], (int, float)) or claims["exp"] - claims["iat"] > MAX_LIFETIME_SECONDS:
            raise AssertionRefused(f"the sign-in link is valid for longer than {MAX_LIFETIME_SECONDS // 60} minutes")
        jti, partner_id, name = claims["jti"], claims["sub"], claims.get("name")
        if not isinstance(jti, str) or not 16 <= len(jti) <= 128:
            raise AssertionRefused("the sign-in link's id (jti) must be 16 to 128 characters")
        try:
            check_partner_id(partner_id, "the partner")
        except InvalidId as exc:
            raise AssertionRefused(f"the sign-in link names no valid partner: {exc}") from None
        if not isinstance(name, str) or not name.strip():
            name = partner_id
        return Assertion(partner_id=partner_id, name=name.strip()[:200], jti=jti,
                         expires_at=dt.datetime.fromtimestamp(claims["exp"], dt.timezone.utc))


def sign_assertion(settings: SigninSettings, partner_id: str, *, name: str | None = None,
                   minutes: float = 5, now: dt.datetime | None = None, **extra) -> str:
    """An HS256 assertion for `partner_id` as the dashboard makes it (`xero-sync signin-link`, tests)."""
    if not settings.secret:
        raise ValueError("signing needs the shared secret (XERO_SYNC_SIGNIN_SECRET)")
    now = now or dt.datetime.now(dt.timezone.utc)
    claims = {"iss": settings.issuer, "aud": settings.audience, "sub": partner_id,
              "iat": int(now.timestamp()), "exp": int((now + dt.timedelta(minutes=minutes)).timestamp()),
              "jti": secrets.token_urlsafe(24)}
    if name:
        claims["name"] = name
    claims.update(extra)
    return jwt.encode(claims, settings.secret, algorithm="HS256")
