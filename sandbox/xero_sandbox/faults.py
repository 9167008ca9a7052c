"""Injected failures for API calls: what Xero (or the network to it) does on a bad day.

A fault matches a tenant (or every tenant when `tenant_id` is None), optionally a method and a path
prefix (full, e.g. `/api.xro/2.0/Payments`, or relative to the API, e.g. `/Payments`; case-
insensitive), and fires for the next `count` matching calls or with probability `rate` (a seeded
RNG, so a run is reproducible). Kinds:

- `rate_limit`: 429 with `X-Rate-Limit-Problem: <problem>` (minute|day|concurrent|appminute) and
  `Retry-After: <retry_after>`;
- `server_error`: 500; `unavailable`: 503 (Xero's maintenance / overload answer);
- `slow`: wait `delay` seconds before handling. On a frozen clock this is a real sleep (the point
  is the HTTP client's read timeout), interrupted early when faults are cleared;
- `lost_response`: the request is handled (a write is applied and, with an Idempotency-Key,
  remembered) and then the answer is lost. `mode="drop"` (default) closes the socket without a
  response: xero-python (urllib3, retries disabled) raises `urllib3.exceptions.ProtocolError`
  ("Connection aborted", RemoteDisconnected) — a transport error the client cannot tell from a
  read timeout, which is the case to test. `mode="504"` answers 504 Gateway Timeout instead
  (`HTTPStatusException` with status 504 in the SDK).
- `applied_late`: the answer is lost at once (socket closed) and the write is applied `delay`
  seconds later on the sandbox clock; meanwhile its Idempotency-Key is "in progress" (409 to a
  retry). See timing.py.
- `read_lag`: the payments / bank transactions the matching write creates are invisible to GET
  for `delay` seconds on the sandbox clock. It fires beside any other fault on the same call.
"""

from __future__ import annotations

import itertools
import random
import threading
from dataclasses import asdict, dataclass

KINDS = {"rate_limit", "server_error", "unavailable", "slow", "lost_response", "applied_late",
         "read_lag"}
SIDE_KINDS = frozenset({"read_lag"})  # fire beside the one main fault of a call
API_PREFIX = "/api.xro/2.0"


class FaultError(ValueError):
    """A fault definition is malformed; the message says which field."""


@dataclass
class Fault:
    id: int
    kind: str
    tenant_id: str | None = None
    count: int | None = None
    rate: float | None = None
    method: str | None = None
    path_prefix: str | None = None
    problem: str = "minute"
    retry_after: int = 60
    delay: float = 0.0
    mode: str = "drop"
    fired: int = 0

    def matches(self, tenant_id: str | None, method: str, path: str) -> bool:
        if self.tenant_id is not None and self.tenant_id != tenant_id:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.path_prefix:
            prefix = self.path_prefix.lower()
            lowered = path.lower()
            relative = lowered[len(API_PREFIX) :] if lowered.startswith(API_PREFIX.lower()) else lowered
            if not (lowered.startswith(prefix) or relative.startswith(prefix)):
                return False
        return True

    def to_json(self) -> dict:
        return asdict(self)


def parse_fault(body: dict, fault_id: int) -> Fault:
    kind = body.get("kind")
    if kind not in KINDS:
        raise FaultError(f"fault kind {kind!r} is not one of {sorted(KINDS)}")
    count, rate = body.get("count"), body.get("rate")
    if count is None and rate is None:
        count = 1
    if count is not None and (not isinstance(count, int) or count < 1):
        raise FaultError(f"fault count {count!r} must be a positive integer")
    if rate is not None and not (isinstance(rate, (int, float)) and 0 <= rate <= 1):
        raise FaultError(f"fault rate {rate!r} must be a probability between 0 and 1")
    problem = body.get("problem", "minute")
    if problem not in {"minute", "day", "concurrent", "appminute"}:
        raise FaultError(f"rate_limit problem {problem!r} must be minute, day, concurrent or appminute")
    mode = body.get("mode", "drop")
    if mode not in {"drop", "504"}:
        raise FaultError(f"lost_response mode {mode!r} must be 'drop' or '504'")
    try:
        return Fault(
            id=fault_id,
            kind=kind,
            tenant_id=body.get("tenant_id"),
            count=count,
            rate=float(rate) if rate is not None else None,
            method=body.get("method"),
            path_prefix=body.get("path_prefix"),
            problem=problem,
            retry_after=int(body.get("retry_after", 60 if problem != "day" else 3600)),
            delay=float(body.get("delay", 0.0)),
            mode=mode,
        )
    except (TypeError, ValueError) as exc:
        raise FaultError(f"fault field has the wrong type: {exc}") from exc


class FaultInjector:
    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._rng = random.Random(seed)
        self.cleared = threading.Event()  # set by clear(): interrupts `slow` waits

    def add(self, body: dict) -> Fault:
        with self._lock:
            fault = parse_fault(body, next(self._ids))
            self._faults.append(fault)
            self.cleared = threading.Event()
            return fault

    def clear(self, tenant_id: str | None = None) -> int:
        with self._lock:
            keep = [f for f in self._faults if tenant_id is not None and f.tenant_id != tenant_id]
            removed = len(self._faults) - len(keep)
            self._faults = keep
            self.cleared.set()
            return removed

    def list(self) -> list[dict]:
        with self._lock:
            return [f.to_json() for f in self._faults]

    def take(self, tenant_id: str | None, method: str, path: str, *, named_only: bool = False,
             side: bool = False) -> Fault | None:
        """The fault firing for this call, if any (count-based ones are used up as they fire).

        `named_only`: only faults whose `path_prefix` names this path (the token endpoint).
        `side=True` takes only SIDE_KINDS faults, `side=False` only the others.
        """
        with self._lock:
            for fault in list(self._faults):
                if named_only and not fault.path_prefix:
                    continue
                if (fault.kind in SIDE_KINDS) != side:
                    continue
                if not fault.matches(tenant_id, method, path):
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                elif self._rng.random() >= (fault.rate or 0.0):
                    continue
                fault.fired += 1
                return fault
        return None

    def wait_slow(self, seconds: float) -> None:
        """A real wait, capped at `seconds`, cut short when the faults are cleared."""
        self.cleared.wait(seconds)
