"""`xero-sync` command line: one subcommand per capability, each registered by its own module.

A module in `_COMMANDS` exposes `register(subparsers)`, which adds its subparser and sets
`func(args) -> int`. Errors the user can fix (bad config, unknown partner, refused choices) are
raised as `UserError`/`ConfigError` and printed as one clear line, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

import sqlalchemy as sa

from xero_sync.config import ConfigError

_COMMANDS = (
    "xero_sandbox.cli",  # xero-sync sandbox
    "xero_sync.commands.db",  # xero-sync db upgrade
    "xero_sync.commands.connect",  # xero-sync connect --sandbox
    "xero_sync.demo.main",  # xero-sync demo [--headless]
    "xero_sync.deploy.main",  # xero-sync deploy-local [--shards N] [--tenants T]
    "xero_sync.web.cli",  # xero-sync web [--port 8000]
    "xero_sync.commands.signin_link",  # xero-sync signin-link --partner P [--minutes N]
    "xero_sync.commands.diff",  # xero-sync diff --partner P [--csv FILE]
    "xero_sync.commands.accounts",  # xero-sync accounts --partner P [--list] [--payments-account ..]
    "xero_sync.commands.events",  # xero-sync event payment-taken --partner P --payment-id ..
    "xero_sync.commands.keys",  # xero-sync keys generate | rotate
    "xero_sync.commands.outbox",  # xero-sync outbox held | resume ID | cancel ID
    "xero_sync.commands.shards",  # xero-sync shards list | where P | move P --to N | rebalance
)


class UserError(Exception):
    """An error whose message tells the user what is wrong and what to do."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xero-sync", description="The Xero integration of the Alternative Payments platform."
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module_name in _COMMANDS:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (UserError, ConfigError) as exc:
        print(f"xero-sync {args.command}: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # DatabaseUrlError / StoreMissing: a bad or missing platform store
        from xero_sync.store.db import DatabaseUrlError

        if not isinstance(exc, DatabaseUrlError):
            raise
        print(f"xero-sync {args.command}: {exc}", file=sys.stderr)
        return 2
    except sa.exc.SQLAlchemyError as exc:  # unreachable server, missing database, refused login
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"xero-sync {args.command}: the platform store cannot be used: {reason}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    # Through the package, so `python -m` sees the same UserError class the commands raise.
    from xero_sync.commands.cli import main as package_main

    sys.exit(package_main())
