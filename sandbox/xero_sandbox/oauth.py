"""OAuth2 like Xero's identity service: apps, grants (user × app), codes, tokens, connections.

- `GET /connect/authorize?response_type=code&client_id&redirect_uri&scope&state` → the consent
  page (pick an organisation, *Allow access* or *Cancel*); an unknown client or a redirect URI
  that is not registered → an error page, never a redirect.
- `POST /connect/authorize` (the consent form) → 302 to `redirect_uri?code=...&state=...`, or
  `redirect_uri?error=access_denied&state=...` on Cancel. Codes are single use, 5 minutes.
- `POST /connect/token` (form; client auth by HTTP Basic or client_id/client_secret fields):
  `grant_type=authorization_code` (code, redirect_uri) or `grant_type=refresh_token`. Access
  tokens are JWT-like and carry `authentication_event_id`, the `authEventId` the consent put on
  the connection it created or renewed (refreshes keep it). Access
  tokens live 30 minutes, refresh tokens rotate on each use; the previous one may be replayed for
  30 minutes (it returns the same new pair), refresh tokens unused for 60 days expire; anything
  else → 400 {"error": "invalid_grant"}.
- `GET /connections` (Bearer) → the grant's connections; `DELETE /connections/{id}` → 204 / 404.
All times are on the sandbox clock.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, current_app, g, jsonify, render_template, request

from xero_sandbox.demo_app import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SCOPES
from xero_sandbox.clock import Clock

ACCESS_TOKEN_SECONDS = 30 * 60
REFRESH_GRACE_SECONDS = 30 * 60
REFRESH_UNUSED_SECONDS = 60 * 86_400
CODE_SECONDS = 5 * 60
DEMO_USER = "demo-user"
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


class OAuthError(Exception):
    """An OAuth2 error answered as 400 {"error": code}."""

    def __init__(self, code: str, description: str = "") -> None:
        super().__init__(description or code)
        self.code = code
        self.description = description


class TokenRejected(Exception):
    """An API call's bearer token is missing, unknown or expired: answered 401 with `detail`."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass
class App:
    client_id: str
    client_secret: str
    name: str


@dataclass
class Connection:
    id: str
    tenant_id: str
    tenant_name: str
    auth_event_id: str
    created: dt.datetime
    updated: dt.datetime

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "authEventId": self.auth_event_id,
            "tenantId": self.tenant_id,
            "tenantType": "ORGANISATION",
            "tenantName": self.tenant_name,
            "createdDateUtc": _iso(self.created),
            "updatedDateUtc": _iso(self.updated),
        }


@dataclass
class Grant:
    """What one user allowed one app: scopes and the organisations connected."""

    id: str
    client_id: str
    user_id: str
    scope: str
    connections: dict[str, Connection] = field(default_factory=dict)  # by connection id
    revoked: bool = False

    def connected(self, tenant_id: str) -> bool:
        return any(c.tenant_id == tenant_id for c in self.connections.values())


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    grant_id: str
    expires_at: float
    auth_event_id: str | None = None  # the consent that issued it
    used: bool = False


@dataclass
class _AccessToken:
    grant_id: str
    expires_at: float


@dataclass
class _RefreshToken:
    grant_id: str
    issued_at: float
    auth_event_id: str | None = None
    used_at: float | None = None
    replacement: dict | None = None  # the token set returned when it was used


class OAuthRegistry:
    """Every app, grant, code and token the sandbox knows, behind one lock."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._lock = threading.RLock()
        self.apps: dict[str, App] = {
            DEMO_CLIENT_ID: App(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, "xero-sync (sandbox demo app)")
        }
        self.grants: dict[str, Grant] = {}
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, _AccessToken] = {}
        self._refresh: dict[str, _RefreshToken] = {}

    # -- apps --------------------------------------------------------------------------------
    def app(self, client_id: str | None) -> App | None:
        return self.apps.get(client_id or "")

    def check_client(self, client_id: str | None, client_secret: str | None) -> App:
        app = self.app(client_id)
        if app is None or not secrets.compare_digest(app.client_secret, client_secret or ""):
            raise OAuthError("invalid_client")
        return app

    @staticmethod
    def redirect_allowed(client_id: str, redirect_uri: str | None) -> bool:
        """The demo app accepts any http(s) callback on this machine (tests use random ports)."""
        if not redirect_uri:
            return False
        parts = urlsplit(redirect_uri)
        return parts.scheme in {"http", "https"} and (parts.hostname or "") in _LOCAL_HOSTS

    # -- grants and connections --------------------------------------------------------------
    def grant_for(self, client_id: str, user_id: str, scope: str) -> Grant:
        with self._lock:
            for grant in self.grants.values():
                if grant.client_id == client_id and grant.user_id == user_id and not grant.revoked:
                    # Xero's scopes are additive across consents.
                    grant.scope = " ".join(dict.fromkeys(grant.scope.split() + scope.split()))
                    return grant
            grant = Grant(str(uuid.uuid4()), client_id, user_id, scope)
            self.grants[grant.id] = grant
            return grant

    def connect(self, grant: Grant, tenant_id: str, tenant_name: str) -> Connection:
        now = self.clock.now()
        with self._lock:
            auth_event_id = str(uuid.uuid4())
            for connection in grant.connections.values():
                if connection.tenant_id == tenant_id:
                    connection.updated, connection.auth_event_id = now, auth_event_id
                    return connection
            connection = Connection(str(uuid.uuid4()), tenant_id, tenant_name, auth_event_id, now, now)
            grant.connections[connection.id] = connection
            return connection

    def disconnect(self, grant: Grant, connection_id: str) -> bool:
        with self._lock:
            return grant.connections.pop(connection_id, None) is not None

    def revoke_grant(self, grant: Grant) -> None:
        """The user disconnected the app: refresh fails, every connection is gone."""
        with self._lock:
            grant.revoked = True
            grant.connections.clear()

    def revoke_refresh_token(self, refresh_token: str) -> bool:
        with self._lock:
            record = self._refresh.get(refresh_token)
            if record is None:
                return False
            self.revoke_grant(self.grants[record.grant_id])
            return True

    def revoke_tenant(self, tenant_id: str) -> int:
        with self._lock:
            grants = [g for g in self.grants.values() if g.connected(tenant_id) and not g.revoked]
            for grant in grants:
                self.revoke_grant(grant)
            return len(grants)

    # -- codes and tokens --------------------------------------------------------------------
    def issue_code(self, client_id: str, redirect_uri: str, grant: Grant, auth_event_id: str | None = None) -> str:
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Code(client_id, redirect_uri, grant.id, self.clock.time() + CODE_SECONDS,
                                      auth_event_id)
        return code

    def exchange_code(self, client_id: str, code: str | None, redirect_uri: str | None) -> dict:
        with self._lock:
            record = self._codes.get(code or "")
            if (
                record is None
                or record.used
                or record.client_id != client_id
                or self.clock.time() >= record.expires_at
            ):
                raise OAuthError("invalid_grant")
            if record.redirect_uri != redirect_uri:
                raise OAuthError("invalid_grant", "redirect_uri does not match the authorize request")
            record.used = True
            return self._issue(self.grants[record.grant_id], record.auth_event_id)

    def refresh(self, client_id: str, refresh_token: str | None) -> dict:
        now = self.clock.time()
        with self._lock:
            record = self._refresh.get(refresh_token or "")
            if record is None:
                raise OAuthError("invalid_grant")
            grant = self.grants[record.grant_id]
            if grant.revoked or grant.client_id != client_id:
                raise OAuthError("invalid_grant")
            if record.used_at is not None:
                # A retry after a lost response: the same new pair within the grace period.
                if now - record.used_at <= REFRESH_GRACE_SECONDS and record.replacement is not None:
                    return dict(record.replacement)
                raise OAuthError("invalid_grant")
            if now - record.issued_at > REFRESH_UNUSED_SECONDS:
                raise OAuthError("invalid_grant")
            # Like Xero, refreshed tokens keep the authentication event of the original consent.
            token_set = self._issue(grant, record.auth_event_id)
            record.used_at, record.replacement = now, token_set
            return dict(token_set)

    def issue_for_tenant(self, tenant_id: str, tenant_name: str, client_id: str = DEMO_CLIENT_ID) -> dict:
        """Test shortcut: a fresh user and grant connected to one tenant, and its token set."""
        grant = self.grant_for(client_id, f"user-{uuid.uuid4().hex[:8]}", SCOPES)
        connection = self.connect(grant, tenant_id, tenant_name)
        with self._lock:
            return self._issue(grant, connection.auth_event_id)

    def _issue(self, grant: Grant, auth_event_id: str | None = None) -> dict:
        now = self.clock.time()
        access, refresh = _jwt_like(grant, now, auth_event_id=auth_event_id), secrets.token_urlsafe(32)
        self._access[access] = _AccessToken(grant.id, now + ACCESS_TOKEN_SECONDS)
        self._refresh[refresh] = _RefreshToken(grant.id, now, auth_event_id)
        token_set = {
            "access_token": access,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "token_type": "Bearer",
            "refresh_token": refresh,
            "scope": grant.scope,
        }
        if "openid" in grant.scope.split():
            token_set["id_token"] = _jwt_like(grant, now, id_token=True)
        return token_set

    def authenticate(self, authorization: str | None) -> Grant:
        """The grant behind `Authorization: Bearer <access token>`, or TokenRejected."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise TokenRejected("AuthenticationUnsuccessful")
        token = authorization.split(" ", 1)[1].strip()
        with self._lock:
            record = self._access.get(token)
            if record is None:
                raise TokenRejected("AuthenticationUnsuccessful")
            if self.clock.time() >= record.expires_at:
                expired = dt.datetime.fromtimestamp(record.expires_at, tz=dt.timezone.utc)
                raise TokenRejected(f"TokenExpired: token expired at {expired:%m/%d/%Y %H:%M:%S}")
            return self.grants[record.grant_id]


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _jwt_like(grant: Grant, now: float, id_token: bool = False, auth_event_id: str | None = None) -> str:
    """Looks like Xero's JWTs (header.payload.signature); the sandbox only ever looks it up.

    Xero's access tokens carry `authentication_event_id`: the `authEventId` of the connections
    the consent behind this token created or renewed (GET /connections?authEventId=...).
    """
    claims = {"sub": grant.user_id, "iat": int(now), "exp": int(now + ACCESS_TOKEN_SECONDS)}
    if id_token:
        claims.update(email=f"{grant.user_id}@sandbox.invalid", aud=grant.client_id)
    else:
        claims.update(client_id=grant.client_id, scope=grant.scope.split(), jti=uuid.uuid4().hex)
        if auth_event_id:
            claims["authentication_event_id"] = auth_event_id
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.{secrets.token_urlsafe(16)}"


# -- HTTP ----------------------------------------------------------------------------------
identity = Blueprint("identity", __name__, template_folder="templates")


def _registry() -> OAuthRegistry:
    return current_app.extensions["xero_sandbox"].oauth


def _error_page(message: str, status: int = 400) -> Response:
    html = render_template("consent.html", error=message, orgs=[], params={}, app_name="")
    return Response(html, status=status, mimetype="text/html")


@identity.get("/connect/authorize")
def authorize_page() -> Response:
    registry, params = _registry(), request.args
    app = registry.app(params.get("client_id"))
    if app is None:
        return _error_page(f"Unknown client_id {params.get('client_id')!r}: this app is not registered.")
    if not registry.redirect_allowed(app.client_id, params.get("redirect_uri")):
        return _error_page(f"The redirect_uri {params.get('redirect_uri')!r} is not registered for this app.")
    if params.get("response_type") != "code":
        return _error_page("Only response_type=code is supported.")
    orgs = [
        {"tenant_id": org.tenant_id, "name": org.name}
        for org in current_app.extensions["xero_sandbox"].orgs.values()
    ]
    html = render_template(
        "consent.html",
        error=None,
        orgs=orgs,
        app_name=app.name,
        scopes=(params.get("scope") or "").split(),
        params={k: params.get(k, "") for k in ("client_id", "redirect_uri", "scope", "state")},
    )
    return Response(html, mimetype="text/html")


@identity.post("/connect/authorize")
def authorize_submit() -> Response:
    registry, form = _registry(), request.form
    app = registry.app(form.get("client_id"))
    redirect_uri = form.get("redirect_uri")
    if app is None or redirect_uri is None or not registry.redirect_allowed(app.client_id, redirect_uri):
        return _error_page("Unknown app or redirect_uri; start again from the app.")
    state = form.get("state", "")
    separator = "&" if "?" in redirect_uri else "?"
    if form.get("action") != "allow":
        query = urlencode({"error": "access_denied", "state": state})
        return Response(status=302, headers={"Location": f"{redirect_uri}{separator}{query}"})
    orgs = current_app.extensions["xero_sandbox"].orgs
    tenant_id = form.get("tenant_id")
    if tenant_id is None or tenant_id not in orgs:
        return _error_page("Select your company before allowing access.")
    grant = registry.grant_for(app.client_id, DEMO_USER, form.get("scope") or SCOPES)
    connection = registry.connect(grant, tenant_id, orgs[tenant_id].name)
    code = registry.issue_code(app.client_id, redirect_uri, grant, connection.auth_event_id)
    query = urlencode({"code": code, "scope": grant.scope, "state": state})
    return Response(status=302, headers={"Location": f"{redirect_uri}{separator}{query}"})


def _client_credentials() -> tuple[str | None, str | None]:
    auth = request.authorization
    if auth is not None and auth.type == "basic":
        return auth.username, auth.password
    return request.form.get("client_id"), request.form.get("client_secret")


@identity.post("/connect/token")
def token() -> Response:
    registry = _registry()
    try:
        app = registry.check_client(*_client_credentials())
        grant_type = request.form.get("grant_type")
        if grant_type == "authorization_code":
            token_set = registry.exchange_code(
                app.client_id, request.form.get("code"), request.form.get("redirect_uri")
            )
        elif grant_type == "refresh_token":
            token_set = registry.refresh(app.client_id, request.form.get("refresh_token"))
        else:
            raise OAuthError("unsupported_grant_type")
    except OAuthError as exc:
        body = {"error": exc.code}
        if exc.description:
            body["error_description"] = exc.description
        status = 401 if exc.code == "invalid_client" else 400
        return Response(json.dumps(body), status=status, mimetype="application/json")
    response = jsonify(token_set)
    response.headers["Cache-Control"] = "no-store"
    return response


@identity.get("/connections")
@identity.get("/Connections")  # xero-python's IdentityApi spells it with a capital C
def connections() -> Response:
    grant: Grant = g.grant
    auth_event_id = request.args.get("authEventId")
    items = [
        c.to_json()
        for c in grant.connections.values()
        if auth_event_id is None or c.auth_event_id == auth_event_id
    ]
    return jsonify(items)


@identity.delete("/connections/<connection_id>")
@identity.delete("/Connections/<connection_id>")
def delete_connection(connection_id: str) -> Response:
    if not _registry().disconnect(g.grant, connection_id):
        return Response(status=404)
    return Response(status=204)
