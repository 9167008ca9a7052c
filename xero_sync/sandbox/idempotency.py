"""Xero's `Idempotency-Key` on POST/PUT, per tenant, remembered 6 minutes on the sandbox clock.

- a key longer than 128 characters → 400;
- the same key with the same method, path, query and body within the window → the first response
  (status, body, headers) replayed without running the handler again — errors included;
- the same key with a different request → 400 "Idempotency Key ... is used with a different
  request".
The key is registered the moment the request arrives (before any slowness): a second request
with it arriving while the first is still being handled (slow, or `applied_late`) is answered at
once as "in progress" (409, see app.py), never run a second time. Xero's exact answer here is not
documented (XERO_API_NOTES.md section 4); 409 Conflict is what the client treats as "outcome
unknown, ask again later".
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field

from xero_sync.sandbox.clock import Clock

MAX_KEY_LENGTH = 128
WINDOW_SECONDS = 6 * 60


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: bytes
    headers: list[tuple[str, str]]


@dataclass
class _Entry:
    fingerprint: str
    created: float
    done: threading.Event = field(default_factory=threading.Event)
    response: StoredResponse | None = None


@dataclass(frozen=True)
class Lookup:
    """What to do with a request carrying a key: run it (`fresh`), replay, or refuse (`error`)."""

    fresh: bool = False
    replay: StoredResponse | None = None
    error: str | None = None
    in_progress: str | None = None


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    digest = hashlib.sha256(body).hexdigest()
    return f"{method.upper()} {path} ?{query} #{digest}"


class IdempotencyStore:
    def __init__(self, clock: Clock, window_seconds: float = WINDOW_SECONDS) -> None:
        self.clock = clock
        self.window_seconds = window_seconds
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], _Entry] = {}

    def begin(self, tenant_id: str, key: str, print_: str) -> Lookup:
        if len(key) > MAX_KEY_LENGTH:
            return Lookup(error=f"Idempotency Key {key[:20]}... is longer than {MAX_KEY_LENGTH} characters")
        now = self.clock.time()
        with self._lock:
            self._expire(now)
            entry = self._entries.get((tenant_id, key))
            if entry is None:
                self._entries[(tenant_id, key)] = _Entry(print_, now)
                return Lookup(fresh=True)
        if entry.fingerprint != print_:
            return Lookup(error=f"Idempotency Key {key} is used with a different request")
        if not entry.done.is_set() or entry.response is None:
            return Lookup(in_progress=f"Idempotency Key {key} is in use by a request still being processed")
        return Lookup(replay=entry.response)

    def finish(self, tenant_id: str, key: str, response: StoredResponse) -> None:
        with self._lock:
            entry = self._entries.get((tenant_id, key))
        if entry is not None:
            entry.response = response
            entry.done.set()

    def abandon(self, tenant_id: str, key: str) -> None:
        """The request never produced a response (crash): forget the key so a retry can run."""
        with self._lock:
            entry = self._entries.pop((tenant_id, key), None)
        if entry is not None:
            entry.done.set()

    def _expire(self, now: float) -> None:
        # A request still being processed keeps its key (a late write must not run twice).
        stale = [k for k, e in self._entries.items()
                 if now - e.created >= self.window_seconds and e.done.is_set()]
        for k in stale:
            del self._entries[k]
