"""Xero webhooks: POST /webhooks/xero.

Xero's rules (docs/xero-api-notes.md section 8): `x-xero-signature` is base64(HMAC-SHA256(webhook key, raw body));
answer 200 with an empty body and no cookies when it matches, 401 when it does not, within 5 s.
Intent-to-receive payloads (`"events": []`) pass the same check. Valid events are written to
`webhook_events` in one insert before answering; `sensors.webhooks.xero_webhook_sensor` turns them
into targeted syncs. The session is never touched here, so no cookie is ever set.

Bounds (see `platform.webhook_inbox`): a body with more than `MAX_EVENTS_PER_BODY` events is
refused with 413; replays store nothing new; a flooding tenant's events collapse; unknown tenants'
events are purged after a while. When the store is locked for over 2 s the answer is 503 (within
Xero's 5 s) and nothing is stored: Xero redelivers, and the dedupe key makes that safe. We do not
spool in memory: an event acknowledged with 200 must already be durable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time

from flask import Blueprint, Response, current_app, request

from xero_sync.store.webhook_inbox import StoreBusy, dedupe_key, store_events
from xero_sync.web.json_body import JsonRefused, load_json
from xero_sync.xero.parse import parse_datetime

log = logging.getLogger(__name__)

blueprint = Blueprint("webhooks", __name__)

_REQUIRED = ("tenantId", "eventCategory", "eventType", "resourceId", "eventDateUtc")
_MAX_LENGTHS = {"tenantId": 64, "eventCategory": 32, "eventType": 32, "resourceId": 64}
MAX_EVENTS_PER_BODY = 500  # Xero batches a few dozen at most; more is not Xero
PURGE_EVERY_SECONDS = 600  # unknown tenants' old events go at most this often per process


class TooManyEvents(ValueError):
    """A correctly signed body with more events than MAX_EVENTS_PER_BODY."""


class MalformedWebhook(ValueError):
    """A correctly signed payload we cannot read; the message says what is wrong."""


def signature(key: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def signature_valid(key: str, body: bytes, header: str | None) -> bool:
    if not header:
        return False
    return hmac.compare_digest(signature(key, body).encode(), header.strip().encode())


def event_rows(body: bytes) -> list[dict]:
    """The `webhook_events` rows for a payload; MalformedWebhook if it is not Xero's shape."""
    try:
        payload = load_json(body)
    except JsonRefused as exc:
        raise MalformedWebhook(str(exc)) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise MalformedWebhook('body must be an object with an "events" list')
    if len(payload["events"]) > MAX_EVENTS_PER_BODY:
        raise TooManyEvents(f"{len(payload['events'])} events in one body (at most {MAX_EVENTS_PER_BODY})")
    rows = []
    for i, event in enumerate(payload["events"]):
        if not isinstance(event, dict):
            raise MalformedWebhook(f"events[{i}] is not an object")
        missing = [k for k in _REQUIRED if not isinstance(event.get(k), str) or not event.get(k)]
        if missing:
            raise MalformedWebhook(f"events[{i}] lacks {', '.join(missing)}")
        too_long = [k for k, n in _MAX_LENGTHS.items() if len(event[k]) > n]
        if too_long:
            raise MalformedWebhook(f"events[{i}] has over-long {', '.join(too_long)}")
        try:
            when = parse_datetime(event["eventDateUtc"])
        except ValueError:
            raise MalformedWebhook(f"events[{i}].eventDateUtc {event['eventDateUtc']!r} is not a date") from None
        category, event_type = event["eventCategory"].upper(), event["eventType"].upper()
        rows.append({
            "tenant_id": event["tenantId"],
            "category": category,
            "event_type": event_type,
            "resource_id": event["resourceId"],
            "event_date": when,
            "dedupe_key": dedupe_key(event["tenantId"], category, event_type, event["resourceId"],
                                     event["eventDateUtc"]),
        })
    return rows


@blueprint.post("/webhooks/xero")
def receive() -> Response:
    from xero_sync.web.app import EXTENSION

    state = current_app.extensions[EXTENSION]
    body = request.get_data(cache=False)
    key = state.settings.webhook_key  # None in real mode without XERO_WEBHOOK_KEY: refuse everything
    if not key or not signature_valid(key, body, request.headers.get("x-xero-signature")):
        log.warning("webhook refused: x-xero-signature does not match the body (%d bytes)", len(body))
        return Response(status=401)
    try:
        rows = event_rows(body)
    except TooManyEvents as exc:
        log.error("webhook refused with 413: %s", exc)
        return Response(status=413)
    except MalformedWebhook as exc:
        log.error("webhook refused with 400: correctly signed but malformed: %s", exc)
        return Response(status=400)
    if not rows:  # intent to receive: nothing to store
        return Response(status=200)
    now = time.monotonic()
    purge = now - state.webhook_purged_at >= PURGE_EVERY_SECONDS
    try:
        stored, collapsed = store_events(state.engine, rows, purge=purge)
    except StoreBusy as exc:
        log.warning("webhook answered 503 (Xero will redeliver): %s; %d event(s) not stored yet", exc, len(rows))
        return Response(status=503, headers={"Retry-After": "60"})
    if purge:
        state.webhook_purged_at = now
    log.info("webhook stored %d new event(s) of %d%s", stored, len(rows),
             f"; {collapsed} collapsed (tenant over its bound)" if collapsed else "")
    return Response(status=200)
