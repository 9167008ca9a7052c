"""OAuth2 token sets and the store protocol that serialises refreshes per token set."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

# Refresh this long before expiry (the SDK uses the same margin).
REFRESH_MARGIN_SECONDS = 60


def _mask(token: str | None) -> str:
    if not token:
        return "None"
    return f"<{len(token)} chars>"


@dataclass(frozen=True)
class TokenSet:
    """One user's token set for the app. repr/str never show the tokens themselves."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: dt.datetime
    scope: str
    token_type: str = "Bearer"
    id_token: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return (
            f"TokenSet(access_token={_mask(self.access_token)}, "
            f"refresh_token={_mask(self.refresh_token)}, expires_at={self.expires_at.isoformat()}, "
            f"scope={self.scope!r}, token_type={self.token_type!r}, id_token={_mask(self.id_token)})"
        )

    __str__ = __repr__

    @property
    def auth_event_id(self) -> str | None:
        """The consent behind this token (claim `authentication_event_id`), if it says."""
        value = access_token_claims(self.access_token).get("authentication_event_id")
        return value if isinstance(value, str) and value else None

    def expires_within(self, seconds: float, now: float) -> bool:
        """True if the access token expires within `seconds` of `now` (epoch seconds)."""
        return self.expires_at.timestamp() - now <= seconds

    @classmethod
    def from_token_response(
        cls, data: dict, now: float, *, previous: "TokenSet | None" = None
    ) -> "TokenSet":
        """Build from a token-endpoint JSON answer (`expires_in` seconds from `now`)."""
        try:
            access = data["access_token"]
            refresh = data.get("refresh_token") or (previous.refresh_token if previous else None)
            expires_in = int(data.get("expires_in", 1800))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"token response lacks a usable field: {exc.__class__.__name__}") from None
        if not refresh:
            raise ValueError("token response has no refresh_token (is offline_access granted?)")
        return cls(
            access_token=access,
            refresh_token=refresh,
            expires_at=dt.datetime.fromtimestamp(now + expires_in, tz=dt.timezone.utc),
            scope=data.get("scope") or (previous.scope if previous else ""),
            token_type=data.get("token_type", "Bearer"),
            id_token=data.get("id_token"),
        )


def access_token_claims(access_token: str) -> dict:
    """The claims of a JWT access token, read without verifying the signature.

    Only for choosing among what Xero itself returns for this token (e.g. which connections
    this consent created); Xero verifies the token on every call. Not a JWT: {}.
    """
    parts = access_token.split(".")
    if len(parts) != 3:
        return {}
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (binascii.Error, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


Refresher = Callable[[TokenSet], TokenSet]


class TokenStore(Protocol):
    def load(self, token_set_id: int) -> TokenSet: ...

    def save_new(self, token_set: TokenSet) -> int: ...

    def refresh(self, token_set_id: int, refresher: Refresher, *, force: bool = False) -> TokenSet:
        """Refresh under a row lock: only one refresher per token set, even across processes."""
        ...
