"""Set Up Accounts: pick the payments, deposit, fees and income accounts from Xero's chart.

Only once *Connected*. The chart is read from Xero on every visit and again on save, so a choice
is validated against the accounts as they are now (an account archived meanwhile is refused).
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from xero_sync.store import connections
from xero_sync.sync.account_roles import (
    ROLE_LABELS,
    ROLE_RULES,
    ROLES,
    AccountChoiceError,
    candidates,
    describe,
    validate_choice,
)
from xero_sync.web.app import EXTENSION, WebState
from xero_sync.web.errors import message_page
from xero_sync.web.signin import check_form_token, form_token, signed_in, signed_in_partner
from xero_sync.web.xero_access import client_for, explain
from xero_sync.core.errors import XeroError
from xero_sync.store.states import ConnectionStatus

blueprint = Blueprint("accounts", __name__)


def _state() -> WebState:
    return current_app.extensions[EXTENSION]


def _connected():
    """The partner's connection if connected, else a page response explaining why not."""
    with _state().engine.begin() as conn:
        current = connections.get_connection(conn, signed_in_partner())
    if current is None or current.status != ConnectionStatus.CONNECTED:
        status = "not connected" if current is None else current.status.replace("_", " ")
        return None, message_page(
            "Set Up Accounts is not available yet",
            f"Accounts can be set up once your Xero connection shows Connected (it is {status} now).",
            status=409, action=url_for("integrations.page"),
        )
    return current, None


def _chart(current):
    try:
        return client_for(_state(), current).accounts().records, None
    except XeroError as exc:
        title, text = explain(exc)
        return None, message_page(title, text, status=502, action=url_for("integrations.page"))


def _form(current, chart, chosen: dict, errors: list[str], status: int = 200,
          fees_as_spend: bool | None = None):
    return render_template(
        "accounts.html",
        tenant_name=current.tenant_name,
        roles=ROLES,
        labels=ROLE_LABELS,
        rules=ROLE_RULES,
        options={role: [(a.account_id, describe(a)) for a in accs] for role, accs in candidates(chart).items()},
        chosen=chosen,
        fees_as_spend=current.fees_as_spend if fees_as_spend is None else fees_as_spend,
        errors=errors,
        form_token=form_token(),
    ), status


@blueprint.get("/integrations/xero/accounts")
@signed_in
def form():
    current, refusal = _connected()
    if refusal:
        return refusal
    chart, failure = _chart(current)
    if failure:
        return failure
    chosen = {
        "payments": current.payments_account_id,
        "deposit": current.deposit_account_id,
        "fees": current.fees_account_id,
        "income": current.income_account_id,
    }
    return _form(current, chart, chosen, [])


@blueprint.post("/integrations/xero/accounts")
@signed_in
def save():
    check_form_token()
    current, refusal = _connected()
    if refusal:
        return refusal
    chart, failure = _chart(current)
    if failure:
        return failure
    chosen = {role: (request.form.get(role) or "").strip() or None for role in ROLES}
    fees_as = request.form.get("fees_as")  # absent: keep the partner's setting
    if fees_as not in (None, "line", "spend"):
        return _form(current, chart, chosen, [f"Fees must be booked as a line or a spend, not {fees_as!r}."],
                     status=400)
    try:
        choice = validate_choice(chart, chosen)
    except AccountChoiceError as exc:
        return _form(current, chart, chosen, exc.messages, status=400,
                     fees_as_spend=None if fees_as is None else fees_as == "spend")
    with _state().engine.begin() as conn:
        connections.set_accounts(
            conn, current.partner_id,
            payments_account_id=choice.payments_account_id,
            payments_account_is_bank=choice.payments_account_is_bank,
            deposit_account_id=choice.deposit_account_id,
            fees_account_id=choice.fees_account_id,
            income_account_id=choice.income_account_id,
            fees_as_spend=None if fees_as is None else fees_as == "spend",
        )
    return redirect(url_for("integrations.page", done="accounts"))
