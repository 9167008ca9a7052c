"""Connecting a partner's Xero organisation: consent, code exchange, confirm.

Used by the Integrations page (browser redirects) and by `xero-sync connect` (which drives the
sandbox's consent form over HTTP, so a demo runs unattended). Confirming stores the tokens
encrypted and sets the connection *Pending*; the onboarding sensor takes it from there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from xero_sync.core.ids import InvalidId, check_partner_id

from xero_sync.store import connections
from xero_sync.store.schema import xero_token_sets
from xero_sync.store.token_cipher import TokenCipher
from xero_sync.store.token_store import SqlTokenStore
from xero_sync.xero.oauth import Connection as XeroConnection
from xero_sync.xero.oauth import OAuthApp
from xero_sync.core.tokens import TokenSet
from xero_sync.store.states import ConnectionStatus


class ConnectError(Exception):
    """Connecting failed; the message says what happened and what to do."""


@dataclass(frozen=True)
class Consent:
    """What came back from Xero's consent page, before the partner confirms.

    `organisations` are those this consent authorised (the connections carrying the access
    token's `authentication_event_id`), so the first is the one just picked on Xero's page, not
    an organisation the same Xero user connected earlier. Only when the token does not name its
    consent are all the user's organisations offered, most recently (re)connected first.
    """

    token_set: TokenSet
    organisations: list[XeroConnection]

    def organisation(self, tenant_id: str | None) -> XeroConnection | None:
        """The organisation to link: `tenant_id` if this consent offers it, else None;
        without a tenant id, the one just authorised."""
        if tenant_id is None:
            return self.organisations[0]
        return next((o for o in self.organisations if o.tenant_id == tenant_id), None)


def _newest_first(orgs: list[XeroConnection]) -> list[XeroConnection]:
    epoch = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    return sorted(orgs, key=lambda o: o.updated_at or o.created_at or epoch, reverse=True)


def exchange(app: OAuthApp, code: str, redirect_uri: str) -> Consent:
    token_set = app.exchange_code(code, redirect_uri)
    event = token_set.auth_event_id
    orgs = [c for c in app.connections(token_set.access_token, event) if c.tenant_type == "ORGANISATION"]
    if not orgs:
        raise ConnectError("Xero returned no organisation for this authorisation; connect again and pick a company")
    return Consent(token_set, orgs if event else _newest_first(orgs))


def confirm(
    engine: sa.Engine,
    cipher: TokenCipher,
    *,
    partner_id: str,
    partner_name: str,
    token_set: TokenSet,
    organisation: XeroConnection,
) -> connections.Connection:
    """Store the tokens (encrypted) and the connection; status becomes pending. A partner id that
    is not a valid slug is refused (ConnectError) before anything is stored."""
    try:
        check_partner_id(partner_id)
    except InvalidId as exc:
        raise ConnectError(str(exc)) from None
    with engine.begin() as conn:
        other = connections.connection_for_tenant(conn, organisation.tenant_id)
        if other is not None and other.partner_id != partner_id and other.status != ConnectionStatus.DISCONNECTED:
            raise connections.TenantAlreadyConnected(
                f"the Xero organisation {organisation.tenant_name!r} is already connected to another "
                "partner; disconnect it there first"
            )
    token_set_id = SqlTokenStore(engine, cipher).save_new(token_set)
    try:
        with engine.begin() as conn:
            connections.ensure_partner(conn, partner_id, partner_name)
            return connections.start_connection(
                conn,
                partner_id,
                tenant_id=organisation.tenant_id,
                tenant_name=organisation.tenant_name,
                xero_connection_id=organisation.id,
                token_set_id=token_set_id,
            )
    except Exception:
        # Refused after the tokens were stored (a race for the tenant, or the partner linked to
        # another organisation meanwhile): leave no orphan token set behind.
        with engine.begin() as conn:
            conn.execute(sa.delete(xero_token_sets).where(xero_token_sets.c.token_set_id == token_set_id))
        raise
