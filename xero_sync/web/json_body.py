"""Reading a JSON request body with its nesting bounded, at the request boundary.

Python's JSON decoder recurses per level: a body of 100,000 `[` raises RecursionError (a 500 with a
traceback) instead of a clear 400, and a merely deep document would reach code that recurses over
it. Bodies we accept are flat (an event's fields, Xero's events list): MAX_DEPTH is generous.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 16


class JsonRefused(ValueError):
    """Not JSON we read; the message says why (safe to answer)."""


def depth(value: Any) -> int:
    """The nesting depth of a decoded JSON value (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level + 1)
            stack.extend((child, level + 1) for child in item if isinstance(child, (dict, list)))
    return deepest


def load_json(body: bytes, *, max_depth: int = MAX_DEPTH, **options: Any) -> Any:
    """`json.loads(body, **options)`, or JsonRefused when it is not JSON or nested too deeply."""
    try:
        value = json.loads(body, **options)
    except RecursionError:
        raise JsonRefused(f"JSON nested more than {max_depth} levels deep") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise JsonRefused(f"body is not JSON ({exc})") from None
    if depth(value) > max_depth:
        raise JsonRefused(f"JSON nested more than {max_depth} levels deep")
    return value
