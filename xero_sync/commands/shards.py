"""`xero-sync shards list | where P | move P --to N | rebalance [--apply]`: partner shards.

A partner's shard is recorded in the platform store and changes only through `move` and
`rebalance --apply`; each shard's onboarding sensor then removes or adds the partner's partition
and reports its landed months (xero_sync.sensors.shard_moves), with no Xero call.
"""

from __future__ import annotations

import argparse

from xero_sync.config import Settings
from xero_sync.store import shards as shard_store
from xero_sync.store.db import open_store
from xero_sync.sync import shard_plan as plan
from xero_sync.sync.month_slices import partition_months, utc_today


def _month_count() -> int:
    """The month partitions there are today (UTC, as Dagster's `partitions.months` counts them)."""
    return len(partition_months(utc_today()))


def _location(index: int) -> str:
    return "xero_sync" if index == 0 else f"xero_sync_shard_{index}"


def _prefix(index: int) -> str:
    return "(none)" if index == 0 else f"shard_{index}/"


def run(args: argparse.Namespace) -> int:
    from xero_sync.commands.cli import UserError

    settings = Settings.from_env()
    engine = open_store(args.database_url or settings.database_url)
    try:
        with engine.begin() as conn:
            if args.action == "list":
                return _list(shard_store.counts(conn), settings)
            if args.action == "where":
                try:
                    index = shard_store.shard_of(conn, args.partner)
                except shard_store.UnknownPartnerShard as exc:
                    raise UserError(str(exc)) from None
                print(f"partner {args.partner}: shard {index} (code location {_location(index)}, "
                      f"asset key prefix {_prefix(index)}, partitions {_partitions_name(index)})")
                return 0
            if args.action == "move":
                if args.to >= settings.shard_count:
                    raise UserError(f"--to {args.to}: XERO_SYNC_SHARDS={settings.shard_count}, shards are "
                                    f"0..{settings.shard_count - 1} (raise XERO_SYNC_SHARDS and deploy "
                                    "the new shard's code location first)")
                try:
                    moved = shard_store.move(conn, args.partner, args.to)
                except shard_store.UnknownPartnerShard as exc:
                    raise UserError(str(exc)) from None
                if moved is None:
                    print(f"partner {args.partner} is already in shard {args.to}")
                else:
                    print(f"partner {args.partner}: shard {moved.from_shard} -> {moved.to_shard}; the "
                          "shards' onboarding sensors move its partition and report its months")
                return 0
            moves = plan.rebalance(shard_store.members(conn), settings.shard_count)
            for m in moves:
                print(f"{'move' if args.apply else 'would move'} {m.partner_id}: "
                      f"shard {m.from_shard} -> {m.to_shard}")
                if args.apply:
                    shard_store.move(conn, m.partner_id, m.to_shard)
            print(f"{len(moves)} partner(s) {'moved' if args.apply else 'to move'} over "
                  f"{settings.shard_count} shard(s){'' if args.apply or not moves else ' (run with --apply)'}")
            return 0
    finally:
        engine.dispose()


def _partitions_name(index: int) -> str:
    return "partners" if index == 0 else f"partners_shard_{index}"


def _list(counts: dict[int, int], settings: Settings) -> int:
    months = _month_count()
    room = plan.capacity(settings.shard_partitions, months)
    print(f"{settings.shard_count} shard(s) configured; {months} month partitions; a shard takes up to "
          f"{room} partners (within {settings.shard_partitions:,} partitions per asset for "
          f"{plan.HEADROOM_MONTHS} more months)")
    print("| shard | code location | partners | partitions per asset | state |")
    print("|---:|---|---:|---:|---|")
    for index in sorted(set(range(settings.shard_count)) | set(counts)):
        n = counts.get(index, 0)
        state = ("not configured: rebalance" if index >= settings.shard_count
                 else "over the partition limit: add a shard, rebalance" if n * months > settings.shard_partitions
                 else "full: add a shard before the next partners" if n >= room else "ok")
        print(f"| {index} | {_location(index)} | {n} | {n * months:,} | {state} |")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("shards", help="list partner shards, find or move a partner")
    parser.add_argument("--database-url", help="platform store URL (default: XERO_SYNC_DATABASE_URL)")
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="partners and partitions per shard")
    where = actions.add_parser("where", help="the shard (code location, asset prefix) of a partner")
    where.add_argument("partner")
    move = actions.add_parser("move", help="move a partner to another shard (its data stays)")
    move.add_argument("partner")
    move.add_argument("--to", type=int, required=True, metavar="N")
    rebalance = actions.add_parser("rebalance", help="even out partners over XERO_SYNC_SHARDS shards")
    rebalance.add_argument("--apply", action="store_true", help="make the moves (default: print them)")
    parser.set_defaults(func=run)
