"""Signing in and out of the Integrations page.

- `/signin/assertion?token=...` (GET, or POST with a `token` field): the partner dashboard's
  signed assertion (web/identity.py), exchanged once for a session. In real mode the only way in.
- `/signin` (the development form, `dev_blueprint`): registered only in sandbox mode; it takes a
  CSRF token and refuses a form sent from another site.
- `/signout` (POST, form token): ends every session of the partner (store/web_sessions.py).
"""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa
from flask import Blueprint, current_app, redirect, render_template, request, url_for

from xero_sync.store import connections, web_sessions
from xero_sync.core.ids import InvalidId, check_partner_id
from xero_sync.store.schema import partners
from xero_sync.web import sessions
from xero_sync.web.errors import message_page
from xero_sync.web.identity import AssertionRefused, KeysUnavailable

# What the other views use (kept importable from here).
check_form_token = sessions.check_form_token
current_partner = sessions.current_partner
signed_in_partner = sessions.signed_in_partner
form_token = sessions.form_token
signed_in = sessions.signed_in

log = logging.getLogger(__name__)

blueprint = Blueprint("signin", __name__)
dev_blueprint = Blueprint("dev_signin", __name__)


def _state():
    from xero_sync.web.app import EXTENSION

    return current_app.extensions[EXTENSION]


def partner_name(conn: sa.Connection, partner_id: str) -> str:
    name = conn.execute(sa.select(partners.c.name).where(partners.c.partner_id == partner_id)).scalar()
    return name or partner_id


def _open_session(partner_id: str, name: str, *, jti: tuple[str, dt.datetime] | None = None) -> bool:
    """Create the partner if new and start its session; False if the assertion `jti` was used."""
    for attempt in (1, 2):
        try:
            with _state().engine.begin() as conn:
                if jti is not None and not web_sessions.use_assertion(conn, jti[0], partner_id, jti[1]):
                    return False
                connections.ensure_partner(conn, partner_id, name)
                generation = web_sessions.current_generation(conn, partner_id)
            break
        except sa.exc.IntegrityError:
            if attempt == 2:  # the same new partner signing in twice at once: the retry finds it
                raise
    sessions.start(partner_id, generation)
    return True


@blueprint.get("/")
def home():
    return redirect(url_for("integrations.page"))


@blueprint.route("/signin/assertion", methods=["GET", "POST"])
def assertion():
    token = request.values.get("token", "")
    try:
        claims = _state().verifier.verify(token)
    except KeysUnavailable as exc:
        log.warning("sign-in assertion not checked: %s", exc)
        return message_page("Sign-in is unavailable", f"{exc}; try again in a minute.", status=503)
    except AssertionRefused as exc:
        log.warning("sign-in assertion refused: %s", exc)
        return message_page("This sign-in link cannot be used",
                            f"{str(exc)[0].upper()}{str(exc)[1:]}. Open Integrations from your partner "
                            "dashboard again.", status=401)
    if not _open_session(claims.partner_id, claims.name, jti=(claims.jti, claims.expires_at)):
        log.warning("sign-in assertion %s… for partner %s replayed: refused", claims.jti[:6], claims.partner_id)
        return message_page("This sign-in link was already used",
                            "Each sign-in link opens one session only. Open Integrations from your "
                            "partner dashboard again.", status=401)
    log.info("partner %s signed in with a dashboard assertion", claims.partner_id)
    return redirect(url_for("integrations.page"), code=303)


@blueprint.post("/signout")
def signout():
    partner_id = sessions.current_partner()
    if partner_id is not None:
        sessions.check_form_token()
        sessions.end_all(partner_id, keep_this_one=False)
        log.info("partner %s signed out (every session of it ended)", partner_id)
    else:
        sessions.check_same_origin()
    if _state().settings.uses_sandbox:
        return redirect(url_for("dev_signin.form"), code=303)
    return redirect(url_for("signin.signed_out"), code=303)


@blueprint.get("/signedout")
def signed_out():
    return message_page("You are signed out",
                        "Open Integrations from your partner dashboard to sign in again.",
                        action=None)


@dev_blueprint.get("/signin")
def form():
    return render_template("signin.html", error=None, partner_id="", name="",
                           csrf_token=sessions.signin_token())


@dev_blueprint.post("/signin")
def submit():
    sessions.check_signin_token()
    partner_id = (request.form.get("partner_id") or "").strip().lower()
    name = (request.form.get("name") or "").strip() or partner_id
    try:
        check_partner_id(partner_id)
    except InvalidId as exc:
        return render_template("signin.html", error=str(exc), partner_id=partner_id, name=name,
                               csrf_token=sessions.signin_token()), 400
    _open_session(partner_id, name[:200])
    return redirect(url_for("integrations.page"))
