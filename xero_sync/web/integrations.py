"""Integrations → Xero: the module card, Connect, the OAuth callback, Confirm and Disconnect.

Every failure renders a page saying what happened and what to do, and leaves nothing half made:
tokens are stored (encrypted) only when the partner confirms, in `connect.confirm`, which checks
the tenant is free before writing anything.
"""

from __future__ import annotations

import datetime as dt
import logging

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for

from xero_sync.connect.flow import ConnectError, confirm, exchange
from xero_sync.store import connections
from xero_sync.store.states import ConnectionStatus
from xero_sync.web.app import EXTENSION, WebState, callback_url
from xero_sync.web.consents import new_state, take_state
from xero_sync.web.errors import message_page
from xero_sync.web.sessions import end_all
from xero_sync.web.signin import (
    check_form_token, current_partner, form_token, partner_name, signed_in, signed_in_partner,
)
from xero_sync.web.status import CAN_CONNECT, CAN_DISCONNECT, load_card
from xero_sync.web.xero_access import explain, oauth_app, token_store
from xero_sync.core.errors import (
    MalformedXeroPayload,
    NeedsReauth,
    TenantDisconnected,
    XeroError,
    XeroNotFound,
    XeroValidationError,
)

log = logging.getLogger(__name__)

blueprint = Blueprint("integrations", __name__)

NOTICES = {
    "connected": "Your Xero organisation is linked. The status stays Pending while the first sync runs "
                 "(the last 12 months first, then older history) and turns Connected when it is done.",
    "accounts": "Accounts saved. Payments and payouts will be recorded in Xero.",
    "disconnected": "Xero is disconnected. Nothing more is read from or written to your organisation.",
}
CONNECT_AGAIN = "integrations.page"


def _state() -> WebState:
    return current_app.extensions[EXTENSION]


def _expired_page():
    return message_page(
        "This link expired or was already used",
        "This Xero sign-in link expired or was already used, so nothing was connected. "
        "Start again with Connect on the Integrations page.",
        status=400, action=url_for(CONNECT_AGAIN), action_label="Start again",
    )


@blueprint.get("/integrations")
@signed_in
def page():
    partner_id = signed_in_partner()
    with _state().engine.begin() as conn:
        card = load_card(conn, partner_id)
        name = partner_name(conn, partner_id)
    return render_template(
        "integrations.html", card=card, partner_name=name, form_token=form_token(),
        notice=NOTICES.get(request.args.get("done", "")),
    )


@blueprint.post("/integrations/xero/connect")
@signed_in
def connect():
    check_form_token()
    partner_id = signed_in_partner()
    with _state().engine.begin() as conn:
        current = connections.get_connection(conn, partner_id)
    if current is not None and current.status not in CAN_CONNECT:
        return message_page(
            "Xero is already connected",
            f"Your Xero organisation {current.tenant_name or ''} is already linked (status: "
            f"{current.status.replace('_', ' ')}). Disconnect it first to connect another one.",
            status=409, action=url_for(CONNECT_AGAIN),
        )
    redirect_uri = callback_url(current_app)
    state = new_state(session)
    return redirect(oauth_app(_state()).authorize_url(state, redirect_uri), code=302)


@blueprint.get("/integrations/xero/callback")
def callback():
    partner_id = current_partner()
    state_ok = take_state(session, request.args.get("state"))
    error = request.args.get("error")
    if partner_id is None:
        return _expired_page()
    if error == "access_denied":
        return message_page(
            "You cancelled the connection",
            "You cancelled at Xero, so nothing was connected. Connect again whenever you are ready.",
            action=url_for(CONNECT_AGAIN), action_label="Connect again",
        )
    if not state_ok:
        return _expired_page()
    if error or not request.args.get("code"):
        log.warning("Xero callback for partner %s without a code: error=%r", partner_id, error)
        return message_page(
            "Xero did not connect",
            f"Xero returned an error ({error or 'no authorisation code'}), so nothing was connected. "
            "Start again with Connect.",
            status=400, action=url_for(CONNECT_AGAIN), action_label="Start again",
        )
    redirect_uri = callback_url(current_app)
    try:
        consent = exchange(oauth_app(_state()), request.args["code"], redirect_uri)
    except (NeedsReauth, XeroValidationError):
        # invalid_grant: the code expired (Xero gives minutes) or was already exchanged.
        return message_page(
            "This Xero sign-in expired",
            "Xero no longer accepts this sign-in (it expired or was already used), so nothing was "
            "connected. Start again with Connect.",
            status=400, action=url_for(CONNECT_AGAIN), action_label="Start again",
        )
    except ConnectError as exc:
        return message_page("Xero did not connect", f"{exc}.", status=400, action=url_for(CONNECT_AGAIN))
    except XeroError as exc:
        log.warning("Xero code exchange failed for partner %s: %s", partner_id, exc)
        title, text = explain(exc)
        return message_page(title, text, status=502, action=url_for(CONNECT_AGAIN))
    consent_id = _state().consents.put(partner_id, consent, redirect_uri)
    return _confirm_page(consent_id, consent.organisations)


def _confirm_page(consent_id: str, organisations, error: str | None = None, status: int = 200):
    return render_template(
        "confirm.html", consent_id=consent_id, organisations=organisations,
        form_token=form_token(), error=error,
    ), status


@blueprint.post("/integrations/xero/confirm")
@signed_in
def confirm_consent():
    check_form_token()
    partner_id = signed_in_partner()
    state = _state()
    consent_id = request.form.get("consent_id", "")
    pending = state.consents.take(consent_id, partner_id)
    if pending is None:
        return _expired_page()
    if request.form.get("action") != "confirm":
        return message_page(
            "You cancelled the connection",
            "Nothing was connected. Connect again whenever you are ready.",
            action=url_for(CONNECT_AGAIN), action_label="Connect again",
        )
    # Only what this consent authorised can be linked (see connect.flow.Consent).
    organisation = pending.consent.organisation(request.form.get("tenant_id") or None)
    if organisation is None:
        return _expired_page()
    with state.engine.begin() as conn:
        name = partner_name(conn, partner_id)
    try:
        confirm(state.engine, state.cipher, partner_id=partner_id, partner_name=name,
                token_set=pending.consent.token_set, organisation=organisation)
    except connections.TenantAlreadyConnected:
        return message_page(
            "This organisation is already connected",
            f"The Xero organisation {organisation.tenant_name!r} is already connected to another "
            "partner account, so it was not connected here. Disconnect it there first, or connect a "
            "different organisation.",
            status=409, action=url_for(CONNECT_AGAIN),
        )
    except connections.InvalidTransition:
        return message_page(
            "Xero is already connected",
            "Your account is already linked to another Xero organisation. Disconnect it first, then "
            "connect this one.",
            status=409, action=url_for(CONNECT_AGAIN),
        )
    log.info("partner %s confirmed Xero tenant %s", partner_id, organisation.tenant_id)
    return redirect(url_for(CONNECT_AGAIN, done="connected"))


@blueprint.post("/integrations/xero/disconnect")
@signed_in
def disconnect():
    check_form_token()
    partner_id = signed_in_partner()
    state = _state()
    with state.engine.begin() as conn:
        current = connections.get_connection(conn, partner_id)
    if current is None or current.status not in CAN_DISCONNECT:
        return message_page("Xero is not connected", "There is no Xero connection to disconnect.",
                            status=409, action=url_for(CONNECT_AGAIN))
    if current.token_set_id is not None and current.xero_connection_id:
        app = oauth_app(state)
        try:
            tokens = token_store(state).refresh(current.token_set_id, app.refresh)
            app.disconnect(tokens.access_token, current.xero_connection_id)
        except (NeedsReauth, TenantDisconnected, XeroNotFound) as exc:
            # Xero already forgot us (revoked, removed, unknown connection): nothing left to undo there.
            log.info("partner %s: Xero connection already gone (%s); disconnecting here", partner_id, exc)
        except (XeroError, MalformedXeroPayload) as exc:
            log.warning("partner %s: disconnect at Xero failed: %s", partner_id, exc)
            title, text = explain(exc)
            return message_page(title, text + " Your connection is unchanged.", status=502,
                                action=url_for(CONNECT_AGAIN))
    with state.engine.begin() as conn:
        when = dt.datetime.now(dt.timezone.utc)
        connections.set_status(conn, partner_id, ConnectionStatus.DISCONNECTED,
                               f"Disconnected from the Integrations page on {when:%Y-%m-%d %H:%M} UTC.")
    # Whoever else held a session of this partner (another browser, a stolen cookie) is out now.
    end_all(partner_id, keep_this_one=True)
    log.info("partner %s disconnected Xero tenant %s", partner_id, current.tenant_id)
    return redirect(url_for(CONNECT_AGAIN, done="disconnected"))
