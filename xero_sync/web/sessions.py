"""Who is looking: the signed-in partner's session, and the CSRF tokens bound to it.

The session is Flask's signed cookie with `partner_id`, the partner's session `generation` when it
was issued, a random `sid` and `signed_in_at`. It opens pages only while
- its generation is the partner's current one in the store (sign-out and Disconnect bump it, so
  every earlier cookie of the partner opens nothing: store/web_sessions.py), and
- it is younger than the session lifetime (XERO_SYNC_SESSION_HOURS, hours not weeks; checked from
  `signed_in_at`, not from the cookie's expiry, which the browser keeps).

Every POST form carries a form token: an HMAC of the partner, generation and `sid`, so it changes
whenever the session does. Every Integrations route acts on `current_partner()` only; no route
takes a partner id from the URL or a form, so one partner can never see or change another's.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import abort, current_app, g, redirect, request, session, url_for

from xero_sync.store import web_sessions

PARTNER_KEY = "partner_id"
GENERATION_KEY = "generation"
SID_KEY = "sid"
SIGNED_IN_AT_KEY = "signed_in_at"
SIGNIN_CSRF_KEY = "signin_csrf"  # the dev sign-in form's token, before anyone is signed in
_UNSET = object()


def _state():
    from xero_sync.web.app import EXTENSION

    return current_app.extensions[EXTENSION]


def _lifetime_seconds() -> int:
    return _state().web.session_hours * 3600


def start(partner_id: str, generation: int) -> None:
    """A new session for `partner_id` at `generation` (whatever the browser held before is dropped)."""
    session.clear()
    session.permanent = True  # the cookie expires with the lifetime too (PERMANENT_SESSION_LIFETIME)
    session[PARTNER_KEY] = partner_id
    session[GENERATION_KEY] = generation
    session[SID_KEY] = secrets.token_urlsafe(16)
    session[SIGNED_IN_AT_KEY] = int(time.time())
    g.partner_id = partner_id


def _valid_partner() -> str | None:
    partner_id, generation = session.get(PARTNER_KEY), session.get(GENERATION_KEY)
    signed_in_at = session.get(SIGNED_IN_AT_KEY)
    if not isinstance(partner_id, str) or not partner_id or not isinstance(generation, int) \
            or not isinstance(signed_in_at, int) or not isinstance(session.get(SID_KEY), str):
        return None
    if not 0 <= time.time() - signed_in_at < _lifetime_seconds():
        return None
    with _state().engine.connect() as conn:
        current = web_sessions.generation(conn, partner_id)
    return partner_id if current == generation else None


def current_partner() -> str | None:
    """The signed-in partner, or None (an ended or expired session is dropped from the cookie)."""
    partner_id = g.get("partner_id", _UNSET)
    if partner_id is _UNSET:
        partner_id = _valid_partner()
        if partner_id is None and PARTNER_KEY in session:
            session.clear()
        g.partner_id = partner_id
    return partner_id


def signed_in_partner() -> str:
    """The partner of a @signed_in view (the decorator answered a request without one)."""
    partner_id = current_partner()
    if partner_id is None:
        raise RuntimeError("signed_in_partner() outside a @signed_in view")
    return partner_id


def signed_in(view: Callable) -> Callable:
    """Pages need a partner; without one: the sign-in form (sandbox) or a page saying where to go."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if current_partner() is None:
            if _state().settings.uses_sandbox:
                return redirect(url_for("dev_signin.form"))
            from xero_sync.web.errors import message_page

            return message_page(
                "Please sign in",
                "Open Integrations from your partner dashboard to sign in. Sessions end when you sign "
                f"out and after {_state().web.session_hours} hours.", status=401)
        return view(*args, **kwargs)

    return wrapper


def _mac(purpose: str, *parts: object) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, "|".join((purpose, *map(str, parts))).encode(), hashlib.sha256).hexdigest()


def form_token() -> str:
    """The token every POST form of this session carries (changes with the session)."""
    partner_id = current_partner()
    if partner_id is None:
        return ""
    return _mac("form", partner_id, session[GENERATION_KEY], session[SID_KEY])


def check_same_origin() -> None:
    """Refuse a POST a browser says came from another site (Origin / Sec-Fetch-Site)."""
    from xero_sync.web.app import public_url
    from xero_sync.web.serving import origin

    if request.headers.get("Sec-Fetch-Site", "").lower() in {"cross-site", "same-site"}:
        abort(403, description="This form was sent from another site, so it was refused.")
    sent = request.headers.get("Origin")
    if sent is None or sent == "null":
        # No Origin: not a browser's cross-origin POST. "null": our own pages say no-referrer, so
        # browsers send that on their forms; the form token (and Sec-Fetch-Site) decide then.
        return
    allowed = {origin(public_url(current_app)), origin(request.host_url)}
    if sent.rstrip("/") not in allowed or urlsplit(sent).scheme not in {"http", "https"}:
        abort(403, description="This form was sent from another site, so it was refused.")


def check_form_token() -> None:
    """Refuse a POST whose form token is not this session's (cross-site, stale or ended session)."""
    check_same_origin()
    sent = request.form.get("form_token", "")
    expected = form_token()
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description="This form has expired or did not come from this page. Reload the page and try again.")


def signin_token() -> str:
    """The dev sign-in form's CSRF token (kept in the not-yet-signed-in session)."""
    token = session.get(SIGNIN_CSRF_KEY)
    if not isinstance(token, str):
        token = session[SIGNIN_CSRF_KEY] = secrets.token_urlsafe(24)
    return token


def check_signin_token() -> None:
    check_same_origin()
    expected = session.get(SIGNIN_CSRF_KEY)
    sent = request.form.get("csrf_token", "")
    if not isinstance(expected, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description="This sign-in form has expired or did not come from this page. Reload it and try again.")


def end_all(partner_id: str, *, keep_this_one: bool) -> None:
    """End every session of the partner (bump its generation); this browser's too unless kept."""
    with _state().engine.begin() as conn:
        generation = web_sessions.end_sessions(conn, partner_id)
    if keep_this_one:
        start(partner_id, generation)
    else:
        session.clear()
        g.partner_id = None
