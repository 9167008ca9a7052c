"""`xero-sync accounts --partner P`: Set Up Accounts from the command line.

Without choices (or with --list) it prints the partner's Xero chart of accounts grouped by the
roles each account qualifies for. With choices (account code or AccountID per role) it validates
them with `sync.account_roles` (a refusal names the rule) and saves them, which releases pushes
that were waiting for accounts. Roles not given keep their current choice.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa

from xero_sync.store import connections
from xero_sync.store.schema import outbox
from xero_sync.store.states import OutboxStatus
from xero_sync.sync import account_roles
from xero_sync.sync.account_roles import ROLE_LABELS, ROLES, AccountChoice
from xero_sync.xero.client import XeroClient
from xero_sync.core.records import AccountRecord

if TYPE_CHECKING:
    from xero_sync.config import Settings

_OPTION = {role: f"{role}_account" for role in ROLES}


def chart_by_role(accounts: Sequence[AccountRecord], current: Mapping[str, str | None]) -> str:
    """The chart grouped by role, the current choice marked with '*'."""
    lines: list[str] = []
    for role, fitting in account_roles.candidates(accounts).items():
        lines.append(f"{ROLE_LABELS[role]} (--{role}-account): {account_roles.ROLE_RULES[role]}")
        if not fitting:
            lines.append("  (no account in this chart qualifies)")
        for account in fitting:
            mark = "*" if current.get(role) and current[role] == account.account_id else " "
            lines.append(f" {mark} {account.code or '-':>6}  {account.name}  [{account.type}]  "
                         f"{account.account_id}")
    return "\n".join(lines)


def resolve(accounts: Sequence[AccountRecord], code_or_id: str) -> str:
    """An AccountID for a code or id (case-insensitive); unknown values pass through so the
    validation names them."""
    wanted = code_or_id.strip().lower()
    for account in accounts:
        if account.account_id.lower() == wanted or (account.code or "").lower() == wanted:
            return account.account_id
    return code_or_id.strip()


def current_choice(connection: connections.Connection) -> dict[str, str | None]:
    return {
        "payments": connection.payments_account_id, "deposit": connection.deposit_account_id,
        "fees": connection.fees_account_id, "income": connection.income_account_id,
    }


FEES_AS = ("line", "spend")  # a negative line on the payout deposit | a separate SPEND


def choose_accounts(engine: sa.Engine, client: XeroClient, partner_id: str,
                    given: Mapping[str, str | None],
                    fees_as: str | None = None) -> tuple[AccountChoice, int]:
    """Validate `given` {role: code or id} (merged over the current choice) and save it, with
    the fees setting `fees_as` (FEES_AS; None keeps the partner's).

    Returns the saved choice and how many waiting pushes it released. Raises
    account_roles.AccountChoiceError (refused) or connections errors (not connected).
    """
    if fees_as is not None and fees_as not in FEES_AS:
        raise ValueError(f"fees must be booked as one of {FEES_AS}, got {fees_as!r}")
    with engine.connect() as conn:
        connection = _connection(conn, partner_id)
    accounts = client.accounts().records
    chosen = current_choice(connection)
    chosen.update({role: resolve(accounts, value) for role, value in given.items() if value})
    choice = account_roles.validate_choice(accounts, chosen)
    with engine.begin() as conn:
        waiting = conn.execute(
            sa.select(sa.func.count()).select_from(outbox)
            .where(outbox.c.partner_id == partner_id, outbox.c.status == OutboxStatus.WAITING_ACCOUNTS)
        ).scalar_one()
        connections.set_accounts(
            conn, partner_id, payments_account_id=choice.payments_account_id,
            payments_account_is_bank=choice.payments_account_is_bank,
            deposit_account_id=choice.deposit_account_id, fees_account_id=choice.fees_account_id,
            income_account_id=choice.income_account_id,
            fees_as_spend=None if fees_as is None else fees_as == "spend",
        )
    return choice, waiting


def _connection(conn: sa.Connection, partner_id: str) -> connections.Connection:
    from xero_sync.commands.cli import UserError

    connection = connections.get_connection(conn, partner_id)
    if connection is None or connection.tenant_id is None:
        raise UserError(f"partner {partner_id!r} is not connected to Xero; run 'xero-sync connect' first")
    return connection


def _fees_as(engine: sa.Engine, partner_id: str) -> str:
    with engine.connect() as conn:
        spend = _connection(conn, partner_id).fees_as_spend
    return ("a separate SPEND from the deposit account" if spend
            else "a negative line on the payout deposit")


def run(args: argparse.Namespace) -> int:
    from xero_sync.config import Settings
    from xero_sync.store.db import open_store

    settings = Settings.from_env()
    engine = open_store(args.database_url or settings.database_url)  # exists, migrated
    try:
        return _run(args, engine, settings)
    finally:
        engine.dispose()


def _run(args: argparse.Namespace, engine: sa.Engine, settings: Settings) -> int:
    from xero_sync.commands.cli import UserError
    from xero_sync.connect.clients import NotConnected, XeroClients

    clients = XeroClients.from_settings(engine, settings, sandbox_url=args.sandbox_url)
    with engine.connect() as conn:
        connection = _connection(conn, args.partner)
    try:
        client = clients.client_for(connection)
    except NotConnected as exc:
        raise UserError(str(exc)) from None
    given = {role: getattr(args, _OPTION[role]) for role in ROLES}
    if args.list or not (any(given.values()) or args.fees_as):
        accounts = client.accounts().records
        print(f"Chart of accounts of {connection.tenant_name or connection.tenant_id} "
              f"(partner {args.partner}), by role:")
        print(chart_by_role(accounts, current_choice(connection)))
        print(f"Payout fees (--fees-as): {_fees_as(engine, args.partner)}")
        return 0
    try:
        choice, released = choose_accounts(engine, client, args.partner, given, args.fees_as)
    except account_roles.AccountChoiceError as exc:
        raise UserError("choice refused: " + "; ".join(exc.messages)) from None
    except connections.ConnectionLifecycleError as exc:
        raise UserError(str(exc)) from None
    kind = "BANK" if choice.payments_account_is_bank else "payments-enabled"
    print(f"Accounts saved for {args.partner}: payments {choice.payments_account_id} ({kind}), "
          f"deposit {choice.deposit_account_id}, fees {choice.fees_account_id or '-'}, "
          f"income {choice.income_account_id or '-'}; payout fees as {_fees_as(engine, args.partner)}; "
          f"{released} waiting pushes released.")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("accounts", help="list or set a partner's Xero accounts")
    parser.add_argument("--partner", required=True, help="partner id (slug)")
    parser.add_argument("--list", action="store_true", help="list the chart of accounts by role")
    for role in ROLES:
        parser.add_argument(f"--{role}-account", dest=_OPTION[role], metavar="CODE_OR_ID",
                            help=f"{ROLE_LABELS[role]}: account code or AccountID")
    parser.add_argument("--fees-as", choices=FEES_AS,
                        help="book payout fees as a negative line on the payout deposit (line, the "
                             "default) or as a separate SPEND from the deposit account (spend)")
    parser.add_argument("--database-url", help="platform store URL (default: XERO_SYNC_DATABASE_URL)")
    parser.add_argument("--sandbox-url", help="talk to this sandbox instead of the configured Xero")
    parser.set_defaults(func=run)
