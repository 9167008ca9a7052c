"""The sandbox's control API under /_sandbox: for tests and demos, never part of Xero. JSON only.

GET    /_sandbox/health                → {"ok": true, "tenants": N, "time": ISO}
GET    /_sandbox/tenants               → [{"tenant_id", "name", "currency", "short_code", "counts"}]
POST   /_sandbox/tokens                {"tenant_id"} → a token set exactly as /connect/token answers,
                                       for a fresh grant (new user) connected to that tenant; 404 if
                                       the tenant is unknown
POST   /_sandbox/tokens/revoke         {"refresh_token"} or {"tenant_id"} → {"revoked": n}; the grant
                                       loses its connections and later refreshes get invalid_grant
                                       (the partner disconnected the app in Xero)
GET    /_sandbox/faults                → [fault, ...] (active faults)
POST   /_sandbox/faults                {"kind", "tenant_id"?, "count"? | "rate"?, "method"?,
                                       "path_prefix"?, "problem"?, "retry_after"?, "delay"?, "mode"?}
                                       → 201 fault (see faults.py for kinds); 400 {"error"} if malformed.
                                       Timing kinds: "applied_late" (answer lost, write lands
                                       "delay" s later; its key answers 409 meanwhile) and
                                       "read_lag" (what the write creates is hidden from GET for
                                       "delay" s); see timing.py
DELETE /_sandbox/faults[?tenant_id=]   → {"removed": n}; also wakes requests held by `slow`
POST   /_sandbox/canned               {"status"?, "body", "tenant_id"?, "method"?, "path_prefix"?,
                                       "count"?, "content_type"?} → 201: the next matching API
                                       call(s) get this status and raw body (canned.py)
GET    /_sandbox/canned                → [canned, ...];  DELETE /_sandbox/canned → {"removed": n}
GET    /_sandbox/requests?tenant_id=&since=SEQ → [{"seq", "time", "method", "path", "query",
                                       "tenant_id", "status", "applied_status", "idempotency_key",
                                       "replayed", "fault", "rate_limit_problem", "correlation_id"}]
                                       (status null when the response was dropped)
GET    /_sandbox/calls[?tenant_id=]    → {tenant_id: {"total", "in_flight", "rejected",
                                       "rejected_by_problem", "by_endpoint", "minute_used",
                                       "day_used"}} (one tenant's dict when tenant_id is given)
GET    /_sandbox/clock                 → {"now": ISO, "time": epoch seconds, "frozen": bool}
POST   /_sandbox/clock/advance         {"seconds"} → the clock as GET shows it; `applied_late`
                                       writes now due are applied before it answers
GET    /_sandbox/idempotency           → {"window_seconds"}: how long a key is remembered after
                                       its response (Xero: about 6 minutes)
POST   /_sandbox/idempotency           {"window_seconds"} → the same: a Xero that forgets keys early
POST   /_sandbox/idempotency/forget    {"tenant_id"?} → {"forgotten": n}: answered keys forgotten now
GET    /_sandbox/webhooks              → {"url", "events": [...], "deliveries": [...]}
POST   /_sandbox/webhooks              {"url", "key"?} → the configuration (url null disables)
POST   /_sandbox/webhooks/intent       → {"ok", "valid_signature_status", "invalid_signature_status"}
                                       (Xero's intent-to-receive check against the configured URL)
POST   /_sandbox/webhooks/flush        {"timeout"?} → {"flushed": bool} (wait for queued deliveries)

Per-tenant records (create/edit invoices, payments...) are under /_sandbox/tenants/<tenant_id>/
(control_records.py).
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from xero_sandbox.canned import CannedError
from xero_sandbox.context import sandbox
from xero_sandbox.faults import FaultError

control = Blueprint("control", __name__)


def _error(message: str, status: int = 400) -> tuple[Response, int]:
    return jsonify({"error": message}), status


def _body() -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


_COUNTED = ("accounts", "contacts", "invoices", "payments", "credit_notes", "overpayments",
            "prepayments", "bank_transactions", "bank_transfers", "manual_journals")


def _counts(org) -> dict:
    """Records per kind in the organisation (what a test or demo wants to see at a glance)."""
    with org.lock:
        return {name: len(getattr(org, name)) for name in _COUNTED}


@control.get("/health")
def health():
    sb = sandbox()
    return jsonify({"ok": True, "tenants": len(sb.orgs), "time": sb.clock.now().isoformat()})


@control.get("/tenants")
def tenants():
    return jsonify(
        [
            {
                "tenant_id": org.tenant_id,
                "name": org.name,
                "currency": org.currency,
                "short_code": org.short_code,
                "counts": _counts(org),
            }
            for org in sandbox().orgs.values()
        ]
    )


@control.post("/tokens")
def tokens():
    tenant_id = _body().get("tenant_id")
    sb = sandbox()
    if tenant_id is None and len(sb.orgs) == 1:
        tenant_id = next(iter(sb.orgs))
    if tenant_id not in sb.orgs:
        return _error(f"unknown tenant_id {tenant_id!r}", 404)
    return jsonify(sb.tokens_for(tenant_id))


@control.post("/tokens/revoke")
def revoke():
    body, oauth = _body(), sandbox().oauth
    if body.get("refresh_token"):
        if not oauth.revoke_refresh_token(body["refresh_token"]):
            return _error("unknown refresh_token", 404)
        return jsonify({"revoked": 1})
    if body.get("tenant_id"):
        return jsonify({"revoked": oauth.revoke_tenant(body["tenant_id"])})
    return _error('body needs "refresh_token" or "tenant_id"')


@control.get("/faults")
def list_faults():
    return jsonify(sandbox().faults.list())


@control.post("/faults")
def add_fault():
    body = _body()
    sb = sandbox()
    if body.get("tenant_id") is not None and body["tenant_id"] not in sb.orgs:
        return _error(f"unknown tenant_id {body['tenant_id']!r}", 404)
    try:
        fault = sb.faults.add(body)
    except FaultError as exc:
        return _error(str(exc))
    return jsonify(fault.to_json()), 201


@control.delete("/faults")
def clear_faults():
    return jsonify({"removed": sandbox().faults.clear(request.args.get("tenant_id"))})


@control.get("/canned")
def list_canned():
    return jsonify(sandbox().canned.list())


@control.post("/canned")
def add_canned():
    body = request.get_json(silent=True)
    sb = sandbox()
    if isinstance(body, dict) and body.get("tenant_id") is not None and body["tenant_id"] not in sb.orgs:
        return _error(f"unknown tenant_id {body['tenant_id']!r}", 404)
    try:
        item = sb.canned.add(body)
    except CannedError as exc:
        return _error(str(exc))
    return jsonify(item.to_json()), 201


@control.delete("/canned")
def clear_canned():
    return jsonify({"removed": sandbox().canned.clear()})


@control.get("/requests")
def requests_log():
    try:
        since = int(request.args.get("since", 0))
    except ValueError:
        return _error("since must be a sequence number (integer)")
    return jsonify(sandbox().requests.entries(request.args.get("tenant_id"), since))


@control.get("/calls")
def calls():
    limits = sandbox().limits
    tenant_id = request.args.get("tenant_id")
    if tenant_id:
        return jsonify(limits.calls(tenant_id))
    return jsonify(limits.all_calls())


def _clock_json() -> dict:
    clock = sandbox().clock
    return {"now": clock.now().isoformat(), "time": clock.time(), "frozen": clock.is_frozen}


@control.get("/clock")
def clock_get():
    return jsonify(_clock_json())


@control.post("/clock/advance")
def clock_advance():
    seconds = _body().get("seconds")
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
        return _error('body needs "seconds": a non-negative number')
    sandbox().clock.advance(seconds)
    sandbox().deferred.run_due()  # `applied_late` writes whose time has come land now
    return jsonify(_clock_json())


@control.get("/idempotency")
def idempotency_get():
    return jsonify({"window_seconds": sandbox().idempotency.window_seconds})


@control.post("/idempotency")
def idempotency_set():
    seconds = _body().get("window_seconds")
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
        return _error('body needs "window_seconds": a non-negative number')
    sandbox().idempotency.set_window(seconds)
    return jsonify({"window_seconds": sandbox().idempotency.window_seconds})


@control.post("/idempotency/forget")
def idempotency_forget():
    tenant_id = _body().get("tenant_id")
    if tenant_id is not None and not isinstance(tenant_id, str):
        return _error('"tenant_id" must be a string')
    return jsonify({"forgotten": sandbox().idempotency.forget_answered(tenant_id)})


@control.get("/webhooks")
def webhooks_get():
    hooks = sandbox().webhooks
    return jsonify({"url": hooks.config.url, "events": hooks.events(), "deliveries": hooks.deliveries()})


@control.post("/webhooks")
def webhooks_configure():
    body = _body()
    if "url" not in body:
        return _error('body needs "url" (null disables delivery)')
    hooks = sandbox().webhooks
    hooks.configure(body["url"], body.get("key"))
    return jsonify({"url": hooks.config.url, "key_set": bool(hooks.config.key)})


@control.post("/webhooks/intent")
def webhooks_intent():
    return jsonify(sandbox().webhooks.intent_to_receive())


@control.post("/webhooks/flush")
def webhooks_flush():
    timeout = _body().get("timeout", 10)
    return jsonify({"flushed": sandbox().webhooks.flush(float(timeout))})
