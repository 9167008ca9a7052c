"""The Accounting API's Blueprint, and how its errors answer as Xero's do.

Route modules (organisation.py, contacts.py, invoices.py, ...) add their routes to `accounting`;
the package's `__init__` imports them all.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from xero_sandbox import xero_json as xj
from xero_sandbox.accounting.responses import error_response, not_found
from xero_sandbox.org import NotFound
from xero_sandbox.query import QueryError

accounting = Blueprint("accounting", __name__)

API_PREFIX = "/api.xro/2.0"
NOT_ALLOWED_TEXT = "The requested HTTP method is not supported for this resource"


@accounting.errorhandler(QueryError)
def _query_error(exc: QueryError) -> Response:
    return error_response(str(exc), number=16, type_="QueryParseException")


@accounting.errorhandler(xj.BodyError)
def _body_error(exc: xj.BodyError) -> Response:
    return error_response(str(exc), number=14, type_="PostDataInvalidException")


@accounting.errorhandler(NotFound)
def _not_found(exc: NotFound) -> Response:
    return not_found()


@accounting.app_errorhandler(404)
def _no_route(exc: Any) -> Any:
    """An unknown path under the API answers Xero's plain-text 404, not Flask's HTML page."""
    return not_found() if request.path.startswith(request.script_root + API_PREFIX) else exc


@accounting.app_errorhandler(405)
def _no_method(exc: Any) -> Any:
    """An operation the sandbox does not serve (e.g. DELETE /Invoices): plain text, as Xero."""
    if not request.path.startswith(request.script_root + API_PREFIX):
        return exc
    answer = Response(NOT_ALLOWED_TEXT, status=405, mimetype="text/plain")
    answer.headers["Allow"] = ", ".join(sorted(exc.valid_methods or ()))
    return answer
