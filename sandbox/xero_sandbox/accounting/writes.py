"""How the Accounting API reads a write: the submitted elements, and a batch applied per Xero's
summarizeErrors convention (all or nothing when summarised, per element otherwise)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, overload

from flask import Response, request

from xero_sandbox import xero_json as xj
from xero_sandbox.accounting.responses import envelope, validation_response
from xero_sandbox.body_checks import read_element
from xero_sandbox.context import current_org
from xero_sandbox.org import ValidationError


def submitted_elements(key: str) -> list[dict[str, Any]]:
    """The submitted elements: `{"Key":[...]}`, or one bare element."""
    body = xj.loads(request.get_data() or b"{}")
    if isinstance(body, dict) and isinstance(body.get(key), list):
        items = body[key]
    elif isinstance(body, dict):
        items = [body]
    else:
        raise xj.BodyError(f"expected a JSON object with {key}")
    if not all(isinstance(e, dict) for e in items):
        raise xj.BodyError(f"every element of {key} must be an object")
    return items


def summarize_errors() -> bool:
    """Xero's `summarizeErrors` query flag (true unless it says false)."""
    value = request.args.get("summarizeErrors")
    return value is None or value.strip().lower() != "false"


@overload
def element_date(el: Mapping[str, Any], key: str, default: dt.date) -> dt.date: ...
@overload
def element_date(el: Mapping[str, Any], key: str, default: None = None) -> dt.date | None: ...
def element_date(el: Mapping[str, Any], key: str, default: dt.date | None = None) -> dt.date | None:
    """An element's date field, or `default` when it is absent or empty."""
    value = el.get(key)
    return xj.parse_date(value, key) if value not in (None, "") else default


def element_ref(el: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """An element's nested object (e.g. `Contact`), or {} when it has none."""
    value = el.get(key)
    return value if isinstance(value, Mapping) else {}


def write_batch(key: str, elements: list[dict[str, Any]],
                apply: Callable[[dict[str, Any]], dict[str, Any]],
                summarize: bool) -> Response:
    """Apply each element; errors per Xero's summarizeErrors convention."""
    results: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    # Xero reads each element into its model first (body_checks.py): wrong types never reach
    # the rules, and an error echoes the model, not what was sent. A summarised batch with a
    # malformed element is refused whole, before any element is applied.
    read = [read_element(key, raw) for raw in elements]
    if summarize and any(problems for _, problems in read):
        return validation_response([
            {**el, "ValidationErrors": [{"Message": m} for m in problems]}
            for el, problems in read if problems])
    # Xero answers a summarised batch with any failing element 400 ("the whole call",
    # docs/xero-api-notes.md section 6); read as all or nothing, a rule broken by a later element undoes the
    # earlier ones. The copy is taken only for multi-element summarised batches (rare: the
    # product sends summarizeErrors=false or one element).
    snapshot = current_org().snapshot() if summarize and len(read) > 1 else None
    for el, problems in read:
        try:
            if problems:
                raise ValidationError(*problems)
            out = apply(el)
            if not summarize:
                out = {**out, "StatusAttributeString": "OK"}
            results.append(out)
        except (ValidationError, xj.BodyError, ArithmeticError) as exc:
            if isinstance(exc, ValidationError):
                messages = exc.messages
            elif isinstance(exc, xj.BodyError):
                messages = [str(exc)]
            else:  # defence in depth: no arithmetic failure becomes a 500
                messages = ["A validation exception occurred: an amount is out of range"]
            echo = {**el, "ValidationErrors": [{"Message": m} for m in messages]}
            if not summarize:
                echo.update(StatusAttributeString="ERROR", HasValidationErrors=True)
                results.append(echo)
            failed.append(echo)
    if failed and summarize:
        if snapshot is not None:
            current_org().restore(snapshot)
        return validation_response(failed)
    return envelope(key, results)
