"""The sandbox's Flask app and the gate every Xero API call passes, in Xero's order.

For `/api.xro/2.0/...`: bearer token (401 problem body) → `xero-tenant-id` connected for the
token's grant (403 `AuthenticationUnsuccessful`) → rate limits (429) → injected faults →
`Idempotency-Key` (400 / replay) → `g.org` for the accounting blueprint. `/connections` needs
only the token and counts against the app-minute limit. Every tenant-scoped response carries
`X-DayLimit-Remaining`, `X-MinLimit-Remaining`, `X-AppMinLimit-Remaining` and
`Xero-Correlation-Id`; tenantless ones `X-AppMinLimit-Remaining` (and the correlation id).
"""

from __future__ import annotations

import importlib
import json
import socket
import time
import uuid
from typing import Any

from flask import Flask, Response, g, request
from flask.json.provider import DefaultJSONProvider

from xero_sandbox.idempotency import StoredResponse, fingerprint
from xero_sandbox.oauth import TokenRejected, identity
from xero_sandbox.state import Sandbox
from xero_sandbox.timing import DEFERRED_HEADER, DeferredWrite

API_PREFIX = "/api.xro/2.0"
_DROP = "xero_sandbox.drop_connection"
# Headers the gate adds per answer; a replayed response gets fresh ones, not the cached ones.
_GATE_HEADERS = {
    "x-daylimit-remaining",
    "x-minlimit-remaining",
    "x-appminlimit-remaining",
    "xero-correlation-id",
    "content-length",
    "date",
    "server",
}


def create_app(sandbox: Sandbox) -> Flask:
    app = Flask(__name__)
    app.extensions["xero_sandbox"] = sandbox
    assert isinstance(app.json, DefaultJSONProvider)  # Flask's own, unless a subclass set another
    app.json.sort_keys = False  # keep Xero's field order in our own JSON
    app.register_blueprint(identity)
    from xero_sandbox.control import control

    app.register_blueprint(control, url_prefix="/_sandbox")
    _register_optional(app, "xero_sandbox.accounting", "accounting", API_PREFIX)
    _register_optional(app, "xero_sandbox.reports", "reports", API_PREFIX)
    _register_optional(app, "xero_sandbox.control_records", "control_records", "/_sandbox/tenants")
    app.before_request(_gate)
    app.after_request(_finish)
    app.teardown_request(_release)
    # Flask's documented way to wrap its WSGI callable; mypy sees assigning to a method.
    app.wsgi_app = _DroppingMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    sandbox.deferred.applier = lambda job: _apply_deferred(app, job)
    return app


def _register_optional(app: Flask, module: str, name: str, prefix: str) -> None:
    """SB1's blueprints; tolerated missing only while the package is being assembled."""
    try:
        blueprint = getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        return
    app.register_blueprint(blueprint, url_prefix=prefix)


def _sandbox() -> Sandbox:
    from flask import current_app

    return current_app.extensions["xero_sandbox"]


def _is_identity(path: str) -> bool:
    return path.lower() == "/connections" or path.lower().startswith("/connections/")


def problem(status: int, title: str, detail: str) -> Response:
    body: dict[str, Any] = {
        "Type": None,
        "Title": title,
        "Status": status,
        "Detail": detail,
        "Instance": str(uuid.uuid4()),
        "Extensions": {},
    }
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _too_many(problem_name: str, retry_after: int, headers: dict[str, str]) -> Response:
    response = Response(
        json.dumps({"Title": "Too Many Requests", "Status": 429, "Detail": f"Rate limit exceeded: {problem_name}"}),
        status=429,
        mimetype="application/json",
    )
    response.headers["Retry-After"] = str(retry_after)
    response.headers["X-Rate-Limit-Problem"] = problem_name
    response.headers.update(headers)
    return response


def _gate() -> Response | None:
    sandbox = _sandbox()
    deferred_secret = request.headers.get(DEFERRED_HEADER)
    internal = deferred_secret is not None and deferred_secret == sandbox.deferred.secret
    if not internal:
        # Before this request's own state is set: a deferred write runs as a nested request
        # sharing `g`, and must leave nothing of its own (read lag, internal flag) to this one.
        sandbox.deferred.run_due()
    g.correlation_id = str(uuid.uuid4())
    g.started = time.monotonic()
    g.tenant_id = g.acquired = g.idem_key = g.lost = g.fault = g.problem = g.read_lag = None
    g.limit_headers = {}
    g.replayed = g.internal = False
    path = request.path
    if internal:
        _internal_apply(sandbox)
        return None
    is_api = path.startswith(API_PREFIX)
    if path.lower() == TOKEN_PATH:
        return _token_endpoint_fault()
    if not (is_api or _is_identity(path)):
        return None
    try:
        g.grant = sandbox.oauth.authenticate(request.headers.get("Authorization"))
    except TokenRejected as exc:
        return problem(401, "Unauthorized", exc.detail)
    if not is_api:
        decision = sandbox.limits.acquire(None, request.method, path)
        g.limit_headers = decision.headers
        if decision.problem is not None:  # not allowed
            g.problem = decision.problem
            return _too_many(decision.problem, decision.retry_after, decision.headers)
        return None

    tenant_id = request.headers.get("xero-tenant-id", "").strip()
    if not tenant_id or tenant_id not in sandbox.orgs or not g.grant.connected(tenant_id):
        return problem(403, "Forbidden", "AuthenticationUnsuccessful")
    g.tenant_id = tenant_id
    decision = sandbox.limits.acquire(tenant_id, request.method, path)
    g.limit_headers = decision.headers
    if decision.problem is not None:  # not allowed
        g.problem = decision.problem
        return _too_many(decision.problem, decision.retry_after, decision.headers)
    g.acquired = tenant_id

    side = sandbox.faults.take(tenant_id, request.method, path, side=True)
    if side is not None:  # read_lag: fires beside the call's main fault
        g.read_lag = side.delay
        g.fault = side.kind
    fault = sandbox.faults.take(tenant_id, request.method, path)
    if fault is not None:
        g.fault = fault.kind
        if fault.kind == "rate_limit":
            sandbox.limits.record_rejection(tenant_id, fault.problem)
            g.problem = fault.problem
            return _too_many(fault.problem, fault.retry_after, sandbox.limits.headers(tenant_id))
        if fault.kind == "server_error":
            return problem(500, "Internal Server Error", "An error occurred in Xero (injected fault).")
        if fault.kind == "unavailable":
            return Response("Service Unavailable (injected fault)", status=503, mimetype="text/plain")

    canned = sandbox.canned.take(tenant_id, request.method, path)
    if canned is not None:  # a test's malformed or odd answer (canned.py); changes nothing
        g.fault = "canned"
        return Response(canned.body, status=canned.status, content_type=canned.content_type)

    # The key is registered on arrival, before any slowness: a retry during a slow original is
    # answered "in progress", never run twice.
    key = request.headers.get("Idempotency-Key")
    if key is not None and request.method in {"POST", "PUT"}:
        print_ = fingerprint(request.method, path, request.query_string.decode(), request.get_data())
        lookup = sandbox.idempotency.begin(tenant_id, key, print_)
        if lookup.error is not None:
            return _validation_error(lookup.error)
        if lookup.in_progress is not None:
            return problem(409, "Conflict", lookup.in_progress)
        if lookup.replay is not None:
            g.replayed = True
            stored = lookup.replay
            return Response(stored.body, status=stored.status, headers=stored.headers)
        g.idem_key = key

    if fault is not None:
        if fault.kind == "slow":
            sandbox.faults.wait_slow(fault.delay)
        if fault.kind == "lost_response":
            g.lost = fault
        if fault.kind == "applied_late":
            sandbox.deferred.add(DeferredWrite(
                due=sandbox.clock.time() + fault.delay, tenant_id=tenant_id, method=request.method,
                path=path, query=request.query_string.decode(), body=request.get_data(),
                idempotency_key=g.idem_key, read_lag=g.read_lag or 0.0))
            g.idem_key = None  # stays "in progress" until the deferred write runs
            g.lost = fault
            return Response(b"", status=202)
    g.org = sandbox.orgs[tenant_id]
    return None


TOKEN_PATH = "/connect/token"


def _token_endpoint_fault() -> Response | None:
    """Faults aimed at the token endpoint by name (`path_prefix: "/connect/token"`): a hanging or
    failing Xero identity server. Faults without that prefix never touch token calls."""
    sandbox = _sandbox()
    fault = sandbox.faults.take(None, request.method, request.path, named_only=True)
    if fault is None:
        return None
    g.fault = fault.kind
    if fault.kind == "slow":
        sandbox.faults.wait_slow(fault.delay)
        return None
    if fault.kind in {"server_error", "unavailable"}:
        return Response("Identity server unavailable (injected fault)", mimetype="text/plain",
                        status=500 if fault.kind == "server_error" else 503)
    return None


def _internal_apply(sandbox: Sandbox) -> None:
    """A deferred (`applied_late`) write, replayed in-process: no auth, limits or faults; it
    finishes the Idempotency-Key the original registered."""
    g.internal = True
    g.tenant_id = request.headers["xero-tenant-id"]
    g.idem_key = request.headers.get("Idempotency-Key")
    lag = request.headers.get("X-Sandbox-Read-Lag")
    g.read_lag = float(lag) if lag else None
    g.org = sandbox.orgs[g.tenant_id]
    return None


def _apply_deferred(app: Flask, job: DeferredWrite) -> None:
    headers = {DEFERRED_HEADER: app.extensions["xero_sandbox"].deferred.secret,
               "xero-tenant-id": job.tenant_id, "Content-Type": "application/json"}
    if job.idempotency_key:
        headers["Idempotency-Key"] = job.idempotency_key
    if job.read_lag:
        headers["X-Sandbox-Read-Lag"] = str(job.read_lag)
    app.test_client().open(job.path, method=job.method, query_string=job.query, data=job.body,
                           headers=headers)


def _validation_error(message: str) -> Response:
    body = {"ErrorNumber": 10, "Type": "ValidationException", "Message": message}
    return Response(json.dumps(body), status=400, mimetype="application/json")


def _finish(response: Response) -> Response:
    sandbox = _sandbox()
    if getattr(g, "idem_key", None):
        if response.status_code < 500 and not response.is_streamed:
            headers = [(k, v) for k, v in response.headers.items() if k.lower() not in _GATE_HEADERS]
            sandbox.idempotency.finish(
                g.tenant_id, g.idem_key, StoredResponse(response.status_code, response.get_data(), headers)
            )
        else:
            sandbox.idempotency.abandon(g.tenant_id, g.idem_key)
        g.idem_key = None
    if g.get("read_lag") and 200 <= response.status_code < 300 and request.method in {"PUT", "POST"}:
        sandbox.read_lag.hide_created(g.tenant_id, response.get_data(), g.read_lag)
    if request.method == "GET" and g.get("tenant_id") and response.status_code == 200 \
            and not response.is_streamed and sandbox.read_lag.any_hidden(g.tenant_id):
        filtered = sandbox.read_lag.filter_read(g.tenant_id, response.get_data(),
                                                by_id=bool(request.view_args))
        if filtered is None:
            from xero_sandbox.accounting.responses import not_found

            response = not_found()
        elif filtered is not response.get_data():
            response.set_data(filtered)
    if g.get("internal"):
        return response
    if g.get("tenant_id"):
        response.headers.update(sandbox.limits.headers(g.tenant_id))
    elif g.get("limit_headers"):
        response.headers.update(sandbox.limits.headers(None))
    response.headers["Xero-Correlation-Id"] = g.get("correlation_id", "")
    lost = g.get("lost")
    if not request.path.startswith("/_sandbox"):
        sandbox.requests.add(
            method=request.method,
            path=request.path,
            query=request.query_string.decode(),
            tenant_id=g.get("tenant_id"),
            status=504 if lost is not None and lost.mode == "504" else (None if lost else response.status_code),
            applied_status=response.status_code,
            idempotency_key=request.headers.get("Idempotency-Key"),
            replayed=g.get("replayed", False),
            fault=g.get("fault"),
            rate_limit_problem=g.get("problem"),
            correlation_id=g.get("correlation_id"),
        )
    if lost is not None:
        if lost.mode == "504":
            return Response("Gateway Timeout", status=504, mimetype="text/plain")
        request.environ[_DROP] = True
    return response


def _release(_exc: BaseException | None) -> None:
    tenant_id = g.get("acquired")
    if tenant_id:
        _sandbox().limits.release(tenant_id)
        g.acquired = None
    if g.get("idem_key"):  # an exception escaped before a response existed
        _sandbox().idempotency.abandon(g.tenant_id, g.idem_key)


class _DroppingMiddleware:
    """Closes the socket without answering when a `lost_response` fault fired (see faults.py)."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        result = self.wsgi_app(environ, start_response)
        if not environ.get(_DROP):
            return result
        if hasattr(result, "close"):
            result.close()
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        return []
