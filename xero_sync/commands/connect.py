"""`xero-sync connect --sandbox --partner P`: connect a partner through the sandbox's consent page."""

from __future__ import annotations

from xero_sync.config import Settings
from xero_sync.connect.flow import ConnectError, confirm, exchange
from xero_sync.connect.headless import consent_headless
from xero_sync.store import connections
from xero_sync.core.ids import InvalidId, check_partner_id
from xero_sync.store.token_cipher import TokenCipher
from xero_sync.xero.oauth import OAuthApp


def _connect_command(args) -> int:
    from xero_sync.commands.cli import UserError
    from xero_sync.store.db import make_engine, require_folder, upgrade

    try:
        check_partner_id(args.partner, "--partner")
    except InvalidId as exc:
        raise UserError(str(exc)) from None
    settings = Settings.from_env()
    if not args.sandbox:
        raise UserError("only --sandbox can connect without a browser; for real Xero use `xero-sync web`")
    cipher = TokenCipher.for_settings(settings)  # a bad key fails here, before anything is created
    if not settings.store_is_default:
        require_folder(settings.database_url)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        code, redirect_uri = consent_headless(settings, args.tenant)
        consent = exchange(OAuthApp(settings.xero, settings.client_id, settings.client_secret), code, redirect_uri)
        organisation = consent.organisation(args.tenant)
        if organisation is None:
            raise ConnectError(f"Xero did not authorise tenant {args.tenant} in this consent; nothing was connected")
        connection = confirm(
            engine, cipher, partner_id=args.partner,
            partner_name=args.name or args.partner, token_set=consent.token_set,
            organisation=organisation,
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
    p.add_argument("--tenant", help="sandbox tenant id to pick on the consent page (default: the first offered)")
    p.set_defaults(func=_connect_command)
