"""Who is looking: the signed-in partner, the dev sign-in form, and per-partner form tokens.

In production the partner dashboard's own authentication sets `session["partner_id"]` and this
form is not used. Every Integrations route acts on `current_partner()` only; no route takes a
partner id from the URL or a form, so one partner can never see or change another's connection.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for

from xero_sync.partitions import InvalidPartnerKey, check_partner_key
from xero_sync.platform import connections
from xero_sync.platform.schema import partners

PARTNER_KEY = "partner_id"

blueprint = Blueprint("signin", __name__)


def current_partner() -> str | None:
    partner_id = session.get(PARTNER_KEY)
    return partner_id if isinstance(partner_id, str) and partner_id else None


def signed_in(view: Callable) -> Callable:
    """Pages need a partner; without one, go to sign-in."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if current_partner() is None:
            return redirect(url_for("signin.form"))
        return view(*args, **kwargs)

    return wrapper


def form_token(partner_id: str) -> str:
    """A per-partner token every POST form carries (derived, so nothing more lives in the session)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"form|{partner_id}".encode(), hashlib.sha256).hexdigest()


def check_form_token() -> None:
    """Refuse a POST whose form token is not this partner's (cross-site or stale form)."""
    partner_id = current_partner()
    sent = request.form.get("form_token", "")
    if partner_id is None or not hmac.compare_digest(sent.encode(), form_token(partner_id).encode()):
        abort(400, description="This form has expired or did not come from this page. Reload the page and try again.")


def partner_name(conn: sa.Connection, partner_id: str) -> str:
    name = conn.execute(sa.select(partners.c.name).where(partners.c.partner_id == partner_id)).scalar()
    return name or partner_id


@blueprint.get("/")
def home():
    return redirect(url_for("integrations.page"))


@blueprint.get("/signin")
def form():
    return render_template("signin.html", error=None, partner_id="", name="")


@blueprint.post("/signin")
def submit():
    from xero_sync.web.app import EXTENSION

    partner_id = (request.form.get("partner_id") or "").strip().lower()
    name = (request.form.get("name") or "").strip() or partner_id
    try:
        check_partner_key(partner_id)
    except InvalidPartnerKey as exc:
        return render_template("signin.html", error=str(exc), partner_id=partner_id, name=name), 400
    with current_app.extensions[EXTENSION].engine.begin() as conn:
        connections.ensure_partner(conn, partner_id, name[:200])
    session.clear()
    session[PARTNER_KEY] = partner_id
    return redirect(url_for("integrations.page"))


@blueprint.post("/signout")
def signout():
    session.clear()
    return redirect(url_for("signin.form"))
