"""Signing in from tests: the sandbox's development form (with its CSRF token)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def dev_sign_in(client: FlaskClient, partner_id: str, name: str | None = None):
    """POST the development sign-in form as a browser would (GET it first for its token)."""
    csrf = _CSRF.search(client.get("/signin").text).group(1)
    return client.post("/signin", data={"partner_id": partner_id, "name": name or partner_id.title(),
                                        "csrf_token": csrf})
