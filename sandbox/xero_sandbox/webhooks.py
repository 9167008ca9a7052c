"""Xero webhooks from the sandbox: change events → signed payloads POSTed from a background thread.

Organisations call `listener(tenant_id)(category, event_type, resource_id)` after a change to an
invoice, contact or credit note. The event is queued (the API request never waits on delivery);
a daemon thread batches what is queued into one payload

    {"events": [{"resourceUrl", "resourceId", "eventDateUtc", "eventType", "eventCategory",
                 "tenantId", "tenantType": "ORGANISATION"}],
     "firstEventSequence", "lastEventSequence", "entropy"}

and POSTs it with `x-xero-signature: base64(HMAC-SHA256(key, raw body))`, retrying a few times on
a non-2xx answer or a connection error. Without a configured URL events are recorded, not sent.
`intent_to_receive()` reproduces Xero's check when a webhook is set up: one correctly signed and
one wrongly signed empty payload; a correct receiver answers 200 then 401.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import queue
import random
import string
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from xero_sandbox.demo_app import DEMO_WEBHOOK_KEY
from xero_sandbox.clock import Clock

RESOURCE_PATHS = {"INVOICE": "Invoices", "CONTACT": "Contacts", "CREDITNOTE": "CreditNotes"}
API_BASE = "https://api.xero.com/api.xro/2.0"  # Xero's resourceUrl always names real Xero
_ATTEMPTS = 3
_BACKOFF_SECONDS = (0.1, 0.3)
_MAX_EVENTS_PER_PAYLOAD = 100
_TIMEOUT_SECONDS = 5


def sign(key: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class Delivery:
    id: int
    url: str
    event_count: int
    first_sequence: int
    last_sequence: int
    attempts: int = 0
    status: int | None = None
    error: str | None = None
    delivered: bool = False
    kind: str = "events"  # events | intent-valid | intent-invalid

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass
class WebhookConfig:
    url: str | None
    key: str


class Webhooks:
    def __init__(self, clock: Clock, url: str | None = None, key: str = DEMO_WEBHOOK_KEY) -> None:
        self.clock = clock
        self.config = WebhookConfig(url, key)
        self._lock = threading.Lock()
        self._sequence = itertools.count(1)
        self._delivery_ids = itertools.count(1)
        self._queue: queue.Queue[dict | None] = queue.Queue()
        self._events: list[dict] = []
        self._deliveries: list[Delivery] = []
        self._rng = random.Random()
        self._thread: threading.Thread | None = None

    # -- configuration -------------------------------------------------------------------
    def configure(self, url: str | None, key: str | None = None) -> None:
        with self._lock:
            self.config = WebhookConfig(url, key or self.config.key)

    # -- producing events ----------------------------------------------------------------
    def listener(self, tenant_id: str):
        """The `on_change(category, event_type, resource_id)` callback for one organisation."""

        def on_change(category: str, event_type: str, resource_id: str) -> None:
            self.emit(tenant_id, category, event_type, resource_id)

        return on_change

    def emit(self, tenant_id: str, category: str, event_type: str, resource_id: str) -> None:
        event = {
            "resourceUrl": f"{API_BASE}/{RESOURCE_PATHS.get(category, category.title())}/{resource_id}",
            "resourceId": resource_id,
            "eventDateUtc": self.clock.now().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
            "eventType": event_type,
            "eventCategory": category,
            "tenantId": tenant_id,
            "tenantType": "ORGANISATION",
        }
        with self._lock:
            self._events.append(event)
            if not self.config.url:
                return
        self._ensure_thread()
        self._queue.put(event)

    # -- delivering ----------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                self._queue.task_done()
                return
            batch = [first]
            while len(batch) < _MAX_EVENTS_PER_PAYLOAD:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # stop after this batch
                    self._queue.task_done()
                    break
                batch.append(item)
            try:
                self._deliver(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _deliver(self, events: list[dict]) -> None:
        with self._lock:
            url, key = self.config.url, self.config.key
            first = next(self._sequence)
            last = first + len(events) - 1
            for _ in range(len(events) - 1):
                next(self._sequence)
        if not url:
            return
        payload = {
            "events": events,
            "firstEventSequence": first,
            "lastEventSequence": last,
            "entropy": self._entropy(),
        }
        delivery = Delivery(next(self._delivery_ids), url, len(events), first, last)
        with self._lock:
            self._deliveries.append(delivery)
        body = json.dumps(payload, separators=(",", ":")).encode()
        for attempt in range(_ATTEMPTS):
            delivery.attempts = attempt + 1
            delivery.status, delivery.error = _post(url, body, sign(key, body))
            if delivery.status is not None and 200 <= delivery.status < 300:
                delivery.delivered = True
                return
            if attempt < len(_BACKOFF_SECONDS):
                time.sleep(_BACKOFF_SECONDS[attempt])  # retry pacing in the delivery thread only

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far was delivered or given up (tests, shutdown)."""
        done = threading.Event()

        def waiter() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=waiter, daemon=True).start()
        return done.wait(timeout)

    def stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)

    def intent_to_receive(self) -> dict:
        """Xero's setup check: a good and a bad signature; a receiver must answer 200 then 401."""
        with self._lock:
            url, key = self.config.url, self.config.key
        if not url:
            return {"ok": False, "error": "no webhook url configured"}
        body = json.dumps(
            {"events": [], "firstEventSequence": 0, "lastEventSequence": 0, "entropy": self._entropy()},
            separators=(",", ":"),
        ).encode()
        valid_status, valid_error = _post(url, body, sign(key, body))
        wrong = sign(key + "-wrong", body)
        invalid_status, invalid_error = _post(url, body, wrong)
        for kind, status, error in (
            ("intent-valid", valid_status, valid_error),
            ("intent-invalid", invalid_status, invalid_error),
        ):
            with self._lock:
                self._deliveries.append(
                    Delivery(next(self._delivery_ids), url, 0, 0, 0, 1, status, error, status is not None, kind)
                )
        return {
            "ok": valid_status == 200 and invalid_status == 401,
            "valid_signature_status": valid_status,
            "invalid_signature_status": invalid_status,
        }

    # -- reading ---------------------------------------------------------------------------
    def events(self) -> list[dict]:
        with self._lock:
            return list(self._events)

    def deliveries(self) -> list[dict]:
        with self._lock:
            return [d.to_json() for d in self._deliveries]

    def _entropy(self) -> str:
        return "".join(self._rng.choice(string.ascii_uppercase) for _ in range(20))


def _post(url: str, body: bytes, signature: str) -> tuple[int | None, str | None]:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "x-xero-signature": signature},
    )
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT_SECONDS) as response:
            return response.status, None
    except urllib.error.HTTPError as exc:
        return exc.code, None
    except (urllib.error.URLError, OSError) as exc:
        return None, f"{type(exc).__name__}: {exc}"
