"""`xero-sync diff --partner P [--csv FILE]`: print or export the partner's latest stored diff."""

from __future__ import annotations

import argparse

from xero_sync.config import Settings
from xero_sync.store.db import open_store
from xero_sync.reconciliation.diffs import latest_diff
from xero_sync.sync import reconcile


def run(args: argparse.Namespace) -> int:
    from xero_sync.commands.cli import UserError

    engine = open_store(args.database_url or Settings.from_env().database_url)
    try:
        with engine.connect() as conn:
            diff = latest_diff(conn, args.partner)
    finally:
        engine.dispose()
    if args.csv:
        diff.to_csv(args.csv, index=False)
        print(f"{len(diff)} differences for {args.partner} written to {args.csv}")
        return 0
    if diff.empty:
        print(f"No stored differences for partner {args.partner} "
              "(the diff is empty, or reconciliation_diff has not run for this partner yet).")
        return 0
    computed = diff["computed_at"].iloc[0]
    open_rows = reconcile.unexplained(diff)
    print(f"Reconciliation diff for {args.partner}, computed {computed:%Y-%m-%d %H:%M} UTC: "
          f"{len(diff)} differences, {len(open_rows)} unexplained")
    for kind, n in reconcile.summary(diff).items():
        print(f"  {kind}: {n}")
    shown = diff.drop(columns=["computed_at"])
    print(shown.astype(object).where(shown.notna(), "").to_markdown(index=False))
    if args.fail_on_unexplained and not open_rows.empty:
        raise UserError(f"{len(open_rows)} unexplained differences for partner {args.partner}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("diff", help="show the latest reconciliation diff of a partner")
    parser.add_argument("--partner", required=True, help="partner id (slug)")
    parser.add_argument("--csv", metavar="FILE", help="write the diff to FILE as CSV instead")
    parser.add_argument("--database-url", help="platform store URL (default: XERO_SYNC_DATABASE_URL)")
    parser.add_argument("--fail-on-unexplained", action="store_true",
                        help="exit 2 when unexplained differences exist")
    parser.set_defaults(func=run)
