"""Connecting a partner's Xero organisation: consent, code exchange, confirm.

Used by the Integrations page (browser redirects) and by `xero-sync connect` (which drives the
sandbox's consent form over HTTP, so a demo runs unattended). Confirming stores the tokens
encrypted and sets the connection *Pending*; the onboarding sensor takes it from there.
"""

from __future__ import annotations

import html.parser
import urllib.parse
from dataclasses import dataclass

import sqlalchemy as sa
import urllib3

from xero_sync.config import SCOPES, Settings
from xero_sync.platform import connections
from xero_sync.platform.schema import xero_token_sets
from xero_sync.platform.token_cipher import TokenCipher
from xero_sync.platform.token_store import SqlTokenStore
from xero_sync.xero.oauth import Connection as XeroConnection
from xero_sync.xero.oauth import OAuthApp
from xero_sync.xero.tokens import TokenSet


class ConnectError(Exception):
    """Connecting failed; the message says what happened and what to do."""


@dataclass(frozen=True)
class Consent:
    """What came back from Xero's consent page, before the partner confirms."""

    token_set: TokenSet
    organisations: list[XeroConnection]


def exchange(app: OAuthApp, code: str, redirect_uri: str) -> Consent:
    token_set = app.exchange_code(code, redirect_uri)
    orgs = [c for c in app.connections(token_set.access_token) if c.tenant_type == "ORGANISATION"]
    if not orgs:
        raise ConnectError("Xero returned no organisation for this authorisation; connect again and pick a company")
    return Consent(token_set, orgs)


def confirm(
    engine: sa.Engine,
    cipher: TokenCipher,
    *,
    partner_id: str,
    partner_name: str,
    token_set: TokenSet,
    organisation: XeroConnection,
) -> connections.Connection:
    """Store the tokens (encrypted) and the connection; status becomes pending."""
    with engine.begin() as conn:
        other = connections.connection_for_tenant(conn, organisation.tenant_id)
        if other is not None and other.partner_id != partner_id and other.status != "disconnected":
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


class _ConsentForm(html.parser.HTMLParser):
    """Reads the hidden fields and the organisations offered on the sandbox's consent page."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden: dict[str, str] = {}
        self.tenants: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "input" and a.get("type") == "hidden" and a.get("name"):
            self.hidden[a["name"]] = a.get("value") or ""
        if tag == "input" and a.get("type") == "radio" and a.get("name") == "tenant_id":
            self.tenants.append(a.get("value") or "")


def consent_headless(settings: Settings, tenant_id: str | None = None) -> tuple[str, str]:
    """Click through the sandbox consent page over HTTP; returns (code, redirect_uri).

    Only for the bundled sandbox: real Xero's consent needs a person in a browser.
    """
    if not settings.uses_sandbox:
        raise ConnectError("headless connect only works against the sandbox; use the Integrations page for real Xero")
    redirect_uri = "http://127.0.0.1/xero/callback"
    app = OAuthApp(settings.xero, settings.client_id, settings.client_secret)
    http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=5, read=30))
    try:
        page = http.request("GET", app.authorize_url("headless", redirect_uri, SCOPES))
    except urllib3.exceptions.HTTPError as exc:
        raise ConnectError(
            f"cannot reach the Xero sandbox at {settings.xero.authorize_url} ({exc.__class__.__name__}); "
            "start it with `xero-sync sandbox` or set XERO_SYNC_SANDBOX_URL"
        ) from None
    if page.status != 200:
        raise ConnectError(f"sandbox consent page answered HTTP {page.status}")
    form = _ConsentForm()
    form.feed(page.data.decode())
    if not form.tenants:
        raise ConnectError("the sandbox offers no organisation to connect")
    chosen = tenant_id or form.tenants[0]
    if chosen not in form.tenants:
        raise ConnectError(f"tenant {chosen} is not one of the sandbox's organisations {form.tenants}")
    answer = http.request(
        "POST", settings.xero.authorize_url, redirect=False,
        fields={**form.hidden, "tenant_id": chosen, "action": "allow"}, encode_multipart=False,
    )
    location = answer.headers.get("Location", "")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    if answer.status != 302 or "code" not in query:
        raise ConnectError(f"sandbox consent did not return a code (HTTP {answer.status})")
    return query["code"][0], redirect_uri


def _connect_command(args) -> int:
    from xero_sync.cli import UserError
    from xero_sync.platform.db import make_engine, upgrade

    settings = Settings.from_env()
    if not args.sandbox:
        raise UserError("only --sandbox can connect without a browser; for real Xero use `xero-sync web`")
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        code, redirect_uri = consent_headless(settings, args.tenant)
        consent = exchange(OAuthApp(settings.xero, settings.client_id, settings.client_secret), code, redirect_uri)
        connection = confirm(
            engine, TokenCipher.from_env(settings.home), partner_id=args.partner,
            partner_name=args.name or args.partner, token_set=consent.token_set,
            organisation=consent.organisations[0],
        )
    except (ConnectError, connections.TenantAlreadyConnected) as exc:
        raise UserError(str(exc)) from None
    print(f"partner {connection.partner_id} connected to {connection.tenant_name!r} "
          f"(tenant {connection.tenant_id}); status {connection.status}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("connect", help="connect a partner to the Xero sandbox without a browser")
    p.add_argument("--sandbox", action="store_true", help="drive the sandbox's consent page over HTTP")
    p.add_argument("--partner", required=True, help="partner id (lowercase slug)")
    p.add_argument("--name", help="partner display name")
    p.add_argument("--tenant", help="sandbox tenant id (default: the first organisation)")
    p.set_defaults(func=_connect_command)
