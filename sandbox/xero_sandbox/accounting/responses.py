"""How the sandbox's Accounting API answers: Xero's list wrapper, its 400 `Error` shape and the
plain-text 404 Xero sends for an unknown id."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Response

from xero_sandbox import xero_json as xj
from xero_sandbox.context import current_org

NOT_FOUND_TEXT = "The resource you're looking for cannot be found"
PROVIDER = "xero-sync sandbox"


def _json(text: str, status: int = 200) -> Response:
    return Response(text, status=status, mimetype="application/json")


def envelope(key: str, items: Sequence[Any], pagination: Mapping[str, int] | None = None,
             status: int = 200) -> Response:
    """Xero's list wrapper; `items` are dicts or RawJSON fragments."""
    body: dict[str, Any] = {"Id": str(uuid.uuid4()), "Status": "OK", "ProviderName": PROVIDER,
                            "DateTimeUTC": xj.ms_date(current_org().now())}
    if pagination is not None:
        body["pagination"] = dict(pagination)
    body[key] = list(items)
    return _json(xj.dumps(body), status)


def not_found() -> Response:
    return Response(NOT_FOUND_TEXT, status=404, mimetype="text/plain")


def error_response(message: str, elements: Sequence[Mapping[str, Any]] = (), number: int = 10,
                   type_: str = "ValidationException") -> Response:
    body = {"ErrorNumber": number, "Type": type_, "Message": message, "Elements": list(elements)}
    return _json(xj.dumps(body), 400)


def validation_response(elements: Sequence[Mapping[str, Any]]) -> Response:
    return error_response("A validation exception occurred", elements)
