"""Server-side pieces of the OAuth dance: the `state` in the session and consents awaiting *Confirm*.

The `state` is random, bound to the partner's session, single use and valid for 10 minutes. The
token set Xero returned for the code is held here, in memory, under a random id (never in the
cookie) until the partner confirms or cancels; it expires after 10 minutes. One web process is
assumed (the embedded setup); several processes behind a balancer would need sticky sessions or
this moved into the database, encrypted.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass

from xero_sync.connect.flow import Consent

STATE_KEY = "oauth_state"
STATE_TTL_SECONDS = 600
CONSENT_TTL_SECONDS = 600


def new_state(session: MutableMapping, now: float | None = None) -> str:
    """A fresh `state` bound to this session (replaces any earlier one)."""
    state = secrets.token_urlsafe(32)
    session[STATE_KEY] = {"value": state, "expires_at": (now or time.time()) + STATE_TTL_SECONDS}
    return state


def take_state(session: MutableMapping, received: str | None, now: float | None = None) -> bool:
    """True if `received` is this session's live state; the state is used up either way."""
    expected = session.pop(STATE_KEY, None)
    if not isinstance(expected, dict) or not received:
        return False
    value = str(expected.get("value", ""))
    fresh = float(expected.get("expires_at", 0)) > (now or time.time())
    return fresh and hmac.compare_digest(value.encode(), received.encode())


@dataclass(frozen=True)
class PendingConsent:
    partner_id: str
    consent: Consent
    redirect_uri: str
    expires_at: float


class PendingConsents:
    """Consents waiting for the partner's *Confirm*, by random id, with a TTL."""

    def __init__(self, clock: Callable[[], float] = time.time, ttl: float = CONSENT_TTL_SECONDS) -> None:
        self._clock = clock
        self._ttl = ttl
        self._lock = threading.Lock()
        self._items: dict[str, PendingConsent] = {}

    def put(self, partner_id: str, consent: Consent, redirect_uri: str) -> str:
        consent_id = secrets.token_urlsafe(24)
        now = self._clock()
        with self._lock:
            self._purge(now)
            self._items[consent_id] = PendingConsent(partner_id, consent, redirect_uri, now + self._ttl)
        return consent_id

    def peek(self, consent_id: str, partner_id: str) -> PendingConsent | None:
        """The live consent if it belongs to `partner_id` (another partner's id finds nothing)."""
        with self._lock:
            self._purge(self._clock())
            item = self._items.get(consent_id)
        return item if item is not None and item.partner_id == partner_id else None

    def take(self, consent_id: str, partner_id: str) -> PendingConsent | None:
        """Like `peek`, and removes it: a consent is confirmed (or cancelled) once."""
        with self._lock:
            self._purge(self._clock())
            item = self._items.get(consent_id)
            if item is None or item.partner_id != partner_id:
                return None
            del self._items[consent_id]
            return item

    def __len__(self) -> int:
        with self._lock:
            self._purge(self._clock())
            return len(self._items)

    def _purge(self, now: float) -> None:
        for key in [k for k, v in self._items.items() if v.expires_at <= now]:
            del self._items[key]
