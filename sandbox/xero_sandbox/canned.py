"""Canned answers: a test tells the sandbox to answer the next matching API calls with a given
status and raw body, as a misbehaving Xero would (a record with an object where a GUID belongs,
`NaN` money, an over-stated `pageCount`, a 403 for a missing scope).

A canned answer is served after authentication and rate limiting (so it counts like any call and
shows in the request log) and changes no state. Bodies are served byte for byte: a string is sent
as is (so it may be invalid JSON or hold `NaN`), anything else is JSON-encoded.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any


class CannedError(ValueError):
    """A control-API request for a canned answer that cannot be served."""


@dataclass
class Canned:
    id: int
    status: int
    body: bytes
    content_type: str
    tenant_id: str | None
    method: str | None
    path_prefix: str
    count: int  # answers left; -1 = until cleared

    def to_json(self) -> dict:
        return {"id": self.id, "status": self.status, "tenant_id": self.tenant_id,
                "method": self.method, "path_prefix": self.path_prefix, "count": self.count,
                "content_type": self.content_type, "body": self.body.decode("utf-8", "replace")}


class CannedAnswers:
    """The queue of canned answers; the first match answers and is used up (per `count`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Canned] = []
        self._next = 1

    def add(self, spec: Any) -> Canned:
        if not isinstance(spec, dict):
            raise CannedError("body must be a JSON object")
        status, count = spec.get("status", 200), spec.get("count", 1)
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise CannedError('"status" must be an HTTP status (100..599)')
        if not isinstance(count, int) or isinstance(count, bool) or count == 0 or count < -1:
            raise CannedError('"count" must be a positive integer or -1 (until cleared)')
        if "body" not in spec:
            raise CannedError('body needs "body" (a string served as is, or JSON)')
        raw = spec["body"]
        body = raw.encode() if isinstance(raw, str) else json.dumps(raw).encode()
        path_prefix = spec.get("path_prefix", "/api.xro/2.0/")
        method = spec.get("method")
        for name, value in (("path_prefix", path_prefix), ("method", method),
                            ("tenant_id", spec.get("tenant_id"))):
            if value is not None and not isinstance(value, str):
                raise CannedError(f'"{name}" must be a string')
        with self._lock:
            item = Canned(self._next, status, body, spec.get("content_type") or "application/json",
                          spec.get("tenant_id"), method.upper() if method else None, path_prefix,
                          count)
            self._next += 1
            self._items.append(item)
            return item

    def take(self, tenant_id: str, method: str, path: str) -> Canned | None:
        with self._lock:
            for item in self._items:
                if ((item.tenant_id is None or item.tenant_id == tenant_id)
                        and (item.method is None or item.method == method)
                        and path.startswith(item.path_prefix)):
                    if item.count > 0:
                        item.count -= 1
                        if item.count == 0:
                            self._items.remove(item)
                    return item
            return None

    def list(self) -> list[dict]:
        with self._lock:
            return [item.to_json() for item in self._items]

    def clear(self) -> int:
        with self._lock:
            removed = len(self._items)
            self._items.clear()
            return removed
