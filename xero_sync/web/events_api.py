"""The events API over HTTP: POST /api/partners/<partner_id>/events/<event> with a JSON body.

For Alternative's own services, not browsers: authenticated by a service token
(`Authorization: Bearer <XERO_SYNC_SERVICE_TOKEN>`, compared in constant time), no session and
no cookie, hence no CSRF form token (these are the only routes without one). Without a configured
token (or with one shorter than MIN_TOKEN_LENGTH) every call answers 503 and nothing is accepted.
The token is never logged or echoed.

Answers: 201 {"event", "partner_id", <id>: ...} recorded (or replayed: the first answer again);
400 {"error", "field"} refused (nothing written); 409 {"error", "field"} refused by what is
already recorded (the same id with other details, a payment in another payout, a reused
`Idempotency-Key`); 401 no valid token; 404 unknown partner or event; 503 API not enabled.
Amounts are JSON strings ("12.50") or numbers, read as Decimal (never a binary float).

Replays: an `Idempotency-Key` header (1-128 printable ASCII characters, e.g. a UUID) makes any
event safe to retry: the same request under the same key answers the first answer, whether the
first is finished or still running (platform.event_requests). `customer-created` requires one:
a customer carries no id of Alternative's own. The other events are also replay-safe by their ids.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from flask import Blueprint, Flask, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from xero_sync.events import api as events
from xero_sync.web.json_body import JsonRefused, load_json
from xero_sync.events.checks import EventConflict, EventRefused, UnknownPartner, shown

SERVICE_TOKEN_ENV = "XERO_SYNC_SERVICE_TOKEN"
MIN_TOKEN_LENGTH = 32
MAX_BODY = 1024 * 1024  # a payout of 10,000 payment ids fits well inside
IDEMPOTENCY_HEADER = "Idempotency-Key"
# Events whose body carries no id of Alternative's own for what they create: only a key makes a
# retry safe, so the endpoint refuses them without one.
KEY_REQUIRED = frozenset({"customer-created"})
_EXTENSION = "xero_sync_events_api"

log = logging.getLogger(__name__)
blueprint = Blueprint("events_api", __name__)


@dataclass(frozen=True)
class ServiceToken:
    value: str | None = field(repr=False)  # never in a repr, log or traceback


def register(app: Flask, token: str | None) -> None:
    """Serve the events API on `app`, accepting `token` (None or too short: disabled)."""
    if token and len(token) < MIN_TOKEN_LENGTH:
        log.warning("events API disabled: %s is shorter than %d characters", SERVICE_TOKEN_ENV, MIN_TOKEN_LENGTH)
        token = None
    app.extensions[_EXTENSION] = ServiceToken(token or None)
    app.register_blueprint(blueprint)


def _error(status: int, error: str, field: str | None = None) -> ResponseReturnValue:
    body = {"error": error} if field is None else {"error": error, "field": field}
    return jsonify(body), status


def _authorised() -> ResponseReturnValue | None:
    """None when the request carries the service token; else the answer to send."""
    token = current_app.extensions[_EXTENSION].value
    if token is None:
        return _error(503, f"the events API is not enabled: set {SERVICE_TOKEN_ENV}")
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(sent.strip().encode(), token.encode()):
        answer = jsonify({"error": "a valid service token is required (Authorization: Bearer ...)"})
        return answer, 401, {"WWW-Authenticate": 'Bearer realm="xero-sync events"'}
    return None


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not an amount")


@blueprint.post("/api/partners/<partner_id>/events/<event>")
def record(partner_id: str, event: str) -> ResponseReturnValue:
    from xero_sync.web.app import EXTENSION

    denied = _authorised()
    if denied is not None:
        return denied
    kind = events.EVENTS.get(event)
    if kind is None:
        return _error(404, f"unknown event {shown(event)} (events: {', '.join(events.EVENTS)})", "event")
    if (request.content_length or 0) > MAX_BODY:
        return _error(413, f"body larger than {MAX_BODY} bytes", "body")
    try:
        body = load_json(request.get_data(cache=False) or b"null", parse_float=Decimal,
                         parse_constant=_refuse_constant)
    except JsonRefused as exc:
        return _error(400, str(exc), "body")
    if not isinstance(body, dict):
        return _error(400, "body must be a JSON object of the event's fields", "body")
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None and kind.name in KEY_REQUIRED:
        return _error(400, f"{kind.name} needs an {IDEMPOTENCY_HEADER} header (e.g. a UUID per "
                           "customer): a retry would otherwise create a second customer",
                      "idempotency_key")
    try:
        result = kind.call(current_app.extensions[EXTENSION].engine, partner_id, body, idempotency_key=key)
    except UnknownPartner as exc:
        return _error(404, exc.reason, exc.field)
    except EventConflict as exc:
        log.warning("events API: %s for partner %s conflicts: %s", kind.name, shown(partner_id), exc)
        return _error(409, exc.reason, exc.field)
    except EventRefused as exc:
        log.warning("events API: %s for partner %s refused: %s", kind.name, shown(partner_id), exc)
        return _error(400, exc.reason, exc.field)
    log.info("events API: %s recorded for partner %s (%s %s)", kind.name, partner_id, kind.result, result)
    return jsonify({"event": kind.name, "partner_id": partner_id, kind.result: result}), 201
