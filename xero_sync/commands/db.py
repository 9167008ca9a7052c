"""`xero-sync db upgrade [--url URL]`: migrate the platform store to the latest revision."""

from __future__ import annotations

import argparse

import sqlalchemy as sa

from xero_sync.config import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    db = subparsers.add_parser("db", help="platform store (database) maintenance")
    actions = db.add_subparsers(dest="db_command", required=True)
    up = actions.add_parser("upgrade", help="apply Alembic migrations up to the latest revision")
    up.add_argument("--url", help="database URL (default: XERO_SYNC_DATABASE_URL or the embedded SQLite)")
    up.add_argument("--revision", default="head", help="target revision (default: head)")
    up.set_defaults(func=_upgrade)


def _upgrade(args: argparse.Namespace) -> int:
    from xero_sync.commands.cli import UserError
    from xero_sync.store.db import DatabaseUrlError, normalize_url, require_folder, upgrade

    settings = Settings.from_env()
    url = args.url or settings.database_url
    try:
        shown = normalize_url(url).render_as_string(hide_password=True)
        if args.url or not settings.store_is_default:
            require_folder(url)  # a URL someone gave: do not invent folders for it
        revision = upgrade(url, args.revision)
    except DatabaseUrlError as exc:
        raise UserError(str(exc)) from None
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise UserError(f"cannot reach the database at {shown}: {reason}") from None
    except sa.exc.SQLAlchemyError as exc:
        raise UserError(f"migrating {shown} failed: {exc}") from None
    print(f"platform store at {shown} is at revision {revision}")
    return 0
