"""Xero calls made while a person waits on the page, and what to tell them when one fails.

Interactive calls use the same retry policy as syncs but with short pauses between attempts: a
partner looking at a spinner is better served by "try again in a few minutes" after a couple of
seconds than by 30 s of backoff.
"""

from __future__ import annotations

import time

from xero_sync.store.connections import Connection
from xero_sync.store.rate_windows import StoreRateWindows
from xero_sync.store.token_store import SqlTokenStore
from xero_sync.web.app import WebState
from xero_sync.xero.client import XeroClient
from xero_sync.core.errors import (
    DailyLimitReached,
    MalformedXeroPayload,
    NeedsReauth,
    TenantDisconnected,
    XeroError,
    XeroForbidden,
    XeroUnavailable,
)
from xero_sync.xero.oauth import OAuthApp

MAX_INTERACTIVE_PAUSE_SECONDS = 0.5
XERO_DOWN = ("Xero is not answering",
             "Xero is not answering right now, so nothing was changed. Try again in a few minutes.")


def _short_sleep(seconds: float) -> None:
    time.sleep(min(seconds, MAX_INTERACTIVE_PAUSE_SECONDS))


def oauth_app(state: WebState) -> OAuthApp:
    s = state.settings
    return OAuthApp(s.xero, s.client_id, s.client_secret, timeout=(5, 20), sleep=_short_sleep)


def token_store(state: WebState) -> SqlTokenStore:
    return SqlTokenStore(state.engine, state.cipher)


def client_for(state: WebState, connection: Connection) -> XeroClient:
    assert connection.tenant_id and connection.token_set_id is not None
    client = XeroClient(
        endpoints=state.settings.xero,
        tenant_id=connection.tenant_id,
        token_store=token_store(state),
        token_set_id=connection.token_set_id,
        oauth_app=oauth_app(state),
        sleep=_short_sleep,
        timeout=(5, 20),
    )
    # The page's calls count against the app-wide and tenant budgets like the syncs' do.
    client.budget.share(StoreRateWindows(state.engine))
    return client


def explain(exc: XeroError) -> tuple[str, str]:
    """(title, text) for a page about a failed Xero call: what happened and what to do."""
    if isinstance(exc, NeedsReauth):
        return ("Xero needs you to sign in again",
                "Xero no longer accepts this app's sign-in for your organisation. "
                "Use Connect on the Integrations page to authorise it again.")
    if isinstance(exc, TenantDisconnected):
        return ("Your Xero organisation is disconnected",
                "Xero says this app is no longer connected to your organisation. "
                "Use Connect on the Integrations page to connect it again.")
    if isinstance(exc, XeroForbidden):
        return ("Xero refused access to this data",
                "Xero says this app lacks a permission (scope) it needs for this. Your connection "
                "is unchanged; use Connect on the Integrations page to grant the missing access.")
    if isinstance(exc, DailyLimitReached):
        return ("Xero's daily limit reached",
                f"Your organisation used up today's Xero API calls. Try again after "
                f"{exc.resume_at:%Y-%m-%d %H:%M} UTC.")
    if isinstance(exc, MalformedXeroPayload):
        return ("Xero sent an unexpected answer",
                "Xero answered with something this page cannot read, so nothing was changed. "
                "Try again in a few minutes; if it keeps happening, contact support.")
    if isinstance(exc, XeroUnavailable) or (exc.status is not None and exc.status >= 500):
        return XERO_DOWN
    return ("Xero refused the request",
            f"Xero refused the request ({exc}). Nothing was changed; try again, or contact support "
            "if it keeps happening.")
