"""`xero-sync signin-link --partner P [--minutes N] [--name NAME]`: a sign-in link for a partner.

Signed like the partner dashboard signs them (HS256 with XERO_SYNC_SIGNIN_SECRET, the configured
issuer and audience), valid for a few minutes and once: for support, and for using real mode on
this machine. With RS256 (XERO_SYNC_SIGNIN_JWKS_URL) only the dashboard holds the private key.
"""

from __future__ import annotations

import argparse
from urllib.parse import urlencode


def _signin_link(args: argparse.Namespace) -> int:
    from xero_sync.commands.cli import UserError
    from xero_sync.config import Settings
    from xero_sync.core.ids import InvalidId, check_partner_id
    from xero_sync.web.app import DEFAULT_PUBLIC_URL
    from xero_sync.web.identity import MAX_LIFETIME_SECONDS, sign_assertion
    from xero_sync.web.settings import SIGNIN_JWKS_URL_ENV, SIGNIN_SECRET_ENV, WebSettings

    settings = Settings.from_env()
    base = settings.public_url or DEFAULT_PUBLIC_URL
    web = WebSettings.of(settings, base)
    if not web.signin.secret:
        where = f"the partner dashboard signs them ({SIGNIN_JWKS_URL_ENV} is set)" if web.signin.jwks_url \
            else f"set {SIGNIN_SECRET_ENV}"
        raise UserError(f"cannot sign a link here: {where}")
    try:
        check_partner_id(args.partner, "--partner")
    except InvalidId as exc:
        raise UserError(str(exc)) from None
    if not 1 <= args.minutes <= MAX_LIFETIME_SECONDS // 60:
        raise UserError(f"--minutes must be between 1 and {MAX_LIFETIME_SECONDS // 60} (links are short-lived)")
    token = sign_assertion(web.signin, args.partner, name=args.name, minutes=args.minutes)
    print(f"{base}/signin/assertion?{urlencode({'token': token})}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("signin-link", help="print a one-time sign-in link for a partner (HS256)")
    p.add_argument("--partner", required=True, help="partner id")
    p.add_argument("--minutes", type=int, default=5, help="valid for N minutes (1-10, default 5)")
    p.add_argument("--name", help="partner name shown on the page (new partners)")
    p.set_defaults(func=_signin_link)
