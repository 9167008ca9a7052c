"""Timing faults that need state beyond one request: writes applied late, and reads that lag.

- `applied_late` (faults.py): the write is accepted, its Idempotency-Key registered, the answer
  lost (the socket closed), and the write itself runs `delay` seconds later on the sandbox clock.
  Until then the key is "in progress": a retry with it gets 409, never a second write. Due writes
  run on the next request the sandbox sees (any request, control API included) or when
  `POST /_sandbox/clock/advance` moves the clock; `Sandbox.deferred.run_due()` does it in-process.
- `read_lag` (faults.py): payments or bank transactions created by the matching write stay
  invisible to GET for `delay` seconds on the sandbox clock (Xero's read-after-write lag).
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass

from xero_sandbox.clock import Clock

# The internal replay of a deferred write carries this header with the sandbox's own secret, so
# no outside caller can skip the gate with it.
DEFERRED_HEADER = "X-Sandbox-Deferred"
_ID_FIELDS = {"Payments": "PaymentID", "BankTransactions": "BankTransactionID"}


@dataclass(frozen=True)
class DeferredWrite:
    due: float
    tenant_id: str
    method: str
    path: str
    query: str
    body: bytes
    idempotency_key: str | None
    read_lag: float


class DeferredWrites:
    """Writes accepted now and applied later (`applied_late`)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.secret = secrets.token_hex(16)
        self._lock = threading.Lock()
        self._jobs: list[DeferredWrite] = []
        self.applier: Callable[[DeferredWrite], None] | None = None  # set by create_app

    def add(self, job: DeferredWrite) -> None:
        with self._lock:
            self._jobs.append(job)

    def pending(self) -> int:
        with self._lock:
            return len(self._jobs)

    def run_due(self) -> int:
        """Apply every deferred write whose time has come; returns how many ran."""
        now = self.clock.time()
        with self._lock:
            due = [j for j in self._jobs if j.due <= now]
            self._jobs = [j for j in self._jobs if j.due > now]
        for job in sorted(due, key=lambda j: j.due):
            if self.applier is not None:
                self.applier(job)
        return len(due)


class ReadLag:
    """Records hidden from GET until a time on the sandbox clock, per tenant."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._hidden: dict[str, dict[str, float]] = {}

    def hide_created(self, tenant_id: str, body: bytes, seconds: float) -> int:
        """Hide every payment / bank transaction in a write's answer for `seconds`."""
        try:
            data = json.loads(body or b"null")
        except ValueError:
            return 0
        until = self.clock.time() + seconds
        ids = [el.get(id_field) for key, id_field in _ID_FIELDS.items()
               for el in (data.get(key) or [] if isinstance(data, dict) else []) if isinstance(el, dict)]
        with self._lock:
            hidden = self._hidden.setdefault(tenant_id, {})
            for record_id in filter(None, ids):
                hidden[str(record_id)] = until
        return len(ids)

    def any_hidden(self, tenant_id: str) -> bool:
        """Cheap check before touching a response body (most reads have nothing hidden)."""
        return bool(self._hidden.get(tenant_id))

    def _active(self, tenant_id: str) -> set[str]:
        now = self.clock.time()
        with self._lock:
            hidden = self._hidden.get(tenant_id, {})
            for record_id in [k for k, until in hidden.items() if until <= now]:
                del hidden[record_id]
            return set(hidden)

    def filter_read(self, tenant_id: str, body: bytes, *, by_id: bool = False) -> bytes | None:
        """The GET answer without hidden records (`body` itself when none is hidden); None when
        the GET named one record by its id (`by_id`) and it is hidden: the caller answers 404."""
        active = self._active(tenant_id)
        if not active:
            return body
        try:
            data = json.loads(body or b"null")
        except ValueError:
            return body
        if not isinstance(data, dict):
            return body
        changed = False
        for key, id_field in _ID_FIELDS.items():
            items = data.get(key)
            if not isinstance(items, list):
                continue
            kept = [el for el in items if not (isinstance(el, dict) and el.get(id_field) in active)]
            if by_id and items and not kept:
                return None
            if len(kept) != len(items):
                changed = True
                data[key] = kept
        return json.dumps(data).encode() if changed else body
