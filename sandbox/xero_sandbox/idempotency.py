"""Xero's `Idempotency-Key` on POST/PUT, per tenant, remembered 6 minutes on the sandbox clock
from the response it caches (Xero: "the first response is cached for about 6 minutes").

- a key longer than 128 characters → 400;
- the same key with the same method, path, query and body within the window → the first response
  (status, body, headers) replayed without running the handler again — errors included;
- the same key with a different request → 400 "Idempotency Key ... is used with a different
  request".
The key is registered the moment the request arrives (before any slowness): a second request
with it arriving while the first is still being handled (slow, or `applied_late`) is answered at
once as "in progress" (409, see app.py), never run a second time. Xero's exact answer here is not
documented (docs/xero-api-notes.md section 4); 409 Conflict is what the client treats as "outcome
unknown, ask again later".

The window runs from the response, not from the arrival: a request processed for longer than the
window (slow, or applied late while the test moves the clock on) is remembered for the window
after it answered, as Xero caches its first response. Tests make Xero forget keys early with
`window_seconds` (control API `POST /_sandbox/idempotency {"window_seconds": N}`) or at once
(`POST /_sandbox/idempotency/forget`): a pusher must not rely on the key alone.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field

from xero_sandbox.clock import Clock

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
    answered: float | None = None  # when the cached response was stored (the window's start)
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
            entry.answered = self.clock.time()
            entry.done.set()

    def set_window(self, seconds: float) -> None:
        """How long a key is remembered after its response (tests: a Xero that forgets early)."""
        if not seconds >= 0:
            raise ValueError(f"window_seconds {seconds!r} must be a number >= 0")
        with self._lock:
            self.window_seconds = float(seconds)

    def forget_answered(self, tenant_id: str | None = None) -> int:
        """Forget every key whose request has answered (requests in progress keep theirs)."""
        with self._lock:
            gone = [k for k, e in self._entries.items()
                    if e.done.is_set() and (tenant_id is None or k[0] == tenant_id)]
            for k in gone:
                del self._entries[k]
        return len(gone)

    def abandon(self, tenant_id: str, key: str) -> None:
        """The request never produced a response (crash): forget the key so a retry can run."""
        with self._lock:
            entry = self._entries.pop((tenant_id, key), None)
        if entry is not None:
            entry.done.set()

    def _expire(self, now: float) -> None:
        # A request still being processed keeps its key (a late write must not run twice); an
        # answered one keeps it for the window after its answer.
        stale = [k for k, e in self._entries.items()
                 if e.done.is_set() and now - (e.answered if e.answered is not None else e.created)
                 >= self.window_seconds]
        for k in stale:
            del self._entries[k]
