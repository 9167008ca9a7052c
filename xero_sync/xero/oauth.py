"""The OAuth2 app: authorize URL, code exchange, refresh, connections, disconnect.

The token endpoint is called with a plain form POST through the SDK's connection pool (not the
SDK's `TokenApi`, whose URLs are process-wide class attributes: two endpoints in one process, e.g.
the sandbox in tests and real Xero, would overwrite each other). `/connections` goes through
xero-python's `IdentityApi` with a base URL override.
"""

from __future__ import annotations

import base64
import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from xero_python.identity import IdentityApi

from xero_sync.config import SCOPES, XeroEndpoints
from xero_sync.core.errors import MalformedXeroPayload, NeedsReauth, XeroError, XeroValidationError
from xero_sync.xero.parse import loads, parse_datetime
from xero_sync.xero.retry import HttpAnswer, RetryPolicy
from xero_sync.core.tokens import TokenSet
from xero_sync.xero.transport import (
    Timeout,
    call_sdk,
    check_timeout,
    make_api_client,
    sdk_token_dict,
    send_raw,
)


@dataclass(frozen=True)
class Connection:
    """One entry of GET /connections: an organisation (tenant) this user connected."""

    id: str  # the connection id: what DELETE /connections/{id} takes
    tenant_id: str
    tenant_name: str
    tenant_type: str
    created_at: dt.datetime | None
    auth_event_id: str | None = None  # the consent that created or last renewed it
    updated_at: dt.datetime | None = None


class OAuthApp:
    def __init__(
        self,
        endpoints: XeroEndpoints,
        client_id: str,
        client_secret: str,
        timeout: Timeout = (5, 30),
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoints = endpoints
        self.client_id = client_id
        self._client_secret = client_secret
        self.timeout = check_timeout(timeout)
        self.clock = clock
        self._policy = RetryPolicy(None, None, sleep=sleep, clock=clock)
        self._api_client = make_api_client()
        self._lock = threading.Lock()
        self.token_calls = 0

    def __repr__(self) -> str:
        return f"OAuthApp(client_id={self.client_id!r}, token_url={self.endpoints.token_url!r})"

    # --- authorization code flow ----------------------------------------------------------------

    def authorize_url(self, state: str, redirect_uri: str, scope: str = SCOPES) -> str:
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scope": scope,
                "state": state,
            }
        )
        return f"{self.endpoints.authorize_url}?{query}"

    def exchange_code(self, code: str, redirect_uri: str) -> TokenSet:
        data = self._token_call(
            "exchange_code",
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
        )
        return self._token_set(data, None)

    def refresh(self, token_set: TokenSet) -> TokenSet:
        """Rotate the pair; NeedsReauth on invalid_grant (revoked, expired or reused token)."""
        data = self._token_call(
            "refresh_token",
            {"grant_type": "refresh_token", "refresh_token": token_set.refresh_token},
        )
        return self._token_set(data, token_set)

    def _token_set(self, data: dict, previous: TokenSet | None) -> TokenSet:
        try:
            return TokenSet.from_token_response(data, self.clock(), previous=previous)
        except ValueError as exc:
            raise MalformedXeroPayload("TokenResponse", None, "access_token/refresh_token", str(exc)) from None

    def _token_call(self, call: str, form: dict[str, str]) -> dict:
        basic = base64.b64encode(f"{self.client_id}:{self._client_secret}".encode()).decode()
        body = urlencode(form).encode()

        def send() -> HttpAnswer:
            with self._lock:
                self.token_calls += 1
            return send_raw(
                self._api_client,
                "POST",
                self.endpoints.token_url,
                headers={
                    "Authorization": f"Basic {basic}",
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Accept": "application/json",
                },
                body=body,
                timeout=self.timeout,
            )

        # Retrying a token call after a lost answer is safe: Xero accepts the previous refresh
        # token for 30 minutes and returns the same new pair.
        try:
            answer = self._policy.run(f"POST token ({call})", send)
        except XeroValidationError as exc:
            if any("invalid_grant" in m for m in exc.messages):
                raise NeedsReauth(
                    "Xero refused the refresh token (invalid_grant); the partner must reconnect",
                    call=f"POST token ({call})", status=400, xero_message="invalid_grant",
                ) from None
            raise
        except NeedsReauth:  # 401 from the token endpoint: client credentials refused
            raise XeroError("Xero refused the app's client credentials", call=f"POST token ({call})",
                            status=401) from None
        try:
            data = loads(answer.body)
        except ValueError:
            raise MalformedXeroPayload("TokenResponse", None, "<body>", "not JSON") from None
        if not isinstance(data, dict):
            raise MalformedXeroPayload("TokenResponse", None, "<body>", "not an object")
        return data

    # --- connections ------------------------------------------------------------------------------

    def _identity(self, access_token: str) -> IdentityApi:
        client = make_api_client(lambda: sdk_token_dict(access_token, ""))
        base = self.endpoints.connections_url.rstrip("/")
        if base.lower().endswith("/connections"):
            base = base[: -len("/connections")]
        return IdentityApi(client, base_url=base)

    def connections(self, access_token: str, auth_event_id: str | None = None) -> list[Connection]:
        """GET /connections; with `auth_event_id`, only those that consent created or renewed."""
        api = self._identity(access_token)
        kwargs = {"auth_event_id": auth_event_id} if auth_event_id else {}
        answer = self._policy.run(
            "GET /connections", lambda: call_sdk(api.get_connections, timeout=self.timeout, **kwargs)
        )
        try:
            items = loads(answer.body)
        except ValueError:
            raise MalformedXeroPayload("Connection", None, "<body>", "not JSON") from None
        if not isinstance(items, list):
            raise MalformedXeroPayload("Connection", None, "<body>", "expected a list")
        result = []
        for item in items:
            cid = item.get("id") if isinstance(item, dict) else None
            if not cid or not item.get("tenantId"):
                raise MalformedXeroPayload("Connection", cid, "id" if not cid else "tenantId", "is missing")
            created, updated = item.get("createdDateUtc"), item.get("updatedDateUtc")
            result.append(
                Connection(
                    id=cid,
                    tenant_id=item["tenantId"],
                    tenant_name=item.get("tenantName") or "",
                    tenant_type=item.get("tenantType") or "ORGANISATION",
                    created_at=parse_datetime(created) if created else None,
                    auth_event_id=item.get("authEventId") or None,
                    updated_at=parse_datetime(updated) if updated else None,
                )
            )
        if auth_event_id:  # whether or not the server honoured the filter
            result = [c for c in result if c.auth_event_id == auth_event_id]
        return result

    def disconnect(self, access_token: str, connection_id: str) -> None:
        """DELETE /connections/{id} (the connection id, not the tenant id)."""
        api = self._identity(access_token)
        self._policy.run(
            "DELETE /connections",
            lambda: call_sdk(api.delete_connection, connection_id, timeout=self.timeout),
        )
